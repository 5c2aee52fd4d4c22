"""What is wrong with a seed file, where: the file, the line and the field of each problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import typer
from pydantic import ValidationError

from services.booking.domain.opening_hours import WEEKDAYS
from services.booking.seed.file_model import FIELD_NAMES, FIELD_TABLES
from services.booking.seed.lines import KeyLines, Path


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str  # dotted, as the TOML tables name it: sites.staff.competences
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


# The ClickException of the click that typer runs on (its own copy in recent typer): the
# command line prints one as its error, without a traceback, and exits with its code (1).
_ClickException: type[Exception] = next(
    base for base in typer.BadParameter.__mro__ if base.__name__ == "ClickException"
)


class SeedError(_ClickException):  # type: ignore[misc,valid-type]
    """A seed file that is not applied: every problem of it, one a line. `borgerservice seed`
    prints it without a traceback and exits 1."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} {noun} in the seed, nothing was applied:\n{lines}")


def nearest(word: str, known: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest of `known`, or nothing."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def field_name(path: Path) -> str:
    return ".".join(str(part) for part in path if isinstance(part, str))


class Located:
    """Problems of one file, each at the line where its field is written."""

    def __init__(self, file: FilePath | str, text: str) -> None:
        self.file = str(file)
        self.lines = KeyLines(text)

    def at(self, path: Path, message: str) -> Problem:
        return Problem(self.file, self.lines.line_of(path), field_name(path), message)

    def of_validation(self, error: ValidationError) -> list[Problem]:
        return [self.at(tuple(e["loc"]), _message(e)) for e in error.errors()]


def _message(error: Any) -> str:
    loc, kind, given = error["loc"], error["type"], error.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        if len(loc) >= 2 and loc[-2] == "hours":
            return f"unknown weekday {name!r}; use {', '.join(WEEKDAYS)}{nearest(name, WEEKDAYS)}"
        if name in FIELD_TABLES:  # a field of the format, in the wrong table
            return f"{name!r} is not a field here; it belongs in {' or '.join(FIELD_TABLES[name])}"
        return f"unknown field {name!r}{nearest(name, FIELD_NAMES)}"
    if kind == "missing":
        return "missing: this field is required"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type"):
        return f"{message} (given {given!r}, {_toml_kind(given)})"
    if kind == "value_error" or not isinstance(given, int | float | str):
        return message
    return f"{message} (given {given!r})"


def _toml_kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)
