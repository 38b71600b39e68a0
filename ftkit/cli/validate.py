"""``ftkit validate`` and ``ftkit rules``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, UsageProblem, _colour, _settings, _split_codes, cli, jobs_option


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--profile", help="Platform profile name or path to a profile .toml [default: siliconflow].")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (FT1,FT203). Repeatable.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes. Repeatable.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), help="Exit 1 on findings at or above this severity [default: error].")
@click.option("--max-shown", type=click.IntRange(min=0), help="Text format: how many findings to print [default: 50].")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="pyproject.toml to read [tool.ftkit] from [default: nearest].")
@jobs_option
@click.option("--tokens", is_flag=True, help="Also count tokens and report records over Max Tokens (FT401).")
@click.option("--model", help="With --tokens: base model [default: the profile's].")
@click.option("--max-tokens", type=click.IntRange(min=1), help="With --tokens: Max Tokens [default: the profile's].")
@click.option("--against", type=click.Path(exists=True, dir_okay=False, path_type=str), help="Warn about records also in this file (FT503), e.g. the validation file of a split.")
def validate(paths: tuple[str, ...], profile: str | None, fmt: str, select: tuple[str, ...], ignore: tuple[str, ...],
             fail_on: str | None, max_shown: int | None, config: str | None, jobs: int,
             tokens: bool, model: str | None, max_tokens: int | None, against: str | None) -> None:
    """Check JSONL files (or directories of them) against the platform's data rules."""
    from ftkit.scan.engine import ValidationError, scan
    from ftkit.policy.profile import ProfileError
    from ftkit.render.text import render_github, render_json, render_text

    settings = _settings(config)
    chosen = {
        "profile": profile or settings.profile,
        "select": _split_codes(select) or settings.select,
        "ignore": _split_codes(ignore) or settings.ignore,
    }
    try:
        if tokens:
            from ftkit.scan.engine import validate as validate_with_tokens

            report: Any = validate_with_tokens(list(paths), **chosen, jobs=jobs, tokens=True, model=model, max_tokens=max_tokens)
        else:  # the plain scan result: text and GitHub output never import pydantic
            report = scan(list(paths), **chosen, jobs=jobs)
        if against:
            from ftkit.scan.against import with_against

            report = with_against(_documented(report), against, chosen["profile"], chosen["select"], chosen["ignore"])
    except (ValidationError, ProfileError, ValueError, OSError) as exc:
        raise UsageProblem(str(exc)) from None
    if fmt == "json":
        click.echo(render_json(_documented(report)))
    elif fmt == "github":
        text = render_github(report)
        if text:
            click.echo(text)
    else:
        shown = settings.max_shown if max_shown is None else max_shown
        click.echo(render_text(report, max_shown=shown, colour=_colour()))
    sys.exit(EXIT_FINDINGS if report.fails(fail_on or settings.fail_on) else EXIT_OK)  # type: ignore[arg-type]


def _documented(report: Any) -> Any:
    """The public pydantic ``Report`` (for JSON and --against), from a plain scan result."""
    return report.to_report() if hasattr(report, "to_report") else report


@cli.command("rules")
@click.option("--profile", default="siliconflow", show_default=True, help="Profile whose severities to show.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_cmd(profile: str, fmt: str) -> None:
    """List every rule code with its name, severity and summary."""
    import json

    from ftkit.checks import all_rules
    from ftkit.policy.profile import ProfileError, load_profile

    try:
        prof = load_profile(profile)
    except ProfileError as exc:
        raise UsageProblem(str(exc)) from None
    rows = [{"code": r.code, "name": r.name, "severity": prof.severity.get(r.code, "error"), "summary": r.summary} for r in all_rules()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['code']}  {row['name']:<28} {row['severity']:<8} {row['summary']}")
