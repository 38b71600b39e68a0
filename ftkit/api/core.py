"""The core of the library: settings, inputs, the scan, and the verbs that read the token table
(validate, table, stats, split, recommend, cost). ``ftkit.api`` gathers every verb."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftkit.checks import Selector
from ftkit.config import Settings, resolve
from ftkit.errors import DataError
from ftkit.findings import FileResult, Scan, sort_findings
from ftkit.policy.profile import Profile, as_profile
from ftkit.progress import Progress
from ftkit.scan.inputs import Inputs, open_inputs

if TYPE_CHECKING:  # annotations only: decimal and fractions cost validate's start-up 3 ms
    from datetime import date
    from decimal import Decimal
    from fractions import Fraction

    from ftkit.models import Report
    from ftkit.plan.cost import CostEstimate
    from ftkit.plan.recommend import Recommendation
    from ftkit.plan.split import GroupBy, SplitResult, Stratify
    from ftkit.plan.stats import Stats
    from ftkit.scan.overlap import Overlaps
    from ftkit.tokens.table import RecordTable

#: What a verb reads: a path, several, "-" for standard input, or (validate, stats) records in memory.
Source = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[Mapping[str, Any]] | Any


class Context:
    """The settings, profile and selector one command works with."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.profile: Profile = as_profile(settings.profile)
        self.selected = Selector(settings.select, settings.ignore)

    @property
    def config(self) -> str | None:
        return self.settings.source


def context(config: str | os.PathLike[str] | bool | None = None, **given: Any) -> Context:
    return Context(resolve(os.fspath(config) if isinstance(config, os.PathLike) else config, **given))


def _start(progress: Progress | None, inputs: Inputs) -> None:
    if progress is not None:
        progress.total = inputs.total_size
        progress.phase = "reading"


# --- validate -------------------------------------------------------------------------------------


def check(ctx: Context, inputs: Inputs, *, jobs: int = 1, tokens: bool = False, model: str | None = None,
          max_tokens: int | None = None, against: Iterable[Inputs] = (), progress: Progress | None = None,
          privacy: bool | None = None) -> Scan:  # fmt: skip
    """``validate`` on opened inputs, returning the scan's plain result (what the CLI renders).

    ``privacy``: True looks for every kind of personal data and secret (FT601-FT606); otherwise
    (False, or None without ``[tool.ftkit] privacy = true``) only for validate's default kinds."""
    from ftkit.scan.engine import run_scan

    _start(progress, inputs)
    everything = ctx.settings.privacy if privacy is None else privacy
    kinds = True if everything else None
    if not tokens:
        scan = run_scan(inputs, ctx.profile, ctx.selected, jobs=jobs, counter=progress, config=ctx.config, privacy=kinds)
    else:
        tab = token_table(
            ctx,
            inputs,
            model=model,
            max_tokens=max_tokens,
            jobs=jobs,
            near_duplicates=True,
            dataset_rules=True,
            progress=progress,
            privacy=kinds,
        )
        scan = tab.scan
        from ftkit.plan.cuts import length_findings

        by_file: dict[int, list[Any]] = {}
        for i, finding in length_findings(tab, ctx.selected):
            by_file.setdefault(i, []).append(finding)
        for i, lengths in by_file.items():
            _extend(scan.files[i], lengths)
    compare_against(ctx, inputs, against, scan)
    return scan


def compare_against(ctx: Context, inputs: Inputs, against: Iterable[Inputs], scan: Scan) -> Overlaps | None:
    """Add what the inputs share with each evaluation file: exact copies (FT503), then runs of
    n words (FT508, not repeated on a line that is already a copy). None without ``against``."""
    others = [next(iter(other)) for other in against]
    if not others:
        return None
    from ftkit.scan.against import shared_records
    from ftkit.scan.overlap import overlapping

    copies: dict[str, set[int | None]] = {}
    for other in others:
        found = shared_records(list(inputs), other, ctx.profile, ctx.selected)
        for result in scan.files:
            _extend(result, found.get(result.path, ()))
            copies.setdefault(result.path, set()).update(f.line for f in found.get(result.path, ()))
    overlaps = overlapping(list(inputs), others, ctx.profile, ctx.selected)
    for result in scan.files:
        seen = copies.get(result.path, set())
        _extend(result, (f for f in overlaps.findings.get(result.path, ()) if f.line not in seen))
    return overlaps


def _extend(result: FileResult, findings: Iterable[Any]) -> None:
    new = list(findings)
    if new:
        result.findings.extend(new)
        sort_findings(result.findings)


def validate(
    source: Source,
    *,
    profile: str | Profile | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    jobs: int = 1,
    tokens: bool = False,
    model: str | None = None,
    max_tokens: int | None = None,
    against: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    privacy: bool | None = None,
    progress: Progress | None = None,
) -> Report:
    """Validate files, a folder of ``*.jsonl`` files, standard input (``"-"``) or records in
    memory against the platform's rules; every finding with its line, JSON pointer and code.

    ``tokens=True`` also counts tokens and adds FT401 (over Max Tokens), FT402 (reply cut) and
    FT403 (reply lost) for ``model`` at ``max_tokens`` (defaults: the profile's), and the rules
    that run where tokens are counted (FT305, FT504). ``against``: other file(s) whose records
    must not also be in these (FT503) nor share a run of 13 words with them (FT508).
    ``privacy=True`` looks for every kind of personal data and secret (FT601-FT606), not only
    email addresses (None: ``[tool.ftkit] privacy``, default false). Returns ``ftkit.models.Report``.
    """
    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model, max_tokens=max_tokens)
    with open_inputs(source) as inputs:
        others = [open_inputs(p, directories=False) for p in _paths(against)]
        try:
            scan = check(ctx, inputs, jobs=jobs, tokens=tokens, model=ctx.settings.model, max_tokens=ctx.settings.max_tokens,
                         against=others, progress=progress, privacy=privacy)  # fmt: skip
        finally:
            for other in others:
                other.close()
    from ftkit.models import report_of

    return report_of(scan)


def _paths(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, (str, os.PathLike)) else list(value)


# --- the token table and what reads it -------------------------------------------------------------


def token_table(ctx: Context, inputs: Inputs, *, model: str | None = None, tokenizer: str | None = None,
           default_system: bool | None = None, max_tokens: int | None = None, keys: bool = False, seed: str = "ftkit",
           jobs: int = 1, near_duplicates: bool = False, dataset_rules: bool = False,
           progress: Progress | None = None, privacy: bool | None = False,
           columns: Sequence[str] | None = None) -> RecordTable:  # fmt: skip
    """The table of ``inputs``; ``columns``: only these (``build_table``'s)."""
    from ftkit.plan.table import build_table

    _start(progress, inputs)
    return build_table(inputs, ctx.profile, ctx.selected, model=model or ctx.settings.model, tokenizer=tokenizer,
                       default_system=default_system, max_tokens=max_tokens if max_tokens is not None else ctx.settings.max_tokens,
                       keys=keys, seed=seed, jobs=jobs, near_duplicates=near_duplicates, dataset_rules=dataset_rules,
                       counter=progress, config=ctx.config, privacy=privacy, columns=columns)  # fmt: skip


def table(
    source: Source,
    *,
    profile: str | Profile | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    keys: bool = False,
    seed: str = "ftkit",
    jobs: int = 1,
) -> RecordTable:
    """The per-record token table itself (``.frame`` is a polars DataFrame, one row per valid
    record), for analyses of your own; the figures of stats, split, recommend and cost come from it."""
    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model, max_tokens=max_tokens)
    with open_inputs(source) as inputs:
        return token_table(ctx, inputs, keys=keys, seed=seed, jobs=jobs)


def stats(
    source: Source,
    *,
    profile: str | Profile | None = None,
    model: str | None = None,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    default_system: bool | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Stats:
    """Exact token statistics for the profile's models, offline: totals, trainable tokens,
    lengths, what Max Tokens cuts. Records with errors are left out and counted. Raises
    ``DataError`` when no record could be counted at all."""
    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model, max_tokens=max_tokens)
    with open_inputs(source) as inputs:
        result, scan = stats_of(ctx, inputs, tokenizer=tokenizer, default_system=default_system, jobs=jobs, progress=progress)
    if result.records == 0:
        raise DataError(nothing_counted(scan), scan)
    return result


def stats_of(ctx: Context, inputs: Inputs, *, tokenizer: str | None = None, default_system: bool | None = None, jobs: int = 1,
             progress: Progress | None = None) -> tuple[Stats, Scan]:  # fmt: skip
    """``stats`` on opened inputs, with the scan it read them by (the CLI shows a result of no
    records before it says why: ``nothing_counted``)."""
    from ftkit.plan.table import STATS_COLUMNS

    tab = token_table(ctx, inputs, tokenizer=tokenizer, default_system=default_system, jobs=jobs, progress=progress,
                      columns=STATS_COLUMNS)  # fmt: skip
    from ftkit.plan.stats import compute_stats  # after the scan: a forked second process never needs it

    return compute_stats(tab), tab.scan


def nothing_counted(scan: Scan) -> str:
    whole = [f"{path}: {f.code} {f.message}" for path, f in scan.violations() if f.line is None and scan.severity_of(f.code) == "error"]
    return "no record could be counted" + (" (" + "; ".join(whole) + ")" if whole else "; `ftkit validate` shows why")


def split(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    val_ratio: float | None = None,
    val_count: int | None = None,
    seed: str = "ftkit",
    group_by: GroupBy | None = None,
    stratify: Stratify | None = None,
    drop_invalid: bool = False,
    force: bool = False,
    profile: str | Profile | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> SplitResult:
    """Split one file (or ``"-"``) into ``out_dir``/train.jsonl and validation.jsonl: every line
    byte for byte in exactly one output, exact duplicates on one side, the same seed the same
    split. Raises ``DataError`` (its ``scan`` says why) when the file has errors and
    ``drop_invalid`` is not set."""
    from ftkit.plan.split import split_file

    ctx = context(config, profile=profile, select=select, ignore=ignore)
    with open_inputs(path, directories=False, single=True) as inputs:
        _start(progress, inputs)
        return split_file(inputs.items[0], out_dir, ctx.profile, ctx.selected, ratio=val_ratio, count=val_count, seed=seed,
                          group_by=group_by, stratify=stratify, drop_invalid=drop_invalid, force=force, jobs=jobs,
                          counter=progress, config=ctx.config)  # fmt: skip


def recommend(
    source: Source,
    *,
    goal: str = "standard",
    profile: str | Profile | None = None,
    model: str | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Recommendation:
    """LoRA parameters for the data, from the platform's schemes, each with its reason."""
    from ftkit.plan.recommend import recommend as run

    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model)
    with open_inputs(source) as inputs:
        tab = token_table(ctx, inputs, keys=True, jobs=jobs, progress=progress)  # keys: the same split as split and cost
    return run(tab, ctx.profile, goal)


def cost(
    source: Source,
    *,
    profile: str | Profile | None = None,
    model: str | None = None,
    epochs: int | None = None,
    max_tokens: int | None = None,
    price: Decimal | str | int | float | None = None,
    currency: str | None = None,
    val_ratio: float | str | Decimal | Fraction | None = None,
    seed: str = "ftkit",
    compare: bool = False,
    prompt_before: str | os.PathLike[str] | None = None,
    prompt_after: str | os.PathLike[str] | None = None,
    calls: int | None = None,
    output_tokens: int | None = None,
    inference_price: str | tuple[Any, Any] | None = None,
    today: date | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> CostEstimate:
    """Billed training tokens (and the cost, given ``price`` per million tokens) with the
    formula and dated prices. Raises ``DataError`` when no record is valid.

    ``prompt_before`` (the prompt's text, or a path-like to read it from) adds ``payoff``: what
    ``prompt_after`` (default: the file's most common system prompt) saves per call, the cost of
    ``calls`` calls before and after at ``inference_price`` ("BEFORE,AFTER" or a pair; default:
    rules/prices.toml) with ``output_tokens`` per reply, and the break-even against the training
    cost; ``today`` dates the prices' age (default: the system's date)."""
    from ftkit.plan.cost import estimate
    from ftkit.plan.payoff_inputs import payoff_request
    from ftkit.plan.split import check_seed

    check_seed(seed)
    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model, max_tokens=max_tokens)
    payoff = payoff_request(prompt_before, prompt_after, calls, output_tokens, inference_price, today)
    with open_inputs(source) as inputs:
        tab = token_table(ctx, inputs, keys=True, seed=seed, jobs=jobs, progress=progress)
    if not tab.frame.height:
        raise DataError("no valid record to cost: fix the errors `ftkit validate` reports first", tab.scan)
    return estimate(tab, profile=ctx.profile, model=tab.assumptions.model, epochs=epochs, max_tokens=ctx.settings.max_tokens,
                    price=price, currency=currency, val_ratio=val_ratio, compare=compare, payoff=payoff)  # fmt: skip


def _opt_path(value: str | os.PathLike[str] | None) -> Path | None:
    return Path(value) if value is not None else None
