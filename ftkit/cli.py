"""The ``ftkit`` command line: parse options, call the library, render, exit 0/1/2.

Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 usage or I/O error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ftkit import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageProblem(click.ClickException):
    """A one-line message and exit code 2: bad input we can explain, never a traceback."""

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def, override]
        click.echo(f"ftkit: {self.format_message()}", err=True)


def _split_codes(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _settings(config: str | None):  # type: ignore[no-untyped-def]
    from ftkit.config import ConfigError, find_pyproject, load_settings

    try:
        return load_settings(Path(config) if config else find_pyproject())
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ftkit")
def cli() -> None:
    """Prepare chat fine-tuning JSONL for SiliconFlow: validate, measure, split, cost."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--profile", help="Platform profile name or path to a profile .toml [default: siliconflow].")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (FT1,FT203). Repeatable.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes. Repeatable.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), help="Exit 1 on findings at or above this severity [default: error].")
@click.option("--max-shown", type=click.IntRange(min=0), help="Text format: how many findings to print [default: 50].")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="pyproject.toml to read [tool.ftkit] from [default: nearest].")
@click.option("--jobs", type=click.IntRange(min=1), default=lambda: min(2, os.cpu_count() or 1), help="Processes for big files [default: up to 2 cores].")
def validate(paths: tuple[str, ...], profile: str | None, fmt: str, select: tuple[str, ...], ignore: tuple[str, ...],
             fail_on: str | None, max_shown: int | None, config: str | None, jobs: int) -> None:
    """Check JSONL files (or directories of them) against the platform's data rules."""
    from ftkit.engine import ValidationError, validate as run
    from ftkit.profile import ProfileError
    from ftkit.render import render_github, render_json, render_text

    settings = _settings(config)
    try:
        report = run(
            list(paths),
            profile=profile or settings.profile,
            select=_split_codes(select) or settings.select,
            ignore=_split_codes(ignore) or settings.ignore,
            jobs=jobs,
        )
    except (ValidationError, ProfileError) as exc:
        raise UsageProblem(str(exc)) from None
    if fmt == "json":
        click.echo(render_json(report))
    elif fmt == "github":
        text = render_github(report)
        if text:
            click.echo(text)
    else:
        shown = settings.max_shown if max_shown is None else max_shown
        click.echo(render_text(report, max_shown=shown, colour=_colour()))
    sys.exit(EXIT_FINDINGS if report.fails(fail_on or settings.fail_on) else EXIT_OK)  # type: ignore[arg-type]


@cli.command("rules")
@click.option("--profile", default="siliconflow", show_default=True, help="Profile whose severities to show.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_cmd(profile: str, fmt: str) -> None:
    """List every rule code with its name, severity and summary."""
    import json

    from ftkit.checks import all_rules
    from ftkit.profile import ProfileError, load_profile

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


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: no traceback reaches the user unless FTKIT_DEBUG is set."""
    try:
        cli.main(args=argv, prog_name="ftkit", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("ftkit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line
        if os.environ.get("FTKIT_DEBUG"):
            raise
        click.echo(f"ftkit: internal error: {type(exc).__name__}: {exc} (set FTKIT_DEBUG=1 for the traceback; please report it)", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
