"""``ftkit fix`` and ``ftkit convert``: repair data and bring it in from other formats.

Both exit 0 when every record was written and the output validates with no error, 1 when records
were rejected (or the output still has an error), 2 on usage or I/O problems and on input that
cannot be read as records at all (not JSON, compressed, unknown format): nothing is written then.
"""

from __future__ import annotations

import sys

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, UsageProblem, _settings, cli

_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
_profile_option = click.option("--profile", help="Platform profile name or path to a profile .toml [default: siliconflow].")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="The fixed file (.jsonl).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=str), help="Records that cannot be fixed [default: OUT with .rejects.jsonl for .jsonl].")
@click.option("--changes", type=click.Path(dir_okay=False, path_type=str), help="JSON log of every change by line [default: OUT with .changes.json for .jsonl].")
@click.option("--merge-consecutive", is_flag=True, help="Merge two user or two assistant messages in a row, joined by a blank line (FT203).")
@click.option("--drop-unpaired-user", is_flag=True, help="Drop a final user message that has no reply (FT204).")
@click.option("--remove-unknown-keys", is_flag=True, help="Remove record and message keys the platform does not use (FT111, FT112).")
@click.option("--in-place", is_flag=True, help="Replace PATH instead of writing OUT, keeping the original as PATH.bak (refused if it exists).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@_profile_option
@_format_option
def fix(path: str, output: str | None, rejects: str | None, changes: str | None, merge_consecutive: bool,
        drop_unpaired_user: bool, remove_unknown_keys: bool, in_place: bool, force: bool, profile: str | None, fmt: str) -> None:
    """Write a repaired copy of a JSONL file: safe, documented fixes only, each one logged.

    Always: strip a BOM (FT004), drop blank lines (FT005), CRLF to LF (FT015), join a
    pretty-printed record onto one line (FT008), fix a role's case, spaces or known alias (FT109).
    Records still in error go to the rejects file with their line and reasons. Records no fix
    touched are copied byte for byte.
    """
    from ftkit.repair.fix import FixOptions, fix_file
    from ftkit.policy.profile import ProfileError
    from ftkit.repair.common import RepairError

    options = FixOptions(merge_consecutive=merge_consecutive, drop_unpaired_user=drop_unpaired_user, remove_unknown_keys=remove_unknown_keys)
    try:
        result = fix_file(path, output, rejects=rejects, changes=changes, options=options, in_place=in_place,
                          force=force, profile=profile or _settings(None).profile)
    except (RepairError, ProfileError) as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_fix(result))
    sys.exit(EXIT_OK if not result.rejected and result.output_check.clean else EXIT_FINDINGS)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str), help="The SiliconFlow messages file (.jsonl).")
@click.option("--from", "source", type=click.Choice(["auto", "alpaca", "sharegpt", "prompt-completion", "openai"]), default="auto", show_default=True,
              help="Input format; auto goes by the shape of the first 100 records.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=str), help="Records that cannot be converted [default: OUT with .rejects.jsonl for .jsonl].")
@click.option("--tools", type=click.Choice(["reject", "fold"]), default="reject", show_default=True,
              help="Records with function calls and tool results: reject them, or fold calls, results and tool definitions into the text.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@_profile_option
@_format_option
def convert(path: str, output: str, source: str, rejects: str | None, tools: str, force: bool, profile: str | None, fmt: str) -> None:
    """Convert Alpaca, ShareGPT, prompt/completion or OpenAI records (JSON array or JSONL) to SiliconFlow JSONL.

    Every record is written or rejected with its reasons. A JSON array is loaded whole; JSONL is
    streamed.
    """
    from ftkit.repair.convert import convert_file
    from ftkit.policy.profile import ProfileError
    from ftkit.repair.common import RepairError

    try:
        result = convert_file(path, output, source_format=source, rejects=rejects, tools=tools,  # type: ignore[arg-type]
                              force=force, profile=profile or _settings(None).profile)
    except (RepairError, ProfileError) as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_convert(result))
    sys.exit(EXIT_OK if not result.rejected and result.output_check.clean else EXIT_FINDINGS)


def _by_code(counts: dict[str, int]) -> str:
    from ftkit.checks import RULES, all_rules

    all_rules()
    return ", ".join(f"{code} {RULES[code].name if code in RULES else ''} {n:,}".replace("  ", " ") for code, n in counts.items())


def _verdict(check, output: str) -> str:  # type: ignore[no-untyped-def]
    found = f"{check.errors:,} error{'s' if check.errors != 1 else ''}, {check.warnings:,} warning{'s' if check.warnings != 1 else ''}"
    detail = f" ({_by_code(check.by_code)})" if check.by_code else ""
    if check.clean:
        return f"output validates clean: {check.records:,} records, {found}{detail}"
    return f"output does NOT validate: {check.records:,} records, {found}{detail}; `ftkit validate {output}` shows them"


def render_fix(result) -> str:  # type: ignore[no-untyped-def]
    """The text summary of a ``FixResult``."""
    out = [f"fixed {result.input} -> {result.output}: {result.records:,} records, {result.written:,} written "
           f"({result.rewritten:,} re-serialised), {result.rejected:,} rejected -> {result.rejects}"]
    if result.backup:
        out.append(f"original kept as {result.backup}")
    if result.fixed:
        out.append(f"fixed {result.fixed:,} record{'s' if result.fixed != 1 else ''}; records by code: {_by_code(result.fixed_by_code)}")
    if result.blank_lines:
        out.append(f"dropped {result.blank_lines:,} blank line{'s' if result.blank_lines != 1 else ''} (FT005)")
    total = sum(result.changes_by_code.values())
    out.append(f"changes logged in {result.changes}: {total:,}" + (f" ({_by_code(result.changes_by_code)})" if total else ""))
    if result.rejected_by_code:
        out.append(f"rejected by code: {_by_code(result.rejected_by_code)}")
    out.append(_verdict(result.output_check, result.output))
    return "\n".join(out)


def render_convert(result) -> str:  # type: ignore[no-untyped-def]
    """The text summary of a ``ConvertResult``."""
    container = "JSON array, loaded whole" if result.container == "json-array" else "JSONL"
    how = "detected" if result.detected else "reading"
    unmatched = result.records - result.matched
    out = [f"{how} {result.format} in {result.input} ({container}): {result.matched:,} of {result.records:,} records match"
           + (f", {unmatched:,} do not" if unmatched else ""),
           f"converted {result.written:,} -> {result.output}; rejected {result.rejected:,} -> {result.rejects}"]
    if result.rejected_by_reason:
        out.append("rejected by reason: " + _by_code(result.rejected_by_reason))
    if result.folded:
        out.append(f"tool use folded into text in {result.folded:,} records")
    if result.ignored_keys:
        out.append("input keys not carried over: " + ", ".join(f"{k} ({n:,} records)" for k, n in result.ignored_keys.items()))
    out.append(_verdict(result.output_check, result.output))
    return "\n".join(out)
