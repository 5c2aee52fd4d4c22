"""Text as people send it, made one canonical form at the edge: free text NFC-normalised and
free of characters that hide or reorder what staff and SMS recipients see; digits of any
script as ASCII, so a number written in fullwidth or Arabic-Indic digits is the same number."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the direction
# marks (LRM, RLM, ALM): they make a name read differently from what is stored.
FORBIDDEN = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
LINE_BREAKS = frozenset("\n\t")  # allowed where text may span lines (notes, reasons)


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` NFC-normalised and trimmed; ValueError for control characters (C0, C1, DEL),
    bidi controls, lone surrogates, line separators outside `multiline` text, or nothing
    visible at all."""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n") if multiline else value)
    allowed = LINE_BREAKS if multiline else frozenset()
    for char in text:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp") or char in FORBIDDEN:
            raise ValueError(
                f"must not contain control or bidi characters (found U+{ord(char):04X})"
            )
    text = text.strip()
    if text and all(c.isspace() or unicodedata.category(c) == "Cf" for c in text):
        raise ValueError("must not be blank")
    return text


def _required(text: str) -> str:
    if not text:
        raise ValueError("must not be blank")
    return text


# Every free-text field a citizen or staff member sends is one of these; their lengths are
# set where they are used (`Field(max_length=...)`), counted on the text as sent.
Line = Annotated[str, AfterValidator(clean_text), AfterValidator(_required)]  # a name
Lines = Annotated[  # a reason: may span lines, not blank
    str, AfterValidator(lambda v: clean_text(v, multiline=True)), AfterValidator(_required)
]
Note = Annotated[str, AfterValidator(lambda v: clean_text(v, multiline=True))]  # may be empty


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit of any script (fullwidth, Arabic-Indic, ...) as ASCII."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
