"""Where a field of a TOML file is written: the line of every table and key, found by reading
the raw text (tomllib gives values, not positions).

Paths are as pydantic reports them: `("sites", 2, "staff", 0, "hours", "mon")` is the `mon` of
the first `[[sites.staff]]` of the third `[[sites]]`. Keys of an inline table (`hours = { mon =
... }`) are on the line of their table. A path that is not written (a missing field) is found
at its nearest written parent, so every problem has a line.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_STRING = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\s.\"']+?)\s*=")
_INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_-]+)\s*=")


def _blank_strings(text: str) -> str:
    """The text with every string's content removed (its line breaks kept), so that `#`, `=`,
    brackets and braces inside strings are not read as TOML."""
    return _STRING.sub(lambda m: '""' + "\n" * m.group(0).count("\n"), text)


def _key_parts(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


class KeyLines:
    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {}
        arrays: dict[Path, int] = {}  # an array of tables → how many so far
        table: Path = ()
        depth = 0  # open brackets of a value spanning lines
        for number, raw in enumerate(_blank_strings(text).splitlines(), start=1):
            line = raw.split("#", 1)[0]
            if depth > 0:
                depth += _depth(line)
                continue
            header = _HEADER.match(line)
            if header:
                table = self._table(header.group(1) == "[[", _key_parts(header.group(2)), arrays)
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key is None:
                continue
            path = table + _key_parts(key.group(1))
            self.lines.setdefault(path, number)
            value = line[key.end() :]
            for inline in _INLINE_KEY.finditer(value):
                self.lines.setdefault((*path, inline.group(1)), number)
            depth = _depth(value)

    @staticmethod
    def _table(is_array: bool, parts: tuple[str, ...], arrays: dict[Path, int]) -> Path:
        path: Path = ()
        for part in parts[:-1]:
            path = (*path, part)
            if path in arrays:
                path = (*path, arrays[path] - 1)
        path = (*path, parts[-1])
        if not is_array:
            return path
        arrays[path] = arrays.get(path, 0) + 1
        return (*path, arrays[path] - 1)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest written parent; None for the file as a whole."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def _depth(text: str) -> int:
    return text.count("[") + text.count("{") - text.count("]") - text.count("}")
