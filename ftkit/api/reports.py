"""The report and show verbs of the library (``ftkit.api`` gathers every verb)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ftkit.errors import ParameterError
from ftkit.policy.profile import Profile
from ftkit.progress import Progress
from ftkit.scan.inputs import Inputs, open_inputs

if TYPE_CHECKING:
    from ftkit.plan.payoff_inputs import PayoffRequest
    from ftkit.plan.report_model import QualityReport
    from ftkit.plan.show import RecordView
    from ftkit.scan.overlap import Overlaps
    from ftkit.tokens.table import RecordTable

#: What a verb reads: a path, several, "-" for standard input, or (validate, stats) records in memory.
from ftkit.api.core import Context, Source, _paths, compare_against, context, token_table

ReportFormat = Literal["html", "md", "json"]
_SUFFIX_FORMAT: dict[str, ReportFormat] = {".md": "md", ".markdown": "md", ".json": "json", ".html": "html", ".htm": "html"}


def report(
    source: Source,
    *,
    output: str | os.PathLike[str] | None = None,
    format: ReportFormat | None = None,  # the CLI's --format
    force: bool = False,
    goal: str = "standard",
    price: Decimal | str | None = None,
    currency: str | None = None,
    examples: int = 3,
    prompt_before: str | os.PathLike[str] | None = None,
    prompt_after: str | os.PathLike[str] | None = None,
    calls: int | None = None,
    output_tokens: int | None = None,
    inference_price: str | tuple[Any, Any] | None = None,
    today: date | None = None,
    profile: str | Profile | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    jobs: int = 1,
    against: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    progress: Progress | None = None,
) -> QualityReport:
    """The data-quality report: verdict, findings, token statistics, duplicates, quality,
    personal data and secrets, recommendation and cost, from one pass. With ``output``, also writes it (HTML, Markdown or
    JSON, from ``format`` or the file's suffix), atomically and never over an existing file
    unless ``force``. ``prompt_before`` and the other payoff keywords of ``cost`` add the
    inference payoff (``cost.payoff``, a Payoff section). ``against``: evaluation file(s) to
    compare with (FT503, FT508), shown in an "Overlap with evaluation data" section."""
    from ftkit.plan.payoff_inputs import payoff_request

    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model, max_tokens=max_tokens)
    payoff = payoff_request(prompt_before, prompt_after, calls, output_tokens, inference_price, today)
    with open_inputs(source) as inputs:
        out = Path(output) if output is not None else None
        fmt = report_format(format, out)
        check_report_inputs(ctx, inputs, out, force, price)
        others = [open_inputs(p, directories=False) for p in _paths(against)]
        try:
            tab = token_table(ctx, inputs, keys=True, jobs=jobs, near_duplicates=True, dataset_rules=True, progress=progress, privacy=True)
            overlaps = compare_against(ctx, inputs, others, tab.scan)
        finally:
            for other in others:
                other.close()
        result = build_quality_report(ctx, tab, goal=goal, price=price, currency=currency, examples=examples, payoff=payoff,
                                      overlaps=overlaps)  # fmt: skip
        if out is not None:
            write_report(result, out, fmt, force=force, like=inputs.items[0].path if inputs.items else None)
    return result


def report_format(fmt: str | None, output: Path | None) -> ReportFormat:
    if fmt is not None:
        if fmt not in ("html", "md", "json"):
            raise ParameterError(f"unknown report format {fmt!r}; expected html, md or json")
        return fmt  # type: ignore[return-value]  # checked above
    return _SUFFIX_FORMAT.get(output.suffix.lower(), "html") if output is not None else "html"


def check_report_inputs(ctx: Context, inputs: Inputs, output: Path | None, force: bool, price: Any) -> None:
    from ftkit.outputs import check_outputs
    from ftkit.plan.money import parse_price

    if output is not None:
        check_outputs([output], [i.path for i in inputs], force=force)
    if price is not None:
        parse_price(price)
    limit = ctx.settings.max_tokens
    if limit is not None:
        from ftkit.plan.params import check_parameters

        checked = check_parameters({"max_tokens": limit}, ctx.profile)
        if not checked.ok:
            raise ParameterError("; ".join(c.message for c in checked.checks if not c.ok))


def build_quality_report(ctx: Context, tab: RecordTable, *, goal: str = "standard", price: Any = None,
                         currency: str | None = None, examples: int = 3, payoff: PayoffRequest | None = None,
                         overlaps: Overlaps | None = None) -> QualityReport:  # fmt: skip
    from ftkit.plan.report import build_report

    return build_report(tab, ctx.profile, goal=goal, price=price, currency=currency, selected=ctx.selected, examples=examples,
                        payoff=payoff, overlaps=overlaps)  # fmt: skip


def render_report(result: QualityReport, fmt: ReportFormat) -> str:
    if fmt == "json":
        from ftkit.render.safe import model_json

        return model_json(result) + "\n"
    from ftkit.render.report import render_html, render_markdown

    return render_html(result) if fmt == "html" else render_markdown(result)


def write_report(result: QualityReport, output: Path, fmt: ReportFormat, *, force: bool = False,
                 like: Path | None = None, text: str | None = None) -> None:  # fmt: skip
    from ftkit.outputs import atomic_write

    data = (text if text is not None else render_report(result, fmt)).encode("utf-8", "backslashreplace")
    with atomic_write(output, like=like, force=force) as out:
        out.write(data)


def show(
    source: Source,
    line: int,
    *,
    profile: str | Profile | None = None,
    model: str | None = None,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    default_system: bool | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
) -> RecordView:
    """The record starting on ``line`` of one file (or ``"-"``, or records in memory: record N
    is line N) as the model sees it: the templated text exactly as the tokenizer receives it,
    each token with its id, text and trainable flag, the tokens of each message, where Max Tokens
    cuts, and the record's findings. Raises ``ParameterError`` for a line that holds no record
    and ``DataError`` for a record that cannot be templated."""
    from ftkit.plan.show import show_record

    ctx = context(config, profile=profile, select=select, ignore=ignore, model=model, max_tokens=max_tokens)
    with open_inputs(source, directories=False, single=True) as inputs:
        return show_record(inputs.items[0], line, ctx.profile, ctx.selected, model=ctx.settings.model, tokenizer=tokenizer,
                           default_system=default_system, max_tokens=ctx.settings.max_tokens)  # fmt: skip
