"""Group records by 64-bit keys in memory that stays small: only rows whose key repeats are
ever held in Python objects."""

from __future__ import annotations

from collections.abc import Sequence

# From this many records on, polars picks out the repeated keys; below it a dict is quicker
# (and ftkit validate on a small file never imports polars).
_POLARS_FROM = 300_000


def repeated(keys: Sequence[int], *columns: Sequence[int]) -> list[tuple[int, ...]]:
    """``(key, *column values)`` for every row whose key occurs more than once, in row order."""
    if len(keys) < _POLARS_FROM:
        counts: dict[int, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        return [(k, *vals) for k, *vals in zip(keys, *columns) if counts[k] > 1]
    import polars as pl

    series = pl.Series("k", keys, dtype=pl.Int64)
    # sorting and comparing neighbours needs far less memory than polars' hash-based is_duplicated
    ordered = series.sort()
    repeats = ordered.filter(ordered == ordered.shift(1)).unique()
    mask = series.is_in(repeats.implode())
    picked = [series.filter(mask)] + [pl.Series(f"c{i}", col, dtype=pl.Int64).filter(mask) for i, col in enumerate(columns)]
    return list(zip(*(s.to_list() for s in picked)))


def find_duplicates(hashes: Sequence[int], lines: Sequence[int]) -> list[tuple[int, int]]:
    """``(line, first_line)`` for every record whose hash equals an earlier record's hash."""
    first: dict[int, int] = {}
    out = []
    for key, line in repeated(hashes, lines):
        seen = first.setdefault(key, line)
        if seen != line:
            out.append((line, seen))
    return out


def median(values: Sequence[int]) -> float:
    """The median, without a Python list of a million ints for big inputs."""
    if len(values) < _POLARS_FROM:
        import statistics

        return statistics.median(values)
    import polars as pl

    return float(pl.Series("v", values, dtype=pl.Int64).median())  # type: ignore[arg-type]  # the median of ints is a float
