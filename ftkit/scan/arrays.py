"""JSON array files, read element by element: each element's index, the line it starts on and
its text, with the careful parse (``array_items``, for convert) or without (``array_spans``, for
validate's fast path). The reader (``ftkit.scan.reader``) reads JSON Lines; this is its sibling
for the one other container a chat dataset comes in as text."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ftkit.scan.parse import DECODER, Parsed, walk_findings
from ftkit.scan.reader import stamp


class ArrayError(ValueError):
    """A JSON array file that is not valid JSON: where (line, column) and why."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def array_items(text: str) -> Iterator[tuple[int, int, str, Parsed]]:
    """The elements of a JSON array file, each with its index, the line it starts on, its
    original text and its careful parse (findings carry that line; pointers are inside the
    element). A file that is not one valid JSON array raises ``ArrayError`` (at the element
    where it breaks): its records cannot be told apart, so none is guessed at."""
    for index, line, source, value in _elements(text, DECODER.raw_decode):
        yield index, line, source, Parsed(value, True, stamp(walk_findings(value), line))


_PLAIN = json.JSONDecoder()


def array_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``array_items`` without the careful parse: each element's index, line and text, found by
    the C scanner alone (several times faster); the caller parses what it needs. Raises the same
    ``ArrayError``."""
    for index, line, source, _ in _elements(text, _PLAIN.raw_decode):
        yield index, line, source


def _elements(text: str, scan: Callable[[str, int], tuple[Any, int]]) -> Iterator[tuple[int, int, str, Any]]:
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "[":
        raise ArrayError("the file is not a JSON array", 1, 1)
    pos, line, index, counted = _skip(text, pos + 1), 1, 0, 0
    if text[pos : pos + 1] == "]":
        return
    while True:
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, end = scan(text, pos)
        except RecursionError:
            raise ArrayError(f"element {index:,} is nested too deep to parse", line, _column(text, pos)) from None
        except ValueError as exc:  # json.JSONDecodeError
            where = getattr(exc, "pos", pos)
            raise ArrayError(
                f"element {index:,}: {getattr(exc, 'msg', exc)}", line + text.count("\n", pos, where), _column(text, where)
            ) from None
        yield index, line, text[pos:end], value
        index += 1
        pos = _skip(text, end)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
            continue
        if text[pos : pos + 1] == "]" and not text[pos + 1 :].strip():
            return
        line += text.count("\n", counted, pos)
        counted = pos
        got = "the end of the file" if pos >= len(text) else repr(text[pos : pos + 1])
        raise ArrayError(f"expected ',' or ']' after element {index - 1:,}, found {got}", line, _column(text, pos))


def _column(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1) + 1


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
