"""The careful parse of one record's text: the value it holds, or exactly why it holds none.

The fast parser (orjson) reads most lines; this runs only for text it could not vouch for, so it
can afford to explain what is wrong: NaN and numbers that overflow to infinity, integers too
long for common parsers, duplicate keys (which every parser hides), lone surrogates, two values
on one line, Python-style quotes, a record cut short. Findings carry no line (``line=None``):
the reader stamps it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ftkit.findings import Finding

#: Python's json refuses integers longer than this by default (sys.get_int_max_str_digits).
MAX_INT_DIGITS = 4300


class _Pairs(dict):  # type: ignore[type-arg]  # a dict subclass; the key and value types vary
    """A dict that remembers which keys it saw more than once (what json would hide)."""

    __slots__ = ("duplicates",)
    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = _Pairs(pairs)
    obj.duplicates = []
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and key not in obj.duplicates:
                obj.duplicates.append(key)
            seen.add(key)
    return obj


class NonFinite(float):
    """Stands in for NaN, Infinity or a number that overflows (1e999), with the text as written."""

    __slots__ = ("literal",)
    literal: str


def _non_finite(value: float, literal: str) -> float:
    marked = NonFinite(value)
    marked.literal = literal
    return marked


def _constant(literal: str) -> float:
    return _non_finite(float(literal.replace("Infinity", "inf")), literal)


def _float(text: str) -> float:
    value = float(text)
    return _non_finite(value, text) if math.isinf(value) else value


class LongInt:
    """An integer with more digits than Python's json reads, kept as its text. Not an int and
    not a str, so that nothing writes it back as something else."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"LongInt({len(self.text)} digits)"


def _int(text: str) -> int | LongInt:
    return int(text) if len(text) <= MAX_INT_DIGITS else LongInt(text)


#: The careful decoder: duplicate keys remembered, NaN and overflows marked, long integers kept.
DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_constant, parse_float=_float, parse_int=_int)


def escape_pointer(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def walk_findings(obj: Any) -> list[Finding]:
    """Duplicate keys, non-finite numbers, over-long integers and lone surrogates anywhere."""
    out: list[Finding] = []
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                message = f"key {key!r} appears more than once in this object; only the last value would be kept"
                out.append(Finding(None, "FT010", path + "/" + escape_pointer(key), message))
            for key, item in value.items():
                if has_surrogate(key):
                    message = f"key {key!r} holds an unpaired surrogate escape; it is not a valid character"
                    out.append(Finding(None, "FT016", path, message))
                stack.append((path + "/" + escape_pointer(key), item))
        elif isinstance(value, list):
            stack.extend((f"{path}/{i}", item) for i, item in enumerate(value))
        elif isinstance(value, NonFinite):
            what = (
                value.literal
                if value.literal in ("NaN", "Infinity", "-Infinity")
                else f"{_short(value.literal)} (it overflows to infinity)"
            )
            message = f"{what} is not valid JSON; use null or a string, and write JSON with allow_nan=False"
            out.append(Finding(None, "FT009", path, message))
        elif isinstance(value, LongInt):
            message = (f"an integer of {len(value.text.lstrip('-')):,} digits; Python's json (and many other parsers) refuse integers "
                       f"over {MAX_INT_DIGITS:,} digits: write it as a string")  # fmt: skip
            out.append(Finding(None, "FT018", path, message))
        elif isinstance(value, str) and has_surrogate(value):
            message = "the string holds an unpaired surrogate escape (like \\ud800); it is not a valid character"
            out.append(Finding(None, "FT016", path, message))
    out.sort(key=lambda f: f.pointer)
    return out


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "..."


def has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Parsed:
    """The careful parse of one text: the value (if any), findings, and whether it looks cut off."""

    __slots__ = ("findings", "incomplete", "ok", "value")

    def __init__(self, value: Any, ok: bool, findings: list[Finding], incomplete: bool = False) -> None:
        self.value, self.ok, self.findings, self.incomplete = value, ok, findings, incomplete


def not_utf8(raw: bytes, exc: UnicodeDecodeError) -> Finding:
    """FT003 for a line's bytes that are not UTF-8."""
    byte = raw[exc.start : exc.start + 1]
    return Finding(None, "FT003", "", f"invalid UTF-8 at byte {exc.start + 1:,} of the line ({byte!r}); re-save the file as UTF-8")


def parse_bytes(raw: bytes) -> Parsed:
    """Parse one record's bytes (no line terminator, no BOM) with full diagnostics."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Parsed(None, False, [not_utf8(raw, exc)])
    return parse_text(text)


def parse_text(text: str) -> Parsed:
    try:
        value = DECODER.decode(text)
    except RecursionError:
        return Parsed(None, False, [Finding(None, "FT014", "", "JSON nested too deep to parse; a chat record needs only a few levels")])
    except json.JSONDecodeError as exc:
        return _explain(text, exc)
    return Parsed(value, True, walk_findings(value))


def _explain(text: str, exc: json.JSONDecodeError) -> Parsed:
    where = f"column {exc.colno:,}"
    msg = exc.msg.removesuffix(" at")  # "Invalid control character at" reads badly before ours
    body = text.rstrip()

    def invalid(message: str, incomplete: bool = False) -> Parsed:
        return Parsed(None, False, [Finding(None, "FT006", "", message)], incomplete)

    if msg == "Extra data":
        if text[exc.pos :].lstrip().startswith(":"):  # `"key": ...`: one line of a spread-out object
            return invalid(
                f"the line is a key and value without their object ({where}); a record spread over several lines? write each record on one line"
            )
        return Parsed(
            None,
            False,
            [Finding(None, "FT007", "", f"a second JSON value starts at {where} after a complete one; put each record on its own line")],
        )
    if "\x00" in text:
        return invalid(f"the line contains NUL bytes (binary data?); JSON error at {where}: {msg}")
    lead = body.lstrip()
    if lead.startswith(("{'", "[{'", "{ '")) or "'role'" in text or "'messages'" in text:
        hint = "it looks like a Python dict (single quotes): write records with json.dumps, not str()"
    elif exc.pos >= len(body) and lead[:1] in ("{", "["):
        return invalid(
            f"the line ends before the JSON value is complete ({msg} at {where}); a record cut short or spread over several lines", True
        )
    elif "True" in text or "False" in text or "None" in text:
        hint = "Python literals True/False/None are not JSON: use true/false/null"
    else:
        hint = "fix the JSON syntax"
    return invalid(f"invalid JSON: {msg} at {where}; {hint}")
