"""Find repeated records from one 64-bit hash per record, in memory that stays small."""

from __future__ import annotations

from collections.abc import Sequence

# Above this many records, polars sorts the hashes faster and in less memory than a dict.
_POLARS_FROM = 200_000


def find_duplicates(hashes: Sequence[int], lines: Sequence[int]) -> list[tuple[int, int]]:
    """``(line, first_line)`` for every record whose hash equals an earlier record's hash."""
    if len(hashes) < _POLARS_FROM:
        first: dict[int, int] = {}
        out = []
        for h, line in zip(hashes, lines):
            seen = first.setdefault(h, line)
            if seen != line:
                out.append((line, seen))
        return out
    import polars as pl

    frame = pl.DataFrame({"h": hashes, "line": lines}, schema={"h": pl.Int64, "line": pl.Int64})
    dups = (
        frame.with_columns(first=pl.col("line").min().over("h"))
        .filter(pl.col("line") != pl.col("first"))
        .sort("line")
    )
    return list(zip(dups["line"].to_list(), dups["first"].to_list()))
