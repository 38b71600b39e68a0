"""``ftkit split``: train/validation files that lose no line and leak no record."""

from __future__ import annotations

import os
import sys

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, UsageProblem, _colour, _settings, cli


@cli.command()
@click.argument("path", type=click.Path(path_type=str))
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=str), help="Directory for train.jsonl, validation.jsonl (and rejected.jsonl).")
@click.option("--val-ratio", type=float, help="Share of records for validation [default: the profile's, 0.1 for siliconflow].")
@click.option("--val-count", type=click.IntRange(min=1), help="Number of records for validation (instead of --val-ratio).")
@click.option("--seed", default="ftkit", show_default=True, help="Key of the hash that assigns records; another seed, another split.")
@click.option("--group-by", type=click.Choice(["system", "first-user"]), help="Keep records sharing this on the same side.")
@click.option("--stratify", type=click.Choice(["length"]), help="Match validation's token-length distribution to training's.")
@click.option("--drop-invalid", is_flag=True, help="Write lines with errors to rejected.jsonl instead of refusing the file.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--profile", help="Platform profile name or path to a profile .toml [default: siliconflow].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--max-shown", type=click.IntRange(min=0), help="Text format: how many findings to print when refusing [default: 50].")
@click.option("--jobs", type=click.IntRange(min=1), default=lambda: min(2, os.cpu_count() or 1), help="Processes for big files [default: up to 2 cores].")
def split(path: str, out_dir: str, val_ratio: float | None, val_count: int | None, seed: str, group_by: str | None,
          stratify: str | None, drop_invalid: bool, force: bool, profile: str | None, fmt: str, max_shown: int | None, jobs: int) -> None:
    """Split a JSONL file into DIR/train.jsonl and DIR/validation.jsonl, reproducibly.

    Records are assigned by a keyed hash of their content: the same seed gives the same files,
    exact duplicates stay on one side, and each output line is the input line, byte for byte.
    Exit 1 when the file has errors (unless --drop-invalid), 2 on usage or I/O problems.
    """
    from ftkit.render.text import render_json, render_text
    from ftkit.plan.split import SplitError, SplitRefused, split_file

    settings = _settings(None)
    try:
        result = split_file(path, out_dir, ratio=val_ratio, count=val_count, seed=seed, group_by=group_by,  # type: ignore[arg-type]
                            stratify=stratify, drop_invalid=drop_invalid, force=force,  # type: ignore[arg-type]
                            profile=profile or settings.profile, jobs=jobs)
    except SplitRefused as exc:
        if fmt == "json":
            click.echo(render_json(exc.report))
        else:
            shown = settings.max_shown if max_shown is None else max_shown
            click.echo(render_text(exc.report, max_shown=shown, colour=_colour()))
        click.echo(f"ftkit: not split: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    except SplitError as exc:
        raise UsageProblem(str(exc)) from None
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(render_split(result))
    sys.exit(EXIT_OK)


def render_split(result) -> str:  # type: ignore[no-untyped-def]
    """The text summary of a ``SplitResult``."""
    how = f"ratio {result.ratio:g}" if result.ratio is not None else f"count {result.count}"
    extra = "".join(f", {name} {value}" for name, value in (("group-by", result.group_by), ("stratify", result.stratify)) if value)
    out = [f"split {result.input} (seed {result.seed!r}, {how}, target {result.target:,} validation records{extra})"]
    rows = [("train", result.train), ("validation", result.validation)] + ([("rejected", result.rejected)] if result.rejected else [])
    width = max(len(f.path) for _, f in rows)
    for name, f in rows:
        tokens = f"{f.tokens:>12,} tokens" if f.tokens is not None else ""
        out.append(f"  {name:<10}  {f.path:<{width}}  {f.records:>9,} {'records' if name != 'rejected' else 'lines  '}{tokens}")
    out.append(f"records on both sides: {result.leaked_records:,} (expected 0)")
    if result.shared_first_user and result.group_by != "first-user":
        out.append(f"note: {result.shared_first_user:,} validation records open with a user message that also opens a training record; --group-by first-user keeps them together")
    return "\n".join(out)
