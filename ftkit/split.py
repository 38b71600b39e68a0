"""Split one JSONL file into train and validation: lose no line, leak no record.

Two streaming passes. Pass 1 is ``ftkit.table.build_table`` (the validation scan that also
tokenizes each valid record and hashes its canonical JSON with the seed). The choice of
validation records is made on that table. Pass 2 copies each physical line, byte for byte, to
the file its line number was routed to.

Which records go to validation
  Records are grouped (exact duplicates always; with ``group_by`` also records sharing a system
  prompt or a first user message) and every group has a keyed hash (blake2b, seeded). Walking
  the groups from the lowest hash up, a group is taken while taking it brings validation closer
  to the target, ``round(ratio * N)`` records (clamped to 1..N-1) or ``count``. With no
  duplicate groups validation therefore holds exactly the target. ``stratify="length"`` cuts
  the groups, ordered by token length, into up to 10 strata of equal size and does the same
  walk in each stratum with its share of the target (largest remainder).

What appending records does (the trade-off)
  The choice depends on the set of records only, not on their order: sorting or shuffling the
  input changes nothing. A split that depends on nothing but the set cannot both keep every
  existing record in place when records are appended and hit the target size within one record:
  staying put under every append forces a record's side to depend on that record alone (a
  threshold on its hash), and then the validation size is binomial, not exact. ftkit keeps the
  exact size and order-independence and guarantees this much: without ``stratify`` and
  without duplicate groups, appending k records moves at most k existing records, all in the
  same direction (the existing records in validation are the lowest-hash prefix before and
  after). ``tests/test_split.py`` checks exactly that.

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
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import polars as pl

    from ftkit.models import Report, Violation

DEFAULT_SEED = "ftkit"
GroupBy = Literal["system", "first-user"]
Stratify = Literal["length"]
OUTPUT_NAMES = {"train": "train.jsonl", "validation": "validation.jsonl", "rejected": "rejected.jsonl"}
_MAX_STRATA = 10
_TRAIN, _VALIDATION = 1, 2


class SplitError(Exception):
    """The split cannot start or finish: bad options, unreadable input, outputs in the way."""


class SplitRefused(SplitError):
    """The input has findings that keep it from being split as it is (``report`` shows them)."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class OutputFile(BaseModel):
    path: str
    records: int = Field(description="lines written (for rejected: input lines that are not usable records)")
    tokens: int | None = Field(description="templated tokens of the records written; null for rejected lines")


class SplitResult(BaseModel):
    """What ``split_file`` returns; the CLI's JSON output."""

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
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    ratio: float | None = None,
    count: int | None = None,
    seed: str = DEFAULT_SEED,
    group_by: GroupBy | None = None,
    stratify: Stratify | None = None,
    drop_invalid: bool = False,
    force: bool = False,
    profile: str = "siliconflow",
    jobs: int = 1,
) -> SplitResult:
    """Split ``path`` into ``out_dir``/train.jsonl and validation.jsonl (see the module docstring).

    Raises ``SplitRefused`` for findings that block the split and ``SplitError`` for anything else
    that stops it; never prints, never exits, never touches the input.
    """
    from ftkit.engine import ValidationError
    from ftkit.profile import ProfileError, load_profile
    from ftkit.table import build_table

    try:
        prof = load_profile(profile)
    except ProfileError as exc:
        raise SplitError(str(exc)) from None
    src = Path(path)
    ratio = _check_options(ratio, count, seed, group_by, stratify, prof.split.get("validation_ratio"), profile)
    if not src.is_file():
        raise SplitError(f"{src}: {'is a directory; split takes one file' if src.is_dir() else 'no such file'}")
    outputs = _outputs(src, Path(out_dir), drop_invalid, force)
    before = _fingerprint(src)
    try:
        table = build_table(src, profile=prof, keys=True, seed=seed, jobs=jobs)
    except (ValidationError, OSError) as exc:
        raise SplitError(str(exc)) from None
    report, assumptions = table.report, table.assumptions.describe()
    errors = [v for v in report.violations if v.severity == "error"]
    whole_file = sorted({v.code for v in errors if v.line is None})
    if whole_file:
        raise SplitRefused(f"{src}: findings about the whole file ({', '.join(whole_file)}) cannot be dropped line by line; fix the file first", report)
    rejected = set(table.rejected.get(str(src), ())) | {v.line for v in errors if v.line is not None}
    if rejected and not drop_invalid:
        raise SplitRefused(f"{src}: {len(rejected):,} line{'s' if len(rejected) != 1 else ''} with errors; fix them or pass --drop-invalid to write them to {outputs['rejected']}", report)
    frame = table.frame.select("line", "total", "key", "system_key", "first_user_key") if table.frame.height else table.frame
    del table  # the other columns are not needed: free them before choosing
    if rejected and frame.height:
        import polars as pl

        frame = frame.filter(~pl.col("line").is_in(pl.Series(sorted(rejected), dtype=pl.Int64).implode()))
    n = frame.height
    if n < 2:
        raise SplitRefused(f"{src}: {n} usable record{'s' if n != 1 else ''}; a split needs at least 2", report)
    if count is not None and count >= n:
        raise SplitError(f"validation count {count} leaves no training records: the file has {n:,} usable records")
    target = count if count is not None else min(max(int(ratio * n + 0.5), 1), n - 1)  # type: ignore[operator]
    val = choose_validation(frame, target, group_by, stratify)
    counts = _write(src, outputs, frame, val, report, drop_invalid, prof.data.max_line_bytes, before)
    return _result(src, outputs, frame, val, counts, seed, ratio if count is None else None, count, target, group_by, stratify, assumptions)


def _check_options(ratio: float | None, count: int | None, seed: str, group_by: str | None, stratify: str | None,
                   default_ratio: float | None, profile: str) -> float | None:
    if ratio is not None and count is not None:
        raise SplitError("give either a validation ratio or a validation count, not both")
    if ratio is None and count is None:
        if default_ratio is None:
            raise SplitError(f"profile {profile!r} has no [split] validation_ratio; give a ratio or a count")
        ratio = default_ratio
    if ratio is not None and not 0 < ratio < 1:
        raise SplitError(f"validation ratio {ratio} is out of range; expected a number between 0 and 1 (exclusive)")
    if count is not None and count < 1:
        raise SplitError(f"validation count {count} is out of range; expected 1 or more")
    if len(seed.encode("utf-8")) > 64:
        raise SplitError("the seed is longer than 64 bytes (the hash key's limit); use a shorter seed")
    if group_by not in (None, "system", "first-user"):
        raise SplitError(f"unknown group-by {group_by!r}; expected system or first-user")
    if stratify not in (None, "length"):
        raise SplitError(f"unknown stratify {stratify!r}; expected length")
    return ratio


def _outputs(src: Path, out_dir: Path, drop_invalid: bool, force: bool) -> dict[str, Path]:
    from ftkit.outputs import OutputExists, OutputIsInput, check_outputs

    if out_dir.exists() and not out_dir.is_dir():
        raise SplitError(f"--out-dir {out_dir} is a file, not a directory")
    outputs = {kind: out_dir / name for kind, name in OUTPUT_NAMES.items()}
    try:
        check_outputs([p for kind, p in outputs.items() if kind != "rejected" or drop_invalid], [src], force)
    except (OutputExists, OutputIsInput) as exc:
        raise SplitError(str(exc)) from None
    return outputs


def _fingerprint(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _group_key(group_by: str | None) -> pl.Expr:
    import polars as pl

    if group_by == "system":  # records without a system prompt are not one group
        return pl.when(pl.col("system_key") != 0).then(pl.col("system_key")).otherwise(pl.col("key"))
    if group_by == "first-user":
        return pl.col("first_user_key")
    return pl.col("key")


def choose_validation(frame: pl.DataFrame, target: int, group_by: str | None = None, stratify: str | None = None) -> pl.Series:
    """Boolean mask over ``frame``'s rows: True for the records that go to validation."""
    import polars as pl

    keyed = frame.select(g=_group_key(group_by), total=pl.col("total"))
    # Groups from runs of the sorted keys: far less memory than group_by on a million keys.
    ordered = keyed.sort("g")
    groups = ordered["g"].rle().struct.unnest().select(g="value", size=pl.col("len").cast(pl.Int64))
    n = keyed.height
    if stratify:
        strata = min(_MAX_STRATA, max(target, 1))
        running = ordered["total"].cum_sum().gather(groups["size"].cum_sum() - 1)
        groups = groups.with_columns(length=(running - running.shift(1, fill_value=0)) / groups["size"])
        groups = groups.sort("length", "g").with_columns(
            stratum=((pl.col("size").cum_sum() - pl.col("size") / 2) * strata / n).floor().cast(pl.Int64).clip(0, strata - 1)
        )
        sizes = groups.group_by("stratum").agg(pl.col("size").sum()).sort("stratum")
        quotas = _apportion(target, dict(zip(sizes["stratum"].to_list(), sizes["size"].to_list())))
        groups = groups.sort("g")
    else:
        groups = groups.with_columns(stratum=pl.lit(0, dtype=pl.Int64))
        quotas = {0: target}
    del ordered
    # The walk below, done at once for its first stretch: the lowest-hash groups of a stratum that
    # fit in its quota are all taken (a running sum only grows, so they are a prefix).
    if stratify:
        fits = pl.col("size").cum_sum().over("stratum") <= pl.col("stratum").replace_strict(quotas, return_dtype=pl.Int64)
    else:
        fits = pl.col("size").cum_sum() <= target
    chosen = groups.filter(fits)
    for s, taken in zip(*chosen.group_by("stratum").agg(pl.col("size").sum()).get_columns()):
        quotas[s] -= taken
    rest = groups.filter(~fits)
    picked = _walk(rest, quotas)
    if stratify and sum(quotas.values()) > 0:  # strata short of their share (big groups): fill from any
        left = rest.filter(~pl.col("g").is_in(pl.Series(picked, dtype=pl.Int64).implode())).with_columns(stratum=pl.lit(0, dtype=pl.Int64))
        picked += _walk(left, {0: sum(quotas.values())})
    taken = pl.concat([chosen["g"], pl.Series("g", picked, dtype=pl.Int64)])
    return keyed["g"].is_in(taken.implode())


def _walk(groups: pl.DataFrame, quotas: dict[int, int]) -> list[int]:
    """Take each group, in hash order, that brings its stratum closer to its quota (updated)."""
    import polars as pl

    most = max(quotas.values(), default=0)
    if most <= 0:
        return []
    candidates = groups.filter(pl.col("size") < 2 * most)
    picked = []
    for g, size, stratum in zip(*candidates.select("g", "size", "stratum").get_columns()):
        need = quotas[stratum]
        if 0 < size < 2 * need:
            picked.append(g)
            quotas[stratum] = need - size
    return picked


def _apportion(total: int, sizes: dict[int, int]) -> dict[int, int]:
    """Split ``total`` over the strata in proportion to their sizes (largest remainder)."""
    whole = sum(sizes.values())
    shares = {s: total * n / whole for s, n in sizes.items()}
    quotas = {s: int(share) for s, share in shares.items()}
    by_remainder = sorted(sizes, key=lambda s: (-(shares[s] - quotas[s]), s))
    for s in by_remainder[: total - sum(quotas.values())]:
        quotas[s] += 1
    return quotas


def _write(src: Path, outputs: dict[str, Path], frame: pl.DataFrame, val: pl.Series, report: Report,
           drop_invalid: bool, max_line_bytes: int, fingerprint: tuple[int, int]) -> dict[str, int]:
    """Pass 2: copy every line to its output through temp files; rename them all at the end."""
    from ftkit.outputs import atomic_write
    from ftkit.reader import iter_lines
    from ftkit.rejects import RejectsFile, kept

    lines = frame["line"]
    side = bytearray((int(lines.max()) + 1) if frame.height else 1)  # type: ignore[arg-type]
    for line, to_validation in zip(lines, val):  # Series iterate in chunks: no list of a million ints
        side[line] = _VALIDATION if to_validation else _TRAIN
    findings: dict[int, list[Violation]] = defaultdict(list)
    for v in report.violations:
        if v.line is not None:
            findings[v.line].append(v)
    kinds = ["train", "validation"] + (["rejected"] if drop_invalid else [])
    counts = dict.fromkeys(kinds, 0)
    try:
        with ExitStack() as stack:  # every temp file is renamed into place only if all complete
            outs = {kind: stack.enter_context(atomic_write(outputs[kind])) for kind in kinds}
            train, validation = outs["train"], outs["validation"]
            rejects = RejectsFile(outs["rejected"]) if drop_invalid else None
            record_start = n = 0
            with open(src, "rb") as stream:
                for raw in iter_lines(stream, max_line_bytes):
                    n += 1
                    where = side[n] if n < len(side) else 0
                    if where == _TRAIN:
                        train.write(raw + b"\n")  # type: ignore[operator]
                    elif where == _VALIDATION:
                        validation.write(raw + b"\n")  # type: ignore[operator]
                    elif not drop_invalid:  # a non-record line whose findings are not errors
                        raise SplitRefused(f"{src}:{n} is not a record that can be split; pass --drop-invalid to write it to {outputs['rejected']}", report)
                    else:
                        record_start = n if n in findings else record_start
                        rejects.add({"line": n}, _reasons(findings.get(n), record_start), kept(raw))  # type: ignore[union-attr]
                        counts["rejected"] += 1
                        continue
                    record_start = n
                    counts["train" if where == _TRAIN else "validation"] += 1
            if _fingerprint(src) != fingerprint:  # the routing was planned on other contents
                raise SplitError(f"{src} changed while it was being split; nothing was written, run the split again")
    except OSError as exc:
        raise SplitError(f"cannot write the split to {outputs['train'].parent}: {exc.strerror or exc}") from None
    return counts


def _reasons(found: list[Violation] | None, record_start: int) -> list[str]:
    from ftkit.rejects import reason

    if found:
        return [reason(v.code, v.pointer, v.message) for v in found]
    # the engine reports a record spread over lines at its first line only
    return [f"continues the record that starts at line {record_start}" if record_start else "not a record"]


def _result(src: Path, outputs: dict[str, Path], frame: pl.DataFrame, val: pl.Series, counts: dict[str, int], seed: str,
            ratio: float | None, count: int | None, target: int, group_by: GroupBy | None, stratify: Stratify | None,
            assumptions: list[str]) -> SplitResult:
    import polars as pl

    key, first_user = pl.col("key"), pl.col("first_user_key")
    figures = frame.with_columns(val=val).select(
        train_tokens=pl.col("total").filter(~pl.col("val")).sum(),
        val_tokens=pl.col("total").filter(pl.col("val")).sum(),
        leaked=key.filter(pl.col("val")).is_in(key.filter(~pl.col("val")).implode()).sum(),
        shared=first_user.filter(pl.col("val")).is_in(first_user.filter(~pl.col("val")).implode()).sum(),
    ).row(0, named=True)
    rejected = OutputFile(path=str(outputs["rejected"]), records=counts["rejected"], tokens=None) if "rejected" in counts else None
    return SplitResult(
        input=str(src),
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
