"""Which records go to validation: ``ftkit split``'s choice (``choose_validation``), and the
platform's automatic validation split as ``cost`` and ``recommend`` simulate it
(``validation_mask``, ``validation_count``), so that all three agree record for record. The rule
and what it guarantees are in ``ftkit.plan.split``'s docstring."""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from ftkit.errors import ParameterError

if TYPE_CHECKING:
    import polars as pl

#: Fixed --stratify length edges (templated tokens): [0, 64), [64, 128), ..., [4096, inf).
STRATUM_EDGES = tuple(64 << k for k in range(7))


# --- the platform's automatic validation split, as cost and recommend simulate it ----------------


def parse_ratio(ratio: float | str | Decimal | Fraction) -> Fraction:
    """A validation ratio as an exact fraction in [0, 1); floats are read by their shortest repr."""
    try:
        value = Fraction(str(ratio)) if not isinstance(ratio, Fraction) else ratio
    except (ValueError, ZeroDivisionError):
        raise ParameterError(f"validation ratio {ratio!r} is not a number; expected 0 <= ratio < 1 (e.g. 0.1)") from None
    if not 0 <= value < 1:
        raise ParameterError(f"validation ratio {ratio} is outside 0 <= ratio < 1 (0 = the whole file is training data)")
    return value


def validation_count(n: int, ratio: float | str | Decimal | Fraction) -> int:
    """How many of ``n`` records the automatic split aims to send to validation.

    ``ftkit split``'s target: round-half-up(ratio x n) clamped to 1..n-1; 0 for a ratio of 0
    or fewer than two records (the whole file is then training data). Without duplicate groups
    the split itself sends floor or ceil of ratio x n, within one record of this;
    ``validation_mask`` gives the exact records.
    """
    r = parse_ratio(ratio)
    if n < 2 or r == 0:
        return 0
    return min(max(int(float(r) * n + 0.5), 1), n - 1)  # the same float arithmetic as ftkit.plan.split


def validation_mask(frame: pl.DataFrame, ratio: float | str | Decimal | Fraction) -> pl.Series:
    """Boolean mask over ``frame``'s rows, True for validation: exactly ``ftkit split``'s choice.

    ``frame`` needs the table's ``key`` column (keyed hash of the canonical record, seeded) and
    its rows in file order: ``ftkit.split.choose_validation`` decides the records in that order
    (each new duplicate group by its hash, corrected so validation stays within one record of
    ratio x records so far).
    """
    import polars as pl

    r = parse_ratio(ratio)
    if frame.height < 2 or r == 0:
        return pl.Series("validation", [False] * frame.height, dtype=pl.Boolean)
    if "key" not in frame.columns:
        raise ParameterError("the validation split needs the table's key column: build the table with keys=True")
    # the report asks twice for one table (recommend, then cost): the choice is made once
    last = _LAST_MASK.get("frame")
    if last is not None and last[0]() is frame and last[1] == r:
        return last[2]
    mask = choose_validation(frame, r)
    _LAST_MASK["frame"] = (weakref.ref(frame), r, mask)
    return mask


_LAST_MASK: dict[str, tuple[weakref.ref[pl.DataFrame], Fraction, pl.Series]] = {}


def ratio_text(ratio: Fraction) -> str:
    """A ratio as a short decimal ("0.1"), or as a fraction when it has no short decimal."""
    as_decimal = Decimal(ratio.numerator) / Decimal(ratio.denominator)
    return format(as_decimal.normalize(), "f") if len(str(as_decimal)) < 12 else f"{ratio.numerator}/{ratio.denominator}"


# --- choosing ---------------------------------------------------------------------------------------


def _group_key(group_by: str | None) -> pl.Expr:
    import polars as pl

    if group_by == "system":  # records without a system prompt are not one group
        return pl.when(pl.col("system_key") != 0).then(pl.col("system_key")).otherwise(pl.col("key"))
    if group_by == "first-user":
        return pl.col("first_user_key")
    if group_by == "near":  # the first record of the near-duplicate cluster (FT504), else the record
        return pl.col("near_key")
    return pl.col("key")


def choose_validation(frame: pl.DataFrame, ratio: float | Fraction, group_by: str | None = None, stratify: str | None = None) -> pl.Series:
    """Boolean mask over ``frame``'s rows (in file order): True for the records that go to validation.

    ``ratio`` is read exactly: a Fraction as it is, a float by its shortest repr (0.1 is 1/10).
    See the module docstring for the rule and what it guarantees.
    """
    import polars as pl

    p, q = _fraction(ratio).as_integer_ratio()
    n = frame.height
    if n == 0 or p == 0:
        return pl.Series("validation", [False] * n, dtype=pl.Boolean)
    group = _group_key(group_by)
    # The keys are 63-bit hashes: u = key / 2**63 < p/q  <=>  key <= ceil(p * 2**63 / q) - 1.
    below = -(-p << 63) // q - 1
    stratum = pl.sum_horizontal(*(pl.col("total") >= edge for edge in STRATUM_EDGES)).cast(pl.UInt8) if stratify else 0
    # Keys that repeat, picked out an eighth of the keys at a time (``repeated_rows``): neither
    # is_duplicated's hash table of every key (about 100 MB for a million records) nor a sorted copy.
    from ftkit.scan.dedup import repeated_rows

    keys = frame.select(group.alias("g"))["g"]
    twice = keys.gather(repeated_rows(keys.to_numpy())).unique().implode()
    del keys
    # One byte a row (a few MB for a million): hash below the ratio, group repeats, stratum.
    codes = frame.select(code=(group <= below).cast(pl.UInt8) + 2 * group.is_in(twice).cast(pl.UInt8) + 4 * stratum)["code"]
    repeated = frame.select(group.filter(pl.lit(codes % 4 >= 2))).to_series().to_list()  # the dict is for these
    # the codes as bytes (one a row, not an eight-byte pointer to an int)
    picked: Sequence[int] = _diffuse(codes.to_numpy().tobytes(), repeated, p, q, len(STRATUM_EDGES) + 1 if stratify else 1)
    del codes, repeated
    # A file too small for its ratio (ratio * n < 1, or the same for train) may leave one side empty.
    if (not picked and p * n < q) or (len(picked) == n and (q - p) * n < q):
        picked = _unempty(frame.select(group.alias("g"))["g"], picked)
    mask = pl.repeat(False, n, eager=True).alias("validation")
    if isinstance(picked, array):
        import numpy as np

        picked = pl.Series(np.frombuffer(picked, dtype=np.int64))  # type: ignore[assignment]  # indices, as scatter takes them
    return mask.scatter(picked, True) if len(picked) else mask


def _fraction(ratio: float | Fraction) -> Fraction:
    return ratio if isinstance(ratio, Fraction) else Fraction(str(ratio))


def _diffuse(codes: Sequence[int], repeated: list[int], p: int, q: int, strata: int) -> array[int]:
    """The file-order walk: row indices that go to validation.

    ``codes[i]`` = (hash below the ratio) + 2 (group key repeats) + 4 * stratum; ``repeated`` the
    group keys of the rows whose key repeats, in order. ``error[s]`` is q * (v - ratio * n) of
    stratum s; a new group goes where its hash says unless that would put |v - ratio * n| at 1 or
    more, and a group seen before follows its first record.
    """
    error = [0] * strata
    first = p - q  # a new group preferring train goes to validation only if error <= p - q
    seen: dict[int, bool] = {}
    keys = iter(repeated)
    picked = array("q")
    for i, c in enumerate(codes):
        s = c >> 2
        e = error[s]
        if c & 2:
            g = next(keys)
            side = seen.get(g)
            if side is None:
                side = seen[g] = e < p if c & 1 else e <= first
        else:
            side = e < p if c & 1 else e <= first
        if side:
            error[s] = e + q - p
            picked.append(i)
        else:
            error[s] = e - p
    return picked


def _unempty(groups: pl.Series, picked: Sequence[int]) -> list[int]:
    """Move the smallest group (lowest hash among equals) across to the empty side."""

    sizes = groups.value_counts(name="size").sort("size", groups.name)
    if sizes.height < 2:  # one group: it cannot be split
        return list(picked)
    move = sizes[groups.name][0]
    rows = groups.eq(move).arg_true().to_list()
    return rows if not picked else sorted(set(picked) - set(rows))
