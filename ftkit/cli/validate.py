"""``ftkit validate`` and ``ftkit rules``."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from ftkit.cli import (
    EXIT_FINDINGS,
    EXIT_OK,
    cli,
    colour,
    common_options,
    emit,
    emit_lines,
    jobs_option,
    quiet_option,
    settings_context,
    stdout_binary,
)
from ftkit.cli.progress import Display


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@click.option(
    "--fail-on", type=click.Choice(["error", "warning", "info"]), help="Exit 1 on findings at or above this severity [default: error]."
)
@click.option("--max-shown", type=click.IntRange(min=0), help="Text format: how many findings to print [default: 50].")
@click.option("--tokens", is_flag=True, help="Also count tokens and report records over Max Tokens (FT401).")
@click.option("--model", help="With --tokens: base model [default: the profile's].")
@click.option("--max-tokens", type=click.IntRange(min=1), help="With --tokens: Max Tokens [default: the profile's].")
@click.option(
    "--privacy",
    is_flag=True,
    help="Look for every kind of personal data and secret (FT601-FT606), not only email addresses [or [tool.ftkit] privacy].",
)
@click.option(
    "--against",
    multiple=True,
    type=click.Path(path_type=str),
    help="Warn about records also in this file (FT503), e.g. the validation file of a split. Repeatable.",
)
@common_options
@jobs_option
@quiet_option
def validate(paths: tuple[str, ...], fmt: str, fail_on: str | None, max_shown: int | None, tokens: bool, model: str | None,
             max_tokens: int | None, privacy: bool, against: tuple[str, ...], jobs: int, quiet: bool, **options: object) -> None:  # fmt: skip
    """Check JSONL files, folders of them, or - (standard input) against the platform's data rules.

    Exit 0 when no finding is at or above --fail-on, 1 when one is, 2 for a usage or I/O problem.
    """
    from ftkit.api import check
    from ftkit.scan.inputs import open_inputs

    ctx = settings_context(options, model=model, max_tokens=max_tokens)
    with open_inputs(list(paths)) as inputs, Display.for_command("validate", quiet) as display:
        others = [open_inputs(path, directories=False) for path in against]
        try:
            scan = check(ctx, inputs, jobs=jobs, tokens=tokens, model=ctx.settings.model, max_tokens=ctx.settings.max_tokens,
                         against=others, progress=display.progress, privacy=privacy or None)  # fmt: skip
        finally:
            for other in others:
                other.close()
    if fmt == "json":
        from ftkit.render.findings import write_json

        write_json(scan, stdout_binary())
    elif fmt == "github":
        from ftkit.render.findings import github_lines

        emit_lines(github_lines(scan))
    else:
        from ftkit.render.findings import text_lines

        shown = ctx.settings.max_shown if max_shown is None else max_shown
        emit_lines(text_lines(scan, max_shown=shown, colour=colour()))
    sys.exit(EXIT_FINDINGS if scan.fails(fail_on or ctx.settings.fail_on) else EXIT_OK)


@cli.command("rules")
@click.option("--profile", default="siliconflow", show_default=True, help="Profile whose severities to show.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--remedies", is_flag=True, help="Text format: also show what repairs each rule (JSON always has it).")
def rules_cmd(profile: str, fmt: str, remedies: bool) -> None:
    """List every rule code with its name, severity, summary and remedy."""
    import json

    from ftkit.checks import all_rules
    from ftkit.policy.profile import load_profile

    prof = load_profile(profile)
    rows = [{"code": r.code, "name": r.name, "severity": prof.severity.get(r.code, "error"), "summary": r.summary,
             "remedy": r.remedy} for r in all_rules()]  # fmt: skip
    if fmt == "json":
        emit(json.dumps(rows, indent=2, ensure_ascii=False))
        return

    def lines() -> Iterator[str]:
        for row in rows:
            yield f"{row['code']}  {row['name']:<28} {row['severity']:<8} {row['summary']}"
            if remedies and row["remedy"]:
                yield f"{'':<7}remedy: {row['remedy']}"

    emit_lines(lines())
