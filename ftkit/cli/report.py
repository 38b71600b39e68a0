"""``ftkit report``: one data-quality page (HTML, Markdown or JSON) from one pass over the data.

Exit codes: 0 when the report is written, whatever the data holds (a report informs; it does not
gate), unless ``--fail-on`` is given: then 1 when a finding is at or above that severity. 2 for a
usage or I/O problem (an existing output without --force, an output that is an input, a bad price).
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, cli, common_options, emit, jobs_option, quiet_option, settings_context
from ftkit.cli.plan import payoff_of, payoff_options
from ftkit.cli.progress import Display
from ftkit.errors import ParameterError
from ftkit.policy import goal_names


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; without it, the report goes to stdout (HTML only when stdout is not a terminal).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json"]),
    help="Output format [default: from the -o suffix (.md, .json), else html].",
)
@click.option("--model", help="Base model (a chat model of the profile) [default: the profile's default].")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Max Tokens for truncation and cost [default: the profile's].")
@click.option(
    "--goal",
    type=click.Choice(goal_names()),
    default="standard",
    show_default=True,
    help="For the recommendation: quality = Effect Priority, fast = Lightweight Fast.",
)
@click.option("--price", help="Training price per million tokens (SiliconFlow's console shows it; not published).")
@click.option("--currency", help="Currency of --price [default: CNY].")
@click.option("--examples", type=click.IntRange(min=0), default=3, show_default=True, help="Example lines shown per rule.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    help="Exit 1 when a finding is at or above this severity [default: exit 0 whenever the report is written].",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists (atomically).")
@payoff_options
@click.option(
    "--against",
    multiple=True,
    type=click.Path(path_type=str),
    help="Evaluation file to compare with (FT503 copies, FT508 shared runs of words), in its own section. Repeatable.",
)
@common_options
@jobs_option
@quiet_option
def report(paths: tuple[str, ...], output: Path | None, fmt: str | None, model: str | None, max_tokens: int | None, goal: str,
           price: str | None, currency: str | None, examples: int, fail_on: str | None, force: bool, prompt_before: str | None,
           prompt_after: str | None, calls: int | None, output_tokens: int | None, inference_price: str | None,
           against: tuple[str, ...], jobs: int, quiet: bool, **options: object) -> None:  # fmt: skip
    """A data-quality report: verdict, findings, token statistics, recommendation and cost.

    With --prompt-before (and the other payoff options of `ftkit cost`), also a Payoff section:
    what the fine-tuned model's shorter prompt saves per call, and the break-even. With
    --against, an "Overlap with evaluation data" section.
    """
    from ftkit.api.core import compare_against, token_table
    from ftkit.api.reports import build_quality_report, check_report_inputs, render_report, report_format, write_report
    from ftkit.scan.inputs import open_inputs

    ctx = settings_context(options, model=model, max_tokens=max_tokens)
    form = report_format(fmt, output)
    if output is None and form == "html" and sys.stdout.isatty():
        raise ParameterError("an HTML report is a file: give -o report.html (or redirect stdout, or use --format md)")
    payoff = payoff_of(prompt_before, prompt_after, calls, output_tokens, inference_price)
    with open_inputs(list(paths)) as inputs, ExitStack() as stack:
        check_report_inputs(ctx, inputs, output, force, price)
        others = [stack.enter_context(open_inputs(path, directories=False)) for path in against]
        with Display.for_command("report", quiet) as display:
            table = token_table(
                ctx, inputs, keys=True, jobs=jobs, near_duplicates=True, dataset_rules=True, progress=display.progress, privacy=True
            )
            if others:
                display.progress.phase = "comparing with the evaluation data"
            overlaps = compare_against(ctx, inputs, others, table.scan)
            display.progress.phase = "statistics, recommendation and cost"
            result = build_quality_report(
                ctx, table, goal=goal, price=price, currency=currency, examples=examples, payoff=payoff, overlaps=overlaps
            )
            display.progress.phase = "drawing and writing"
            text = render_report(result, form)
            if output is not None:
                write_report(result, output, form, force=force, like=inputs.items[0].path if inputs.items else None, text=text)
    if output is None:
        emit(text, newline=False)
    else:
        emit(f"wrote {output} ({form}): {result.verdict.sentence}", err=True)
    sev = result.validation.by_severity
    levels = {"error": ("error",), "warning": ("error", "warning"), "info": ("error", "warning", "info")}
    failed = fail_on is not None and any(sev[level] for level in levels[fail_on])
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)
