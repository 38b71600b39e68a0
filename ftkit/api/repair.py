"""The repair verbs of the library, fix and convert (``ftkit.api`` gathers every verb)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ftkit.policy.profile import Profile
from ftkit.progress import Progress
from ftkit.scan.inputs import open_inputs

if TYPE_CHECKING:
    from ftkit.repair.chat_formats import Format, PreferenceMode, ReasoningMode, ToolMode
    from ftkit.repair.convert import ConvertResult
    from ftkit.repair.fix import FixResult

#: What a verb reads: a path, several, "-" for standard input, or (validate, stats) records in memory.
from ftkit.api.core import _opt_path, _start, context

# --- repair ---------------------------------------------------------------------------------------


def fix(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    rejects: str | os.PathLike[str] | None = None,
    changes: str | os.PathLike[str] | None = None,
    merge_consecutive: bool = False,
    drop_unpaired_user: bool = False,
    remove_unknown_keys: bool = False,
    redact: str | Iterable[str] | bool | None = None,
    in_place: bool = False,
    force: bool = False,
    profile: str | Profile | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    progress: Progress | None = None,
) -> FixResult:
    """A repaired copy of a JSONL file: safe, documented fixes only, each logged; what cannot
    be repaired goes to the rejects file with its reasons, and the output is validated.

    ``redact``: replace personal data and secrets by typed placeholders (``<EMAIL>``, ``<PHONE>``,
    ``<ID_NUMBER>``, ``<CARD>``, ``<IP>``, ``<SECRET>``): True or "all" for every kind, or kinds
    such as "email,phone" (codes FT601-FT606 work too)."""
    from ftkit.checks.privacy import redact_kinds
    from ftkit.repair.fix import fix_file
    from ftkit.repair.record_fixes import FixOptions

    ctx = context(config, profile=profile, select=select, ignore=ignore)
    options = FixOptions(
        merge_consecutive=merge_consecutive, drop_unpaired_user=drop_unpaired_user, remove_unknown_keys=remove_unknown_keys,
        redact=redact_kinds(redact),
    )  # fmt: skip
    with open_inputs(path, directories=False, single=True) as inputs:
        _start(progress, inputs)
        return fix_file(inputs.items[0], _opt_path(output), ctx.profile, ctx.selected, rejects=_opt_path(rejects),
                        changes=_opt_path(changes), options=options, in_place=in_place, force=force, counter=progress)  # fmt: skip


def convert(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    source_format: Format | Literal["auto"] = "auto",
    rejects: str | os.PathLike[str] | None = None,
    changes: str | os.PathLike[str] | None = None,
    tools: ToolMode = "reject",
    reasoning: ReasoningMode = "reject",
    preference: PreferenceMode = "reject",
    columns: Mapping[str, str] | None = None,
    force: bool = False,
    profile: str | Profile | None = None,
    select: Iterable[str] | str | None = None,
    ignore: Iterable[str] | str | None = None,
    config: str | os.PathLike[str] | bool | None = None,
    progress: Progress | None = None,
) -> ConvertResult:
    """Records in other chat formats (OpenAI, ShareGPT, Alpaca, prompt/completion, Amazon Bedrock,
    preference pairs, KTO, or flat ``columns`` such as ``{"user": "text", "assistant":
    "ground_truth"}``; JSON Lines, a JSON array, one JSON object or Parquet) as SiliconFlow messages
    JSONL: every record is written, with what it lost or moved in the change log (``changes``), or
    rejected with reasons. ``preference="chosen"`` writes preference pairs with their chosen reply;
    ``reasoning="drop"`` writes replies without their reasoning."""
    from ftkit.repair.convert import convert_file

    ctx = context(config, profile=profile, select=select, ignore=ignore)
    with open_inputs(path, directories=False, single=True) as inputs:
        _start(progress, inputs)
        return convert_file(
            inputs.items[0],
            Path(output),
            ctx.profile,
            ctx.selected,
            source_format=source_format,
            rejects=_opt_path(rejects),
            changes=_opt_path(changes),
            tools=tools,
            reasoning=reasoning,
            preference=preference,
            columns=columns,
            force=force,
            counter=progress,
        )
