"""The token table's columns while a scan fills them: integer arrays as narrow as their values.

Token counts and positions start at one byte a row and are widened (copied once, every value
kept) the first time a value does not fit: to two bytes, then to four, the table's Int32. Most
records are far below 65,536 tokens, so a column of a big input's table usually holds two bytes
a row, half of what the frame will; that is what the two processes of a parallel scan hold
together at the end of their parts, the highest point of ``ftkit stats``' memory. Line numbers
are four bytes from the start and hashes eight, as in the frame.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# each typecode's next wider one; "i" (four bytes, the frame's Int32) and "q" are as wide as a column goes
_WIDER = {"B": "H", "H": "i"}
_RANK = {"B": 0, "H": 1, "i": 2, "q": 3}
_NUMPY = {"B": "uint8", "H": "uint16", "i": "int32", "q": "int64"}


def _widened(column: array[int], typecode: str | None = None) -> array[int]:
    """``column`` as ``typecode`` (default: the next wider one); OverflowError at its widest."""
    wider = typecode or _WIDER.get(column.typecode)
    if wider is None:
        raise OverflowError(f"a value does not fit the table's {column.itemsize * 8}-bit column")
    return array(wider, column)  # element by element in C: done at most twice a column


class Columns:
    """Named integer columns, appended a row at a time; each starts at the typecode given."""

    def __init__(self, typecodes: Mapping[str, str]) -> None:
        self.names = list(typecodes)
        self.arrays: list[array[int]] = [array(code) for code in typecodes.values()]

    def __len__(self) -> int:
        return len(self.arrays[0]) if self.arrays else 0

    def items(self) -> Iterator[tuple[str, array[int]]]:
        return zip(self.names, self.arrays)

    def append(self, row: Sequence[int]) -> None:
        """Append one value to each column (the row is complete: as many values as columns)."""
        try:
            for column, value in zip(self.arrays, row):
                column.append(value)
        except OverflowError:  # rare: once or twice a column
            self._append_widening(row)

    def _append_widening(self, row: Sequence[int]) -> None:
        rows = min(map(len, self.arrays))  # the columns before the one that overflowed have the row already
        for i, value in enumerate(row):
            while len(self.arrays[i]) == rows:
                try:
                    self.arrays[i].append(value)
                except OverflowError:
                    self.arrays[i] = _widened(self.arrays[i])

    def export(self) -> list[tuple[str, str, Any]]:
        """``(name, typecode, buffer)`` per column, the buffers to be pickled without a copy; the
        columns leave with them."""
        from pickle import PickleBuffer

        out: list[tuple[str, str, Any]] = [(name, column.typecode, PickleBuffer(column)) for name, column in zip(self.names, self.arrays)]
        self.names, self.arrays = [], []
        return out

    def merge(self, exported: list[tuple[str, str, Any]]) -> None:
        """Append the rows of another ``Columns``' export (the same names), each buffer freed as soon
        as it is copied; a column is widened to the wider of the two."""
        index = {name: i for i, name in enumerate(self.names)}
        while exported:
            name, typecode, data = exported.pop(0)
            data = memoryview(data).cast("B")  # the bytes read from the pipe, or (in one process) the buffer itself
            i = index[name]
            if _RANK[typecode] > _RANK[self.arrays[i].typecode]:
                self.arrays[i] = _widened(self.arrays[i], typecode)
            if typecode == self.arrays[i].typecode:
                self.arrays[i].frombytes(data)
            else:  # narrower than ours: widened on the way in
                other = array(typecode)
                other.frombytes(data)
                self.arrays[i].extend(_widened(other, self.arrays[i].typecode))
            del data

    def pop(self, numpy_from: int = 0) -> Iterator[tuple[str, Any]]:
        """Each column as a numpy array on the same buffer (no copy), handed over one at a time:
        once the caller drops it, the column is gone. A column of fewer than ``numpy_from`` rows
        comes as its ``array`` (a small table imports no numpy)."""
        while self.arrays:
            name, column = self.names.pop(0), self.arrays.pop(0)
            if len(column) < numpy_from:
                yield name, column
                continue
            import numpy as np

            yield name, np.frombuffer(column, dtype=_NUMPY[column.typecode]) if len(column) else np.zeros(0, np.int32)
            del column
