"""``ftkit split``: train/validation files that lose no line and leak no record."""

from __future__ import annotations

import sys
from typing import cast

import click

from ftkit.cli import EXIT_FINDINGS, cli, colour, common_options, emit, emit_lines, fail, jobs_option, quiet_option, settings_context
from ftkit.render.safe import model_json


@cli.command()
@click.argument("path", type=click.Path(path_type=str))
@click.option(
    "--out-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Directory for train.jsonl, validation.jsonl (and rejected.jsonl).",
)
@click.option("--val-ratio", type=float, help="Share of records for validation [default: the profile's, 0.1 for siliconflow].")
@click.option("--val-count", type=click.IntRange(min=1), help="Number of records for validation (instead of --val-ratio).")
@click.option("--seed", default="ftkit", show_default=True, help="Key of the hash that assigns records; another seed, another split.")
@click.option(
    "--group-by",
    type=click.Choice(["system", "first-user", "near"]),
    help="Keep records sharing this on the same side (near: each cluster of near-duplicates, FT504).",
)
@click.option("--stratify", type=click.Choice(["length"]), help="Match validation's token-length distribution to training's.")
@click.option("--drop-invalid", is_flag=True, help="Write lines with errors to rejected.jsonl instead of refusing the file.")
@click.option("--force", is_flag=True, help="Replace existing output files (atomically).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--max-shown", type=click.IntRange(min=0), help="Text format: how many findings to print when refusing [default: 50].")
@common_options
@jobs_option
@quiet_option
def split(path: str, out_dir: str, val_ratio: float | None, val_count: int | None, seed: str, group_by: str | None,
          stratify: str | None, drop_invalid: bool, force: bool, fmt: str, max_shown: int | None, jobs: int, quiet: bool,
          **options: object) -> None:  # fmt: skip
    """Split a JSONL file (or - for standard input) into DIR/train.jsonl and DIR/validation.jsonl.

    Records are assigned by a keyed hash of their content: the same seed gives the same files,
    exact duplicates stay on one side, and each output line is the input line, byte for byte.
    Exit 1 when the file has errors (unless --drop-invalid), 2 on usage or I/O problems.
    """
    from ftkit.cli.progress import Display
    from ftkit.errors import DataError
    from ftkit.plan.split import GroupBy, Stratify, split_file
    from ftkit.render.plan import render_split
    from ftkit.scan.inputs import open_inputs

    ctx = settings_context(options)
    try:
        with open_inputs(path, directories=False, single=True) as inputs, Display.for_command("split", quiet) as display:
            display.progress.total = inputs.total_size
            result = split_file(
                inputs.items[0],
                out_dir,
                ctx.profile,
                ctx.selected,
                ratio=val_ratio,
                count=val_count,
                seed=seed,
                group_by=cast("GroupBy | None", group_by),  # click checked the choices
                stratify=cast("Stratify | None", stratify),
                drop_invalid=drop_invalid,
                force=force,
                jobs=jobs,
                counter=display.progress,
                config=ctx.config,
            )
    except DataError as exc:
        if exc.scan is not None:
            if fmt == "json":
                from ftkit.cli import stdout_binary
                from ftkit.render.findings import write_json

                write_json(exc.scan, stdout_binary())
            else:
                from ftkit.render.findings import text_lines

                emit_lines(text_lines(exc.scan, max_shown=ctx.settings.max_shown if max_shown is None else max_shown, colour=colour()))
        fail(f"not split: {exc}", EXIT_FINDINGS)
    emit(model_json(result) if fmt == "json" else render_split(result))
    sys.exit(0)
