"""Stream a file into lines and turn one line's bytes into a record or a precise parse error.

The fast path (``orjson``) lives in ``ftkit.scan.engine``; this module is the careful path that runs
only for lines the fast path could not vouch for, so it can afford to explain exactly what is
wrong: invalid UTF-8, NaN, duplicate keys, two values on one line, Python-style quotes, ...
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

CHUNK = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"

# (code, message) for files that are not UTF-8 text at all.
_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
]

Diagnosis = tuple[str, str, str]  # (code, pointer, message)


def sniff(head: bytes) -> Diagnosis | None:
    """Recognise files that are not UTF-8 JSON Lines from their first bytes."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return ("FT012", "", f"the file is {kind}-compressed, not plain text; decompress it first")
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return ("FT011", "", "the file is UTF-32 encoded; re-save it as UTF-8")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("FT011", "", "the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark); re-save it as UTF-8")
    sample = head[:8192]
    if sample and sample.count(0) * 4 >= len(sample):
        return ("FT011", "", "the file looks UTF-16 encoded (every other byte is NUL); re-save it as UTF-8")
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if controls > max(8, len(sample) // 20):
        return ("FT011", "", "the file looks binary (control bytes in its first 8 KiB), not UTF-8 JSON Lines text")
    stripped = sample.lstrip(UTF8_BOM).lstrip()
    if stripped.startswith(b"[") and not stripped.startswith(b"[]"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        if first_line == b"[" or first_line.startswith((b"[{", b"[ {")) and not first_line.endswith(b"]"):
            return ("FT017", "", "the file is one JSON array, not one record per line; convert it with `ftkit convert` or write one object per line")
    return None


def iter_lines(stream: IO[bytes], max_line_bytes: int, limit: int = -1) -> Iterator[bytes | int]:
    """Yield each physical line without its ``\\n`` (a ``\\r`` stays), reading at most
    ``limit`` bytes from the stream's position (all of it when negative).

    A line longer than ``max_line_bytes`` is yielded as its length (an ``int``) instead of its
    bytes, so a file without newlines never has to fit in memory.
    """
    parts: list[bytes] = []
    held = 0
    skipping = False
    while limit and (chunk := stream.read(CHUNK if limit < 0 else min(CHUNK, limit))):
        limit -= len(chunk) if limit > 0 else 0
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if lines:
            first = lines[0]
            if skipping:
                yield held + len(first)
                lines = lines[1:]
                skipping = False
            elif parts:
                lines[0] = b"".join(parts) + first
            parts, held = [], 0
            for line in lines:
                if len(line) > max_line_bytes:
                    yield len(line)
                else:
                    yield line
        if tail:
            held += len(tail)
            if skipping:
                continue
            if held > max_line_bytes:
                skipping, parts = True, []
            else:
                parts.append(tail)
    if skipping:
        yield held
    elif parts:
        yield b"".join(parts)


class _Pairs(dict):  # type: ignore[type-arg]
    """A dict that remembers which keys it saw more than once (what json would hide)."""

    __slots__ = ("duplicates",)


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


class _NonFinite(float):
    """Stands in for NaN/Infinity so that the walk below can find it with its pointer."""

    __slots__ = ("literal",)


def _constant(literal: str) -> float:
    value = _NonFinite(float(literal.replace("Infinity", "inf")))
    value.literal = literal
    return value


def _escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _walk_findings(obj: Any) -> list[Diagnosis]:
    """Duplicate keys, NaN/Infinity and lone surrogates anywhere in a parsed value."""
    out: list[Diagnosis] = []
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                out.append(("FT010", path + "/" + _escape(key), f"key {key!r} appears more than once in this object; only the last value would be kept"))
            for key, item in value.items():
                if _has_surrogate(key):
                    out.append(("FT016", path, f"key {key!r} holds an unpaired surrogate escape; it is not a valid character"))
                stack.append((path + "/" + _escape(key), item))
        elif isinstance(value, list):
            stack.extend((f"{path}/{i}", item) for i, item in enumerate(value))
        elif isinstance(value, _NonFinite):
            out.append(("FT009", path, f"{value.literal} is not valid JSON; use null or a string, and write JSON with allow_nan=False"))
        elif isinstance(value, str) and _has_surrogate(value):
            out.append(("FT016", path, "the string holds an unpaired surrogate escape (like \\ud800); it is not a valid character"))
    out.sort(key=lambda d: d[1])
    return out


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Parsed:
    """The careful parse of one line: the value (if any), findings, and whether it looks cut off."""

    __slots__ = ("value", "ok", "findings", "incomplete")

    def __init__(self, value: Any, ok: bool, findings: list[Diagnosis], incomplete: bool = False) -> None:
        self.value, self.ok, self.findings, self.incomplete = value, ok, findings, incomplete


def parse_line(raw: bytes) -> Parsed:
    """Parse one line's bytes (no line terminator, no BOM) with full diagnostics."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Parsed(None, False, [("FT003", "", f"invalid UTF-8 at byte {exc.start + 1} of the line ({raw[exc.start:exc.start + 1]!r}); re-save the file as UTF-8")])
    return parse_text(text)


def parse_text(text: str) -> Parsed:
    try:
        value = json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_constant)
    except RecursionError:
        return Parsed(None, False, [("FT014", "", "JSON nested too deep to parse; a chat record needs only a few levels")])
    except json.JSONDecodeError as exc:
        return _explain(text, exc)
    return Parsed(value, True, _walk_findings(value))


def _explain(text: str, exc: json.JSONDecodeError) -> Parsed:
    where = f"column {exc.colno}"
    exc.msg = exc.msg.removesuffix(" at")  # "Invalid control character at" reads badly before ours
    body = text.rstrip()
    if exc.msg == "Extra data":
        if text[exc.pos:].lstrip().startswith(":"):  # `"key": ...`: one line of a spread-out object
            return Parsed(None, False, [("FT006", "", f"the line is a key and value without their object ({where}); a record spread over several lines? write each record on one line")])
        return Parsed(None, False, [("FT007", "", f"a second JSON value starts at {where} after a complete one; put each record on its own line")])
    if "\x00" in text:
        return Parsed(None, False, [("FT006", "", f"the line contains NUL bytes (binary data?); JSON error at {where}: {exc.msg}")])
    lead = body.lstrip()
    if lead.startswith(("{'", "[{'", "{ '")) or "'role'" in text or "'messages'" in text:
        hint = "it looks like a Python dict (single quotes): write records with json.dumps, not str()"
    elif exc.pos >= len(body) and lead[:1] in ("{", "["):
        return Parsed(None, False, [("FT006", "", f"the line ends before the JSON value is complete ({exc.msg} at {where}); a record cut short or spread over several lines")], incomplete=True)
    elif "True" in text or "False" in text or "None" in text:
        hint = "Python literals True/False/None are not JSON: use true/false/null"
    else:
        hint = "fix the JSON syntax"
    return Parsed(None, False, [("FT006", "", f"invalid JSON: {exc.msg} at {where}; {hint}")])



# A pretty-printed record is joined back over at most this many lines and characters.
MAX_JOIN_LINES = 5_000
MAX_JOIN_CHARS = 8 << 20
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def bracket_depth(text: str) -> int:
    """Brackets opened minus closed outside strings (a JSON string never spans lines)."""
    bare = _STRING.sub("", text) if '"' in text else text
    return bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")


def _is_record(text: str) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and "messages" in value


class ReadAhead(NamedTuple):
    """What ``read_rest`` found: the joined record (or None), the lines it took, their text,
    and whether it ran out of lines (the record may go on past what it could see)."""

    parsed: Parsed | None
    taken: list[bytes | int]
    pieces: list[str]
    exhausted: bool


def read_rest(first: str, source: Iterator[bytes | int]) -> ReadAhead:
    """Read ahead for the rest of a record whose first line ``first`` was cut short.

    Linear, whatever the input: one parse attempt, when the brackets opened on the first line
    are closed again; a line that is a whole record of its own ends the read-ahead.
    """
    taken: list[bytes | int] = []
    parts, size, depth = [first], len(first), bracket_depth(first)
    for nxt in source:
        taken.append(nxt)
        if type(nxt) is int or len(taken) > MAX_JOIN_LINES:
            break
        try:
            piece = nxt.removesuffix(b"\r").decode("utf-8")  # type: ignore[union-attr]
        except UnicodeDecodeError:
            break
        if piece[:1] == "{" and piece.rstrip()[-1:] == "}" and _is_record(piece):
            break  # a whole record of its own follows: the first line was cut short
        parts.append(piece)
        size += len(piece)
        depth += bracket_depth(piece)
        if size > MAX_JOIN_CHARS:
            break
        if depth <= 0:
            parsed = parse_text("\n".join(parts))
            return ReadAhead(parsed if parsed.ok else None, taken, parts[1:] if parsed.ok else [], False)
    else:
        return ReadAhead(None, taken, [], True)
    return ReadAhead(None, taken, [], False)
