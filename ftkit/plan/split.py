"""Split one JSONL file into train and validation: lose no line, leak no record.

Two streaming passes. Pass 1 is ``ftkit.table.build_table`` (the validation scan that also
tokenizes each valid record and hashes its canonical JSON with the seed). The choice of
validation records is made on that table. Pass 2 copies each physical line, byte for byte, to
the file its line number was routed to.

Which records go to validation
  Records are grouped (exact duplicates always; with ``group_by`` also records sharing a system
  prompt or a first user message, or with ``group_by="near"`` each near-duplicate cluster: the
  records FT504 finds similar, joined transitively, with their exact copies) and every group has a
  keyed hash (blake2b, seeded, 63 bits; a near-duplicate cluster takes its first record's),
  read as a number u in [0, 1). The records are decided in file order. A record whose group was
  seen before follows that group's side. A record that opens a new group goes to validation when
  u < ratio, corrected by error diffusion: counting records (n decided so far, v of them in
  validation), a new group goes to validation anyway if train would make v - ratio * n <= -1,
  and to train anyway if validation would make v - ratio * n >= 1. The arithmetic is exact
  (the ratio as a fraction, a float read by its shortest repr). So |v - ratio * n| < 1 after
  every record when there are no duplicate groups: validation then holds floor(ratio * N) or
  ceil(ratio * N) records, within one of the target round(ratio * N). Records that follow a group
  count too, so the correction also pulls back what large groups push off.
  ``count`` uses ratio = count / N, and the same bound gives exactly ``count`` records without
  duplicate groups. ``stratify="length"`` keeps one count per stratum of templated tokens with
  fixed edges, ``STRATUM_EDGES`` ([0, 64), [64, 128), ..., [4096, inf)), never derived from the
  data: each stratum is within one record of its share, so validation is within the number of
  non-empty strata of ratio * N overall. A file too small for its ratio (ratio * N < 1, or
  (1 - ratio) * N < 1) may leave a side empty: its smallest group is then moved across, whole.
  Groups too big for the ratio can also leave validation empty; they are not broken up.

What appending records does
  Each decision depends on the records before it and on the record itself only, so appending
  records to the input never moves an existing record to the other side, with or without
  ``group_by`` and ``stratify``: the existing records are decided exactly as before and the new
  ones after them. Exceptions: ``count`` (its ratio, count / N, changes with the file), the
  empty-side fix-up above (only for a file too small for its ratio), and ``group_by="near"`` when a
  new record is similar to records of two clusters that were apart: the clusters merge into the
  earlier one's group, and the later cluster's records follow it (to the other side if its first
  record had gone there). A new record similar to one cluster, or to none, moves nothing. The price: the split depends on record order, so reordering the input
  can change it. ``tests/test_split.py`` checks append stability, the size bound and count mode.

Lines that are not records
  Lines with an error-level finding (including blank lines, FT005, and the continuation lines
  of a record spread over several lines) are refused by default; with ``drop_invalid`` each goes
  to ``rejected.jsonl`` as ``{"line", "reasons", "text"}`` (``"base64"`` instead of ``"text"``
  when the line is not UTF-8; a line over the profile's max_line_bytes is recorded with
  ``"omitted_bytes"`` and not copied). Findings about the whole file (FT001, FT002, FT011, ...)
  cannot be dropped line by line: the file is refused even with ``drop_invalid``.

Output bytes
  Each line is written exactly as read, a ``\\r`` before its ``\\n`` included, and every output
  line ends with ``\\n`` (a last input line without one gets one). Outputs are written to temp
  files in the output directory and renamed into place only when all of them are complete.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ftkit.checks import Selector
from ftkit.errors import DataError, InputError, OutputError, ParameterError
from ftkit.findings import Finding, Scan
from ftkit.policy.profile import Profile
from ftkit.scan.inputs import Input
from ftkit.tokens.table import column_sum

if TYPE_CHECKING:
    import polars as pl

DEFAULT_SEED = "ftkit"
GroupBy = Literal["system", "first-user", "near"]
Stratify = Literal["length"]
OUTPUT_NAMES = {"train": "train.jsonl", "validation": "validation.jsonl", "rejected": "rejected.jsonl"}
#: Fixed --stratify length edges (templated tokens): [0, 64), [64, 128), ..., [4096, inf).
STRATUM_EDGES = tuple(64 << k for k in range(7))
_TRAIN, _VALIDATION = 1, 2


class OutputFile(BaseModel):
    path: str
    records: int = Field(description="lines written (for rejected: input lines that are not usable records)")
    tokens: int | None = Field(description="templated tokens of the records written; null for rejected lines")


class SplitResult(BaseModel):
    """What ``ftkit.split`` returns; the CLI's JSON output."""

    input: str
    train: OutputFile
    validation: OutputFile
    rejected: OutputFile | None
    seed: str
    ratio: float | None = Field(description="requested validation ratio; null with count")
    count: int | None = Field(description="requested validation records; null with ratio")
    target: int = Field(description="validation records aimed at")
    group_by: GroupBy | None
    stratify: Stratify | None
    leaked_records: int = Field(description="validation records whose exact record is also in train (expected 0)")
    shared_first_user: int = Field(description="validation records whose first user message also opens a train record")
    assumptions: list[str] = Field(description="what the token figures assume")


def split_file(
    item: Input,
    out_dir: str | os.PathLike[str],
    profile: Profile,
    selected: Selector,
    *,
    ratio: float | None = None,
    count: int | None = None,
    seed: str = DEFAULT_SEED,
    group_by: GroupBy | None = None,
    stratify: Stratify | None = None,
    drop_invalid: bool = False,
    force: bool = False,
    jobs: int = 1,
    counter: Any = None,
    config: str | None = None,
) -> SplitResult:
    """Split one input into ``out_dir``/train.jsonl and validation.jsonl (see the module docstring).

    Raises ``DataError`` (with the scan) for findings that block the split, and another
    ``FtkitError`` for anything else that stops it; never prints, never exits, never touches the
    input.
    """
    from ftkit.plan.table import build_table

    ratio = _check_options(ratio, count, seed, group_by, stratify, profile.split.get("validation_ratio"), profile.name)
    outputs = _outputs(item, Path(out_dir), drop_invalid, force)
    before = _fingerprint(item.path)
    near: Literal["clusters"] | bool = "clusters" if group_by == "near" else False
    columns = ["line", "total", "key", "system_key", "first_user_key"]  # what the split reads: the rest is never kept
    table = build_table([item], profile, selected, keys=True, seed=seed, jobs=jobs, near_duplicates=near, dataset_rules=bool(near),
                        counter=counter, config=config, columns=columns)  # fmt: skip
    scan, assumptions = table.scan, table.assumptions.lines()
    result = scan.files[0]
    if result.json_array:  # its records are not lines: copying lines byte for byte would cut them apart
        raise DataError(f"{item.name}: the records are the elements of a JSON array, not lines; "
                        "`ftkit convert` writes it as JSON Lines, then split that", scan)  # fmt: skip
    error = [f for f in result.findings if scan.severity_of(f.code) == "error"]  # small tuples, shared
    whole_file = sorted({f.code for f in error if f.line is None})
    if whole_file:
        raise DataError(
            f"{item.name}: findings about the whole file ({', '.join(whole_file)}) cannot be dropped line by line; fix the file first", scan
        )
    import polars as pl

    # Lines with errors, as one int64 column (not a set of Python ints: a million bad lines is 8 MB)
    bad = pl.Series("line", [f.line for f in error], dtype=pl.Int64).append(
        pl.Series("line", table.rejected.get(item.name, []), dtype=pl.Int64)
    )
    bad = bad.unique()
    del error
    if bad.len() and not drop_invalid:
        lines = bad.len()
        raise DataError(
            f"{item.name}: {lines:,} line{'s' if lines != 1 else ''} with errors; fix them or pass --drop-invalid to write them to {outputs['rejected']}",
            scan,
        )
    frame = table.frame.select(columns + (["near_key"] if near else [])) if table.frame.height else table.frame
    del table  # the other columns are not needed: free them before choosing
    if bad.len() and frame.height:  # a dataset rule made an error by the profile can hit a kept record
        frame = frame.filter(~pl.col("line").is_in(bad.implode()))
    del bad
    n = frame.height
    if n < 2:
        raise DataError(f"{item.name}: {n} usable record{'s' if n != 1 else ''}; a split needs at least 2", scan)
    if count is not None and count >= n:
        raise ParameterError(f"validation count {count} leaves no training records: the file has {n:,} usable records")
    target = count if count is not None else min(max(int(ratio * n + 0.5), 1), n - 1)  # type: ignore[operator]  # ratio is set without count
    # count mode aims at count / n of this file: a different ratio once the file grows
    val = choose_validation(frame, Fraction(count, n) if count is not None else ratio, group_by, stratify)  # type: ignore[arg-type]  # ratio is set whenever count is None
    counts = _write(item, outputs, frame, val, scan, drop_invalid, profile.data.max_line_bytes, before, force)
    return _result(
        item, outputs, frame, val, counts, seed, ratio if count is None else None, count, target, group_by, stratify, assumptions
    )


def _check_options(ratio: float | None, count: int | None, seed: str, group_by: str | None, stratify: str | None,
                   default_ratio: float | None, profile: str) -> float | None:  # fmt: skip
    if ratio is not None and count is not None:
        raise ParameterError("give either a validation ratio or a validation count, not both")
    if ratio is None and count is None:
        if default_ratio is None:
            raise ParameterError(f"profile {profile!r} has no [split] validation_ratio; give a ratio or a count")
        ratio = default_ratio
    if ratio is not None and not 0 < ratio < 1:
        raise ParameterError(f"validation ratio {ratio} is out of range; expected a number between 0 and 1 (exclusive)")
    if count is not None and count < 1:
        raise ParameterError(f"validation count {count} is out of range; expected 1 or more")
    check_seed(seed)
    if group_by not in (None, "system", "first-user", "near"):
        raise ParameterError(f"unknown group-by {group_by!r}; expected system, first-user or near")
    if stratify not in (None, "length"):
        raise ParameterError(f"unknown stratify {stratify!r}; expected length")
    return ratio


def check_seed(seed: str) -> None:
    if len(seed.encode("utf-8", "surrogatepass")) > 64:
        raise ParameterError("the seed is longer than 64 bytes (the hash key's limit); use a shorter seed")


def _outputs(item: Input, out_dir: Path, drop_invalid: bool, force: bool) -> dict[str, Path]:
    from ftkit.outputs import check_outputs

    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out-dir {out_dir} is a file, not a directory")
    outputs = {kind: out_dir / name for kind, name in OUTPUT_NAMES.items()}
    check_outputs([p for kind, p in outputs.items() if kind != "rejected" or drop_invalid], [item.path], force)
    return outputs


def _fingerprint(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


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
    return choose_validation(frame, r)


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


def _write(item: Input, outputs: dict[str, Path], frame: pl.DataFrame, val: pl.Series, scan: Scan,
           drop_invalid: bool, max_line_bytes: int, fingerprint: tuple[int, int], force: bool) -> dict[str, int]:  # fmt: skip
    """Pass 2: copy every line to its output through temp files; rename them all at the end."""
    from ftkit.outputs import RejectsFile, atomic_outputs, kept
    from ftkit.scan.reader import iter_lines

    lines = frame["line"]
    side = bytearray((int(lines.max()) + 1) if frame.height else 1)  # type: ignore[arg-type]  # max of ints
    for line, to_validation in zip(lines, val):  # Series iterate in chunks: no list of a million ints
        side[line] = _VALIDATION if to_validation else _TRAIN
    result = next(f for f in scan.files if f.path == item.name)
    starts: dict[int, int] = {}  # continuation line -> the first line of its record
    for first, last in result.spans.items():
        for k in range(first + 1, min(last, len(side) - 1) + 1):
            side[k] = side[first]  # a record over several lines (FT008 not an error) moves whole
        starts.update((k, first) for k in range(first + 1, last + 1))
    findings = _by_line(result.findings)  # findings are sorted by line: walked alongside the lines
    kinds = ["train", "validation"] + (["rejected"] if drop_invalid else [])
    counts = dict.fromkeys(kinds, 0)
    with atomic_outputs([outputs[kind] for kind in kinds], like=item.path, force=force) as outs:  # all or nothing
        train, validation = outs[0], outs[1]
        rejects = RejectsFile(outs[2]) if drop_invalid else None
        n = 0
        try:
            with open(item.path, "rb") as stream:
                for raw in iter_lines(stream, max_line_bytes):
                    n += 1
                    where = side[n] if n < len(side) else 0
                    if where == _TRAIN:
                        train.write(raw + b"\n")  # type: ignore[operator, arg-type]  # an over-long line (int) is never routed here
                    elif where == _VALIDATION:
                        validation.write(raw + b"\n")  # type: ignore[operator, arg-type]  # as above
                    elif rejects is None:  # a non-record line whose findings are not errors
                        raise DataError(
                            f"{item.name}:{n} is not a record that can be split; pass --drop-invalid to write it to {outputs['rejected']}",
                            scan,
                        )
                    else:
                        rejects.add({"line": n}, _reasons(findings.at(n), starts.get(n)), kept(raw))
                        counts["rejected"] += 1
                        continue
                    counts["train" if where == _TRAIN else "validation"] += 1
        except OSError as exc:
            raise InputError(f"cannot read {item.name}: {exc.strerror or exc}") from None
        if _fingerprint(item.path) != fingerprint:  # the routing was planned on other contents
            raise InputError(f"{item.name} changed while it was being split; nothing was written, run the split again")
    return counts


class _by_line:
    """The findings of each line, for lines asked in increasing order (no dict of a million lists)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings, self.i = findings, 0
        while self.i < len(findings) and findings[self.i].line is None:
            self.i += 1

    def at(self, line: int) -> list[Finding]:
        found, items = [], self.findings
        while self.i < len(items) and (items[self.i].line or 0) < line:
            self.i += 1
        while self.i < len(items) and items[self.i].line == line:
            found.append(items[self.i])
            self.i += 1
        return found


def _reasons(found: list[Finding] | None, record_start: int | None) -> list[str]:
    from ftkit.outputs import reason

    if found:
        return [reason(f.code, f.pointer, f.message) for f in found]
    return [f"continues the record that starts at line {record_start}" if record_start else "not a record"]


def _on_both_sides(keys: pl.Series, val: pl.Series) -> int:
    """Validation rows whose key is also on the training side. The sets looked up in are the
    validation keys and the (normally empty) shared ones, never the large training side."""
    in_val = keys.filter(val)
    common = keys.filter(keys.is_in(in_val.implode()) & ~val).unique()  # no copy of the training side's keys
    return int(in_val.is_in(common.implode()).sum())


def _result(
    item: Input,
    outputs: dict[str, Path],
    frame: pl.DataFrame,
    val: pl.Series,
    counts: dict[str, int],
    seed: str,
    ratio: float | None,
    count: int | None,
    target: int,
    group_by: GroupBy | None,
    stratify: Stratify | None,
    assumptions: list[str],
) -> SplitResult:

    figures = {
        "train_tokens": column_sum(frame["total"].filter(~val)),
        "val_tokens": column_sum(frame["total"].filter(val)),
        "leaked": _on_both_sides(frame["key"], val),
        "shared": _on_both_sides(frame["first_user_key"], val),
    }
    rejected = OutputFile(path=str(outputs["rejected"]), records=counts["rejected"], tokens=None) if "rejected" in counts else None
    return SplitResult(
        input=item.name,
        train=OutputFile(path=str(outputs["train"]), records=counts["train"], tokens=figures["train_tokens"]),
        validation=OutputFile(path=str(outputs["validation"]), records=counts["validation"], tokens=figures["val_tokens"]),
        rejected=rejected,
        seed=seed,
        ratio=ratio,
        count=count,
        target=target,
        group_by=group_by,
        stratify=stratify,
        leaked_records=figures["leaked"],
        shared_first_user=figures["shared"],
        assumptions=assumptions,
    )
