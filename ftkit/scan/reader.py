"""The one reader: a file's bytes become numbered lines, and lines become records.

Every command reads data through ``Reader`` (validate, the token table, split, fix, convert,
``--against``): the byte-order mark, CR line ends, blank lines, over-long lines, invalid UTF-8 and
records spread over several lines are handled here once, with one wording for each message.

``Reader`` yields one tuple per record or blank line, ``(line, end, raw, value, problems)``:

- ``line`` / ``end``: the first and last physical line (equal unless a pretty-printed record was
  joined back together);
- ``raw``: the record's bytes without BOM and CRs (the lines of a joined record joined by
  ``\\n``), or, for a line longer than ``max_line_bytes``, its length (an ``int``; it is not
  kept in memory);
- ``value``: the parsed JSON value, or ``BLANK`` for a blank line, or ``UNPARSED``;
- ``problems``: ``None`` when the fast parser (orjson) read the line, which says nothing of what
  it hides (duplicate keys); otherwise the list of findings of the careful parse (``[]`` when it
  found none).

Plain tuples, not objects: the scan's hot loop unpacks millions of them. ``careful(raw)`` gives
the careful parse of a fast-parsed record when a consumer needs certainty.

``iter_lines`` is the physical layer below it, for the few consumers that copy lines byte for
byte (split's second pass) or show them (the report's examples).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import IO, Any, cast

import orjson

from ftkit.findings import Finding
from ftkit.scan.parse import Parsed, not_utf8, parse_bytes, parse_text

CHUNK = 1 << 20
#: Marks a chunk of the reader gets (``Reader.marks``): where its lines start, about 64 KiB apart.
MARKS_A_CHUNK = 16
UTF8_BOM = b"\xef\xbb\xbf"
#: A pretty-printed record is joined back over at most this many lines and characters.
MAX_JOIN_LINES = 5_000
MAX_JOIN_CHARS = 8 << 20

BLANK: Any = type("Blank", (), {"__repr__": lambda self: "BLANK"})()
UNPARSED: Any = type("Unparsed", (), {"__repr__": lambda self: "UNPARSED"})()

Item = tuple[int, int, "bytes | int", Any, "list[Finding] | None"]

# (magic bytes, what they are) for files that are not text at all.
_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
]
PARQUET_MAGIC = b"PAR1"
#: How many bytes ``sniff`` looks at.
HEAD_BYTES = 8192
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


# --- the file-level messages, worded once ---------------------------------------------------------


def blank_line(n: int) -> Finding:
    return Finding(n, "FT005", "", "blank line; every line must hold one JSON record (remove it)")


def too_long(n: int, length: int, limit: int) -> Finding:
    return Finding(n, "FT013", "", f"line is {length:,} bytes, longer than the {limit:,}-byte limit; is the file missing newlines?")


def bom() -> Finding:
    return Finding(1, "FT004", "", "the file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM")


def spread(first: int, last: int) -> Finding:
    return Finding(
        first,
        "FT008",
        "",
        f"one JSON record is spread over lines {first}-{last}; write each record on a single line (json.dumps without indent)",
    )


def crlf(count: int, first: int) -> Finding:
    return Finding(
        first, "FT015", "", f"{count:,} line{'s end' if count != 1 else ' ends'} with CRLF (Windows line ends), the first at line {first}"
    )


def sniff(head: bytes) -> Finding | None:
    """Recognise, from its first bytes, a file that is not UTF-8 JSON Lines at all."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return Finding(None, "FT012", "", f"the file is {kind}-compressed, not plain text; decompress it first")
    if head.startswith(PARQUET_MAGIC):
        return Finding(
            None, "FT011", "", "the file is Parquet (binary columns), not JSON Lines text; `ftkit convert` writes it as JSON Lines"
        )
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return Finding(None, "FT011", "", "the file is UTF-32 encoded; re-save it as UTF-8")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Finding(None, "FT011", "", "the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark); re-save it as UTF-8")
    sample = head[:HEAD_BYTES]
    if sample and sample.count(0) * 4 >= len(sample):
        return Finding(None, "FT011", "", "the file looks UTF-16 encoded (every other byte is NUL) or binary; re-save it as UTF-8")
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if controls > max(8, len(sample) // 20):
        return Finding(None, "FT011", "", "the file looks binary (control bytes in its first 8 KiB), not UTF-8 JSON Lines text")
    stripped = sample.lstrip(UTF8_BOM).lstrip()
    if stripped.startswith(b"[") and not stripped.startswith(b"[]"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        if first_line == b"[" or (first_line.startswith((b"[{", b"[ {")) and not first_line.endswith(b"]")):
            return Finding(
                None,
                "FT017",
                "",
                "the file is one JSON array, not one record per line; `ftkit convert` writes it as JSON Lines",
            )
    return None


# --- physical lines -------------------------------------------------------------------------------


def iter_lines(stream: IO[bytes], max_line_bytes: int, limit: int = -1, counter: Any = None,
               marks: tuple[list[tuple[int, int]], int] | None = None) -> Iterator[bytes | int]:  # fmt: skip
    """Yield each physical line without its ``\\n`` (a ``\\r`` stays), reading at most
    ``limit`` bytes from the stream's position (all of it when negative).

    A line longer than ``max_line_bytes`` is yielded as its length (an ``int``) instead of its
    bytes, so a file without newlines never has to fit in memory. ``counter.add(n)`` (if given)
    is told of every chunk read, for progress displays. ``marks``: (a list, the number of lines
    before the stream's position); each chunk appends (line, byte offset) of the first line that
    starts after it, for ``fetch_lines`` to seek to later.
    """
    # the lines of each chunk come as one list, flattened in C: no Python step per line here
    return chain.from_iterable(_line_blocks(stream, max_line_bytes, limit, counter, marks))


def _inner_marks(noted: list[tuple[int, int]], pieces: list[bytes], before: int, start: int) -> None:
    """Marks inside a chunk too, at every sixteenth of the lines that end in it (about 64 KiB
    apart): a re-read of a few lines then reads from near each instead of from the chunk's start.
    ``before``: the lines that ended before the chunk; ``start``: its offset in the file (where
    the part of a line in ``pieces[0]`` starts)."""
    step = len(pieces) // MARKS_A_CHUNK
    if not step:
        return
    at, done = start, 0
    for i in range(step, len(pieces), step):
        at += sum(map(len, pieces[done:i])) + i - done  # each piece and its newline
        noted.append((before + 1 + i, at))
        done = i


def _line_blocks(stream: IO[bytes], max_line_bytes: int, limit: int, counter: Any,
                 marks: tuple[list[tuple[int, int]], int] | None = None) -> Iterator[list[bytes | int]]:  # fmt: skip
    """``iter_lines`` a chunk at a time: the list of the lines that end in each chunk read."""
    parts: list[bytes] = []
    held = 0
    skipping = False
    if marks is not None:
        noted, ended = marks  # lines that ended before the stream's position
        offset = stream.tell()
    while limit and (chunk := stream.read(CHUNK if limit < 0 else min(CHUNK, limit))):
        limit -= len(chunk) if limit > 0 else 0
        if counter is not None:
            counter.add(len(chunk))
        pieces = chunk.split(b"\n")
        tail = pieces.pop()
        if marks is not None:
            start, offset = offset, offset + len(chunk)
            if pieces:
                _inner_marks(noted, pieces, ended, start)
                ended += len(pieces)
                noted.append((ended + 1, offset - len(tail)))
        if pieces:
            # every line here ends in this chunk: none is longer than the limit unless the chunk
            # and the line carried over from before are (then over-long lines become lengths)
            maybe_long = held + len(chunk) > max_line_bytes
            lines = cast("list[bytes | int]", pieces)  # the same list: some lines become lengths
            if skipping:
                lines[0] = held + len(pieces[0])
                skipping = False
            elif parts:
                lines[0] = b"".join(parts) + pieces[0]
            parts, held = [], 0
            if maybe_long:
                for i, line in enumerate(lines):
                    if not isinstance(line, int) and len(line) > max_line_bytes:
                        lines[i] = len(line)
            yield lines
        if tail:
            held += len(tail)
            if skipping:
                continue
            if held > max_line_bytes:
                skipping, parts = True, []
            else:
                parts.append(tail)
    if skipping:
        yield [held]
    elif parts:
        yield [b"".join(parts)]


# --- records --------------------------------------------------------------------------------------


class Reader:
    """Records (and blank lines) of a stream, in order; see the module docstring.

    ``first_line``: the number of lines before the stream's position (a parallel scan's second
    half). After the iteration: ``crlf_lines`` / ``first_crlf`` (CR line ends removed),
    ``has_bom``, ``cr_lines`` (with ``track_cr``) and ``read_past_end`` (a read-ahead ran into the end of ``limit`` bytes: a
    record may go on past them).
    """

    def __init__(self, stream: IO[bytes], max_line_bytes: int, *, limit: int = -1, first_line: int = 0,
                 counter: Any = None, track_cr: bool = False) -> None:  # fmt: skip
        self.stream, self.max_line_bytes, self.limit = stream, max_line_bytes, limit
        self.first_line, self.counter = first_line, counter
        #: with track_cr, the line numbers whose CR was removed, in order (for a change log)
        self.cr_lines: list[int] = []
        self._track = track_cr
        self.crlf_lines = 0
        self.first_crlf = 0
        self.has_bom = False
        self.read_past_end = False
        self._no_join_until = 0  # lines read ahead in vain never start a read-ahead themselves
        #: (line, byte offset where it starts), about one a chunk read: for ``fetch_lines``
        self.marks: list[tuple[int, int]] = []

    def _cr(self, n: int) -> None:
        self.crlf_lines += 1
        self.first_crlf = self.first_crlf or n
        if self._track:
            self.cr_lines.append(n)

    def __iter__(self) -> Iterator[Item]:
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        lines = iter_lines(self.stream, self.max_line_bytes, self.limit, self.counter, (self.marks, self.first_line))
        source: Iterator[bytes | int] = lines
        n = self.first_line
        while True:
            for line in source:
                n += 1
                if isinstance(line, int):
                    yield (n, n, line, UNPARSED, [too_long(n, line, self.max_line_bytes)])
                    continue
                if line[-1:] == b"\r":
                    line = line[:-1]
                    self._cr(n)
                if n == 1 and line.startswith(UTF8_BOM):
                    self.has_bom = True
                    line = line[3:]
                if not line or (line[0] in b" \t\x0b\x0c" and not line.strip()):
                    yield (n, n, line, BLANK, [blank_line(n)])
                    continue
                try:
                    value = loads(line)
                except decode_error:
                    pass
                else:
                    yield (n, n, line, value, None)
                    continue
                item, given_back = self._careful(line, n, source)
                yield item
                if given_back:  # read ahead for nothing: give the lines back
                    # No read-ahead starts among lines given back, so those of any earlier give-back
                    # are used up by now: chain onto the file itself, never onto another chain.
                    source = chain(given_back, lines)
                    break
                n = item[1]
            else:
                return

    def _careful(self, line: bytes, n: int, source: Iterator[bytes | int]) -> tuple[Item, list[bytes | int]]:
        """The careful parse of one line, joined with the lines after it when it is the first
        line of a pretty-printed record. Returns the item and any lines read ahead in vain."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (n, n, line, UNPARSED, [not_utf8(line, exc)._replace(line=n)]), []
        parsed = parse_text(text)
        if parsed.incomplete and n > self._no_join_until:
            joined, taken = self._join(text, n, source)
            if joined is None:
                self._no_join_until = n + len(taken)
                return (n, n, line, UNPARSED, stamp(parsed.findings, n)), taken
            return joined, []
        return (n, n, line, parsed.value if parsed.ok else UNPARSED, stamp(parsed.findings, n)), []

    def _join(self, first: str, n: int, source: Iterator[bytes | int]) -> tuple[Item | None, list[bytes | int]]:
        """Read ahead for the rest of a record whose first line was cut short.

        Linear, whatever the input: one parse attempt, when the brackets opened on the first line
        are closed again; a line that is a whole record of its own ends the read-ahead.
        """
        taken: list[bytes | int] = []
        parts, size, depth = [first], len(first), bracket_depth(first)
        for nxt in source:
            taken.append(nxt)
            if isinstance(nxt, int) or len(taken) > MAX_JOIN_LINES:
                break
            try:
                piece = nxt.removesuffix(b"\r").decode("utf-8")
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
                if not parsed.ok:
                    break
                last = n + len(taken)
                for k, raw in enumerate(taken):
                    if isinstance(raw, bytes) and raw.endswith(b"\r"):
                        self._cr(n + k + 1)
                findings = [spread(n, last), *stamp(parsed.findings, n)]
                return (n, last, "\n".join(parts).encode("utf-8"), parsed.value, findings), []
        else:
            self.read_past_end = True  # the record may go on past this reader's range
        return None, taken


def stamp(findings: list[Finding], n: int) -> list[Finding]:
    """Findings put on line ``n`` (a careful parse numbers lines from 1 within its text)."""
    return [f._replace(line=n) for f in findings]


def careful(raw: bytes) -> Parsed:
    """The careful parse of a record's bytes (``raw`` as the reader gives it)."""
    return parse_bytes(raw)


def bracket_depth(text: str) -> int:
    """Brackets opened minus closed outside strings (a JSON string never spans lines)."""
    if '"' in text:
        text = _STRING.sub("", text)
    return text.count("{") + text.count("[") - text.count("}") - text.count("]")


def _is_record(text: str) -> bool:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and "messages" in value
