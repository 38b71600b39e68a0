"""``ftkit stats``: exact token statistics for the platform's models, offline."""

from __future__ import annotations

import sys

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, UsageProblem, _settings, cli, jobs_option


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--model", help="Base model whose tokenizer and chat template to use [default: the profile's].")
@click.option("--tokenizer", help="Override: a tokenizer key, a tiktoken encoding name, or a tokenizer.json path.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Max Tokens for the truncation figures [default: the profile's].")
@click.option("--no-default-system", is_flag=True, help="Do not add the template's default system prompt to records without one.")
@click.option("--profile", default="siliconflow", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@jobs_option
def stats(paths: tuple[str, ...], model: str | None, tokenizer: str | None, max_tokens: int | None,
          no_default_system: bool, profile: str, fmt: str, jobs: int) -> None:
    """Token statistics: totals, trainable tokens, lengths, truncation at Max Tokens.

    Exit 0 when records were counted (those with errors are left out and counted as such),
    1 when none could be, 2 for usage or I/O errors."""
    settings = _settings(None)  # [tool.ftkit] select/ignore decide which records count, as in validate
    table = load_table(paths, profile=profile, model=model, tokenizer=tokenizer, max_tokens=max_tokens,
                       default_system=False if no_default_system else None, jobs=jobs, dataset_rules=False,
                       select=tuple(settings.select), ignore=tuple(settings.ignore))
    from ftkit.render.text import render_stats_text  # after the scan: a forked second process never needs them
    from ftkit.plan.stats import compute_stats

    result = compute_stats(table)
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_stats_text(result))
    if result.records == 0:  # nothing to count: say why (empty, compressed, not JSON Lines, ...)
        whole_file = [f"{v.path}: {v.code} {v.message}" for v in table.report.violations if v.line is None and v.severity == "error"]
        click.echo("ftkit: no record could be counted" + (" (" + "; ".join(whole_file) + ")" if whole_file else "; see ftkit validate"), err=True)
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


def load_table(paths: tuple[str, ...] | list[str], **kwargs):  # type: ignore[no-untyped-def]
    """``ftkit.table.build_table`` with its errors turned into one-line usage problems."""
    from ftkit.scan.engine import ValidationError
    from ftkit.policy.profile import ProfileError
    from ftkit.tokens.table import build_table

    try:
        return build_table(list(paths), **kwargs)
    except (ValidationError, ProfileError, ValueError) as exc:  # TokenizerUnavailable is a ValueError
        raise UsageProblem(str(exc)) from None
    except KeyError as exc:
        raise UsageProblem(f"unknown model {exc.args[0]!r}; see `ftkit rules` or rules/tokenizers.toml for the known models") from None
