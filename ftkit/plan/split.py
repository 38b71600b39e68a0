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
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ftkit.checks import Selector
from ftkit.errors import DataError, InputError, OutputError, ParameterError
from ftkit.findings import Finding, Scan
from ftkit.plan.choose import choose_validation
from ftkit.policy.profile import Profile
from ftkit.scan.inputs import Input
from ftkit.tokens.table import column_sum

if TYPE_CHECKING:
    import polars as pl

DEFAULT_SEED = "ftkit"
GroupBy = Literal["system", "first-user", "near"]
Stratify = Literal["length"]
OUTPUT_NAMES = {"train": "train.jsonl", "validation": "validation.jsonl", "rejected": "rejected.jsonl"}
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
    from ftkit.plan.table import build_table, choose_engine

    ratio = _check_options(ratio, count, seed, group_by, stratify, profile.split.get("validation_ratio"), profile.name)
    outputs = _outputs(item, Path(out_dir), drop_invalid, force)
    before = _fingerprint(item.path)
    near: Literal["clusters"] | bool = "clusters" if group_by == "near" else False
    columns = ["line", "total", "key", "system_key", "first_user_key"]  # what the split reads: the rest is never kept
    # tiktoken, not the fast engine, whose ~50 MB a process (and ~37 MB of tables shared by
    # both) split's memory target cannot spare (1 GB of small records, benchmarks/bench_memory.py,
    # before the token table got narrower: 406 MB, 435 MB with fastokens; a quarter more time)
    table = build_table([item], profile, selected, keys=True, seed=seed, jobs=jobs, near_duplicates=near, dataset_rules=bool(near),
                        counter=counter, config=config, columns=columns,
                        engine=choose_engine(item.size, fast=False))  # fmt: skip
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

    # Lines with errors, as one int32 column like the table's (not a set of Python ints: a million bad lines is 4 MB)
    bad = pl.Series("line", [f.line for f in error], dtype=pl.Int32).append(
        pl.Series("line", table.rejected.get(item.name, []), dtype=pl.Int32)
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
