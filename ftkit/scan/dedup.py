"""Group records by integer keys in memory that stays small, and re-read the few records whose
keys repeat so that what is reported is decided on their bytes, not on a hash.

Only rows whose key repeats are ever held in Python objects; for big inputs the repeated rows are
picked out with numpy one eighth of the keys at a time (by their top three bits), so that the
sorting copies stay a fraction of the columns themselves.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ftkit.scan.fetch import fetched_lines

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# From this many records on, numpy picks out the repeated keys; below it a dict is quicker
# (and ftkit validate on a small file never imports numpy).
NUMPY_FROM = 300_000
_BUCKET_BITS = 3
_CHUNK = 1 << 20
_T = TypeVar("_T", bound="np.generic")


def repeated_rows(keys: array[int] | NDArray[np.int64]) -> list[int]:
    """The rows (ascending) whose 64-bit key (an ``array("q")`` or int64 array) occurs more than once."""
    if len(keys) < NUMPY_FROM:
        counts: dict[int, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        return [row for row, key in enumerate(keys) if counts[key] > 1]
    import numpy as np

    values = np.frombuffer(keys, dtype=np.uint64)
    top = np.empty(len(values), dtype=np.uint8)
    for start in range(0, len(values), _CHUNK):  # chunks: no temporary the size of the column
        top[start : start + _CHUNK] = values[start : start + _CHUNK] >> np.uint64(64 - _BUCKET_BITS)
    found = []
    for bucket in range(1 << _BUCKET_BITS):
        rows = np.flatnonzero(top == bucket)
        bucket_keys = values[rows]
        order = np.argsort(bucket_keys, kind="stable")
        ordered = bucket_keys[order]
        same = ordered[1:] == ordered[:-1]
        del bucket_keys, ordered
        repeat = np.zeros(len(order), dtype=bool)
        repeat[1:] |= same
        repeat[:-1] |= same
        found.append(rows[order[repeat]])
    return sorted(np.concatenate(found).tolist())


class Lines:
    """Row -> line, for rows observed in line order: stored as the rows where ``line - row``
    changes (a record after a skipped line, a record over several lines, elements of a JSON
    array that share a line), which in a clean file is nothing at all."""

    def __init__(self) -> None:
        self.rows, self.bases = array("q"), array("q")  # from row rows[i] on, line = row + bases[i]
        self.count, self.expect = 0, 1

    def add(self, line: int) -> None:
        if line != self.expect:
            self.rows.append(self.count)
            self.bases.append(line - self.count)
        self.count += 1
        self.expect = line + 1

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, row: int) -> int:
        at = bisect_right(self.rows, row) - 1
        return row + (self.bases[at] if at >= 0 else 1)

    def of(self, rows: Iterable[int]) -> list[int]:
        if not self.rows:  # no jumps: every line is its row + 1
            return [row + 1 for row in rows]
        return [self[row] for row in rows]

    def array(self) -> Sequence[int]:
        """Every row's line (an int64 numpy array)."""
        import numpy as np

        rows = np.arange(self.count, dtype=np.int64)
        at = np.searchsorted(np.frombuffer(self.rows, dtype=np.int64), rows, side="right") - 1
        bases = np.concatenate([np.ones(1, dtype=np.int64), np.frombuffer(self.bases, dtype=np.int64)])
        return rows + bases[at + 1]

    def export(self) -> tuple[int, int, bytes, bytes]:
        return self.count, self.expect, self.rows.tobytes(), self.bases.tobytes()

    def merge(self, exported: tuple[int, int, bytes, bytes]) -> None:
        """Append the rows of a later part of the file (another process's ``export``)."""
        count, expect, rows, bases = exported
        theirs_rows, theirs_bases = array("q", rows), array("q", bases)
        if not theirs_rows or theirs_rows[0] != 0:  # their first rows start at line 1 (base 1)
            theirs_rows.insert(0, 0)
            theirs_bases.insert(0, 1)
        offset = self.count
        self.rows.extend(row + offset for row in theirs_rows)
        self.bases.extend(base - offset for base in theirs_bases)
        self.count += count
        self.expect = expect if count else self.expect


def reread(path: Path, wanted: Iterable[int], spans: Mapping[int, int], max_line_bytes: int,
           marks: Sequence[tuple[int, int]] | None = None) -> Iterator[tuple[int, bytes]]:  # fmt: skip
    """``(line, raw)`` for each wanted record (its first line), in line order, with ``raw`` as
    ``ftkit.scan.reader.Reader`` gives it: without the BOM and CRs, the lines of a record over
    several lines (``spans``: first -> last line) joined by ``\\n``. One read of the file (of
    the parts holding them, with ``marks``); only the wanted lines are held, one record at a time."""
    first = sorted(set(wanted))
    need = [n for line in first for n in range(line, spans.get(line, line) + 1)]
    pieces: list[bytes] = []
    at = 0
    with open(path, "rb") as stream:
        for n, data in fetched_lines(stream, need, max_line_bytes, marks=marks):
            data = data.removesuffix(b"\r")
            pieces.append(data[3:] if n == 1 and data.startswith(b"\xef\xbb\xbf") else data)
            if n == spans.get(first[at], first[at]):
                yield first[at], b"\n".join(pieces)
                pieces, at = [], at + 1


def median(values: array[int], long: Mapping[int, int]) -> float:
    """The median of ``values`` (an ``array("H")``) where the rows in ``long`` hold their real
    value there (all of them at least the largest value stored); as ``statistics.median``."""
    n = len(values)
    if n < NUMPY_FROM:
        ordered: Sequence[int] = sorted(values)
    else:
        import numpy as np

        ordered = np.sort(np.frombuffer(values, dtype=np.uint16))  # type: ignore[assignment]  # indexable like a list
    below = n - len(long)
    over = sorted(long.values())

    def kth(k: int) -> int:
        return int(ordered[k]) if k < below else over[k - below]

    return float(kth(n // 2)) if n % 2 else (kth(n // 2 - 1) + kth(n // 2)) / 2


def below(values: array[int], limit: float) -> list[int]:
    """Rows whose stored value is under ``limit``."""
    if len(values) < NUMPY_FROM:
        return [row for row, value in enumerate(values) if value < limit]
    import numpy as np

    return np.flatnonzero(np.frombuffer(values, dtype=np.uint16) < limit).tolist()


def distinct(values: NDArray[_T], ranks: bool = False) -> tuple[NDArray[_T], NDArray[np.intp] | None]:
    """``np.unique(values)`` of a 1-D array (and with ``ranks``, its ``return_inverse``: each
    value's index among the distinct ones), by a sort. numpy 2.4's ``np.unique`` hashes
    integers instead: on 20M distinct int64 it took 34 s against 0.34 s for the sort, and about
    0.1 ms a call on arrays of a few dozen."""
    import numpy as np

    order = np.argsort(values, kind="stable") if ranks else None
    ordered = values[order] if order is not None else np.sort(values)
    new = np.empty(len(ordered), dtype=np.bool_)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    if order is None:
        return ordered[new], None
    index = np.empty(len(values), dtype=np.intp)
    index[order] = np.cumsum(new) - 1
    return ordered[new], index
