"""Re-reading chosen lines of a file after a scan: FT501's and FT504's candidates, the report's
examples. ``Reader.marks`` (line, byte offset) says where to seek, so only the parts of the
file that hold them are read."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from ftkit.scan.reader import CHUNK, MARKS_A_CHUNK


def fetch_lines(stream: IO[bytes], wanted: Iterable[int], max_line_bytes: int, chunk: int = 1 << 22,
                marks: Sequence[tuple[int, int]] | None = None) -> dict[int, bytes]:  # fmt: skip
    """The bytes of the wanted physical lines, numbered and cut as ``iter_lines`` does (1-based,
    without their ``\\n``; b"" for one over ``max_line_bytes``). Chunks holding none of them are
    only counted, not split. ``marks`` (``Reader.marks``: (line, byte offset where it starts),
    in order) lets it seek to the wanted lines instead of reading the file from the start."""
    return dict(fetched_lines(stream, wanted, max_line_bytes, chunk, marks))


def fetched_lines(stream: IO[bytes], wanted: Iterable[int], max_line_bytes: int, chunk: int = 1 << 22,
                  marks: Sequence[tuple[int, int]] | None = None) -> Iterator[tuple[int, bytes]]:  # fmt: skip
    """``fetch_lines`` one ``(line, bytes)`` at a time, in line order, holding none of them."""
    need = sorted(set(wanted))
    if not marks:
        yield from _fetched_from(stream, need, max_line_bytes, chunk, 1)
        return
    for line, offset, group in mark_groups(need, marks):
        stream.seek(offset)
        yield from _fetched_from(stream, group, max_line_bytes, min(chunk, CHUNK // MARKS_A_CHUNK), line)


def mark_groups(need: list[int], marks: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int, list[int]]]:
    """For sorted wanted lines and ``Reader.marks``: (line, byte offset, the wanted lines from
    there to the next mark), one per mark that has any, in order; before the first mark, line 1
    at offset 0."""
    starts = [line for line, _ in marks]
    i = 0
    while i < len(need):
        k = bisect_right(starts, need[i]) - 1
        line, offset = marks[k] if k >= 0 else (1, 0)
        j = bisect_left(need, starts[k + 1]) if k + 1 < len(starts) else len(need)
        yield line, offset, need[i:j]
        i = j


def _fetched_from(stream: IO[bytes], need: list[int], max_line_bytes: int, chunk: int, line: int) -> Iterator[tuple[int, bytes]]:
    """The wanted lines (sorted), reading from the stream's position, where line ``line`` starts."""
    carry, at = b"", 0  # ``carry`` is the start of line ``line`` (after the last newline)
    # each read twice the last, up to 4 MiB: a near wanted line costs a small read, a long line
    # few copies of what is carried
    while at < len(need) and (block := stream.read(chunk)):
        chunk = min(2 * chunk, max(chunk, 1 << 22))
        newlines = block.count(b"\n")
        if need[at] <= line + newlines:  # a wanted line starts, or ends, in this block
            last = need[-1] - line  # when every wanted line ends here, split up to the last one only
            parts = (carry + block).split(b"\n", last + 1) if last < newlines else (carry + block).split(b"\n")
            carry = parts.pop()
            stop = bisect_right(need, line + len(parts) - 1)
            for n in need[at:stop]:
                piece = parts[n - line]
                yield n, piece if len(piece) <= max_line_bytes else b""
            at = stop
        elif newlines:
            carry = block[block.rfind(b"\n") + 1 :]
        else:
            carry = carry + block if len(carry) <= max_line_bytes else carry  # an over-long line: no need to keep it all
        line += newlines
    if carry and at < len(need) and need[at] == line:  # the last line, without a final newline
        yield line, carry if len(carry) <= max_line_bytes else b""
