"""``ftkit fix`` and ``ftkit convert``: repair data and bring it in from other formats.

Both exit 0 when every record was written and the output validates with no error; 1 when
records were rejected (they are in the rejects file, with reasons), when the output still has an
error, or when the input holds no usable record at all (empty, compressed, not JSON: nothing is
written then); 2 on usage or I/O problems.
"""

from __future__ import annotations

import sys
from typing import cast

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, cli, common_options, emit, quiet_option, settings_context
from ftkit.cli.progress import Display
from ftkit.render.safe import model_json

_EXIT_CODES = (
    "Exit codes: 0 every record written and the output validates; 1 some records rejected (or nothing usable); 2 usage or I/O problem."
)
_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


@cli.command(epilog=_EXIT_CODES)
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="The fixed file (.jsonl).")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=str),
    help="Records that cannot be fixed [default: OUT with .rejects.jsonl for .jsonl].",
)
@click.option(
    "--changes",
    type=click.Path(dir_okay=False, path_type=str),
    help="JSON log of every change by line [default: OUT with .changes.json for .jsonl].",
)
@click.option(
    "--merge-consecutive", is_flag=True, help="Merge two user or two assistant messages in a row, joined by a blank line (FT203)."
)
@click.option("--drop-unpaired-user", is_flag=True, help="Drop a final user message that has no reply (FT204).")
@click.option(
    "--remove-unknown-keys",
    is_flag=True,
    help='Remove record and message keys the platform does not use (FT111, FT112); a top-level "system" string is moved into a first system message.',
)
@click.option(
    "--redact",
    is_flag=False,
    flag_value="all",
    default=None,
    metavar="[KINDS]",
    help="Replace personal data and secrets by <EMAIL>, <PHONE>, <ID_NUMBER>, <CARD>, <IP>, <SECRET> (FT601-FT606): "
    "all kinds, or some, e.g. --redact=email,phone.",
)
@click.option(
    "--in-place", is_flag=True, help="Replace PATH instead of writing OUT, keeping the original as PATH.bak (refused if it exists)."
)
@click.option("--force", is_flag=True, help="Replace existing output files (atomically).")
@common_options
@_format_option
@quiet_option
def fix(path: str, output: str | None, rejects: str | None, changes: str | None, merge_consecutive: bool, drop_unpaired_user: bool,
        remove_unknown_keys: bool, redact: str | None, in_place: bool, force: bool, fmt: str, quiet: bool,
        **options: object) -> None:  # fmt: skip
    """Write a repaired copy of a JSONL file: safe, documented fixes only, each one logged.

    Always: strip a BOM (FT004), drop blank lines (FT005), CRLF to LF (FT015), join a
    pretty-printed record onto one line (FT008), fix a role's case, spaces or known alias (FT109).
    With --redact, personal data and secrets become typed placeholders; the change log has each
    one's line, pointer, kind and offsets, never the value.
    Records still in error go to the rejects file with their line and reasons. Records no fix
    touched are copied byte for byte. Exit 0: all written and the output validates; 1: some
    rejected (or nothing usable); 2: usage or I/O problem.
    """
    from pathlib import Path

    from ftkit.checks.privacy import redact_kinds
    from ftkit.render.repair import render_fix
    from ftkit.repair.fix import fix_file
    from ftkit.repair.record_fixes import FixOptions
    from ftkit.scan.inputs import open_inputs

    ctx = settings_context(options)
    fixes = FixOptions(merge_consecutive=merge_consecutive, drop_unpaired_user=drop_unpaired_user, remove_unknown_keys=remove_unknown_keys,
                       redact=redact_kinds(redact))  # fmt: skip
    with open_inputs(path, directories=False, single=True) as inputs, Display.for_command("fix", quiet) as display:
        display.progress.total = inputs.total_size
        result = fix_file(inputs.items[0], Path(output) if output else None, ctx.profile, ctx.selected,
                          rejects=Path(rejects) if rejects else None, changes=Path(changes) if changes else None,
                          options=fixes, in_place=in_place, force=force, counter=display.progress)  # fmt: skip
    emit(model_json(result) if fmt == "json" else render_fix(result))
    sys.exit(EXIT_OK if not result.rejected and result.output_check.clean else EXIT_FINDINGS)


def _columns(values: tuple[str, ...]) -> dict[str, str] | None:
    """``--map user=text --map assistant=ground_truth`` as ``{"user": "text", ...}``."""
    if not values:
        return None
    out: dict[str, str] = {}
    for value in values:
        role, sep, column = value.partition("=")
        if not sep or not column or role not in ("system", "user", "assistant"):
            raise click.BadParameter(f"{value!r}: expected ROLE=COLUMN with ROLE system, user or assistant", param_hint="--map")
        if role in out:
            raise click.BadParameter(f"{role} is mapped twice", param_hint="--map")
        out[role] = column
    return out


@cli.command(epilog=_EXIT_CODES)
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str), help="The SiliconFlow messages file (.jsonl)."
)
@click.option(
    "--from",
    "source",
    type=click.Choice(
        ["auto", "openai", "sharegpt", "alpaca", "prompt-completion", "bedrock", "preference", "kto", "multimodal", "columns"]
    ),
    default="auto",
    show_default=True,
    help="Input format; auto goes by the shape of the first 100 records and says which keys told it.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="Flat columns: --map user=COL --map assistant=COL [--map system=COL], for any table-shaped input (implies --from columns).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=str),
    help="Records that cannot be converted [default: OUT with .rejects.jsonl for .jsonl].",
)
@click.option(
    "--changes",
    type=click.Path(dir_okay=False, path_type=str),
    help="JSON log of what was moved or dropped in each written record, and why [default: OUT with .changes.json for .jsonl].",
)
@click.option(
    "--tools",
    type=click.Choice(["reject", "fold"]),
    default="reject",
    show_default=True,
    help="Records with function calls and tool results: reject them, or fold calls, results and tool definitions into the text.",
)
@click.option(
    "--preference",
    type=click.Choice(["reject", "chosen"]),
    default="reject",
    show_default=True,
    help="Preference pairs (chosen/rejected): reject them, or write each prompt with its chosen reply (the rejected one is dropped, and logged).",
)
@click.option(
    "--reasoning",
    type=click.Choice(["reject", "drop"]),
    default="reject",
    show_default=True,
    help="Replies with reasoning (reasoning_content, reasoning parts): reject them, or write the reply without it (logged).",
)
@click.option("--force", is_flag=True, help="Replace existing output files (atomically).")
@common_options
@_format_option
@quiet_option
def convert(path: str, output: str, source: str, mapping: tuple[str, ...], rejects: str | None, changes: str | None, tools: str,
            preference: str, reasoning: str, force: bool, fmt: str, quiet: bool, **options: object) -> None:  # fmt: skip
    """Convert chat data to SiliconFlow JSONL, keeping every piece of meaning or refusing the record and saying why.

    Reads JSON Lines, a JSON array, one JSON object or Parquet, in OpenAI, ShareGPT, Alpaca,
    prompt/completion, Amazon Bedrock, preference-pair, KTO or flat-column (--map) form. Every
    record is written or rejected with its reasons; records that refer to images, video or audio,
    KTO records labelled false, and (by default) preference pairs and reasoning are rejected.
    What a written record lost or moved is in the change log.
    """
    from pathlib import Path

    from ftkit.render.repair import render_convert
    from ftkit.repair.chat_formats import Format, PreferenceMode, ReasoningMode, ToolMode
    from ftkit.repair.convert import convert_file
    from ftkit.scan.inputs import open_inputs

    columns = _columns(mapping)
    ctx = settings_context(options)
    with open_inputs(path, directories=False, single=True) as inputs, Display.for_command("convert", quiet) as display:
        display.progress.total = inputs.total_size
        result = convert_file(
            inputs.items[0],
            Path(output),
            ctx.profile,
            ctx.selected,
            source_format=cast("Format", source),  # click checked the choices
            rejects=Path(rejects) if rejects else None,
            changes=Path(changes) if changes else None,
            tools=cast("ToolMode", tools),
            reasoning=cast("ReasoningMode", reasoning),
            preference=cast("PreferenceMode", preference),
            columns=columns,
            force=force,
            counter=display.progress,
        )
    emit(model_json(result) if fmt == "json" else render_convert(result))
    sys.exit(EXIT_OK if not result.rejected and result.output_check.clean else EXIT_FINDINGS)
