"""``ftkit stats``: exact token statistics for the platform's models, offline."""

from __future__ import annotations

import click

from ftkit.cli import cli, common_options, emit, jobs_option, quiet_option, settings_context
from ftkit.cli.progress import Display
from ftkit.render.safe import model_json


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--model", help="Base model whose tokenizer and chat template to use [default: the profile's].")
@click.option("--tokenizer", help="Override: a tokenizer key, a tiktoken encoding name, or a tokenizer.json path.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Max Tokens for the truncation figures [default: the profile's].")
@click.option("--no-default-system", is_flag=True, help="Do not add the template's default system prompt to records without one.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@common_options
@jobs_option
@quiet_option
def stats(paths: tuple[str, ...], model: str | None, tokenizer: str | None, max_tokens: int | None,
          no_default_system: bool, fmt: str, jobs: int, quiet: bool, **options: object) -> None:  # fmt: skip
    """Token statistics: totals, trainable tokens, lengths, truncation at Max Tokens.

    Exit 0 when records were counted (those with errors are left out and counted as such),
    1 when none could be, 2 for usage or I/O errors."""
    from ftkit.api.core import nothing_counted, stats_of
    from ftkit.errors import DataError
    from ftkit.scan.inputs import open_inputs

    ctx = settings_context(options, model=model, max_tokens=max_tokens)
    with open_inputs(list(paths)) as inputs, Display.for_command("stats", quiet) as display:
        result, scan = stats_of(ctx, inputs, tokenizer=tokenizer, default_system=False if no_default_system else None, jobs=jobs,
                                progress=display.progress)  # fmt: skip
    from ftkit.render.plan import render_stats_text

    emit(model_json(result) if fmt == "json" else render_stats_text(result))
    if result.records == 0:  # nothing to count: say why (empty, compressed, not JSON Lines, ...)
        raise DataError(nothing_counted(scan))
