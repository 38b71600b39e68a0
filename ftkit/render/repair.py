"""Text for people: what fix and convert did. Pure renderers of their results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftkit.render.safe import safe

if TYPE_CHECKING:
    from ftkit.repair.common import OutputCheck
    from ftkit.repair.convert import ConvertResult
    from ftkit.repair.fix import FixResult


def _by_code(counts: dict[str, int]) -> str:
    from ftkit.checks import RULES, all_rules

    all_rules()
    return ", ".join(f"{safe(code)} {RULES[code].name if code in RULES else ''} {n:,}".replace("  ", " ") for code, n in counts.items())


def _verdict(check: OutputCheck, output: str) -> str:
    found = f"{check.errors:,} error{'s' if check.errors != 1 else ''}, {check.warnings:,} warning{'s' if check.warnings != 1 else ''}"
    detail = f" ({_by_code(check.by_code)})" if check.by_code else ""
    if check.clean:
        return f"output validates clean: {check.records:,} records, {found}{detail}"
    return f"output does NOT validate: {check.records:,} records, {found}{detail}; `ftkit validate {safe(output)}` shows them"


def render_fix(result: FixResult) -> str:
    """The text summary of a ``FixResult``."""
    out = [
        f"fixed {safe(result.input)} -> {safe(result.output)}: {result.records:,} records, {result.written:,} written "
        f"({result.rewritten:,} re-serialised), {result.rejected:,} rejected -> {safe(result.rejects)}"
    ]
    if result.backup:
        out.append(f"original kept as {safe(result.backup)}")
    if result.fixed:
        out.append(f"fixed {result.fixed:,} record{'s' if result.fixed != 1 else ''}; records by code: {_by_code(result.fixed_by_code)}")
    if result.blank_lines:
        out.append(f"dropped {result.blank_lines:,} blank line{'s' if result.blank_lines != 1 else ''} (FT005)")
    total = sum(result.changes_by_code.values())
    out.append(f"changes logged in {safe(result.changes)}: {total:,}" + (f" ({_by_code(result.changes_by_code)})" if total else ""))
    if result.rejected_by_code:
        out.append(f"rejected by code: {_by_code(result.rejected_by_code)}")
    out.append(_verdict(result.output_check, result.output))
    return "\n".join(out)


def render_convert(result: ConvertResult) -> str:
    """The text summary of a ``ConvertResult``."""
    container = "JSON array, loaded whole" if result.container == "json-array" else "JSONL"
    how = "detected" if result.detected else "reading"
    unmatched = result.records - result.matched
    out = [
        f"{how} {result.format} in {safe(result.input)} ({container}): {result.matched:,} of {result.records:,} records match"
        + (f", {unmatched:,} do not" if unmatched else ""),
        f"converted {result.written:,} -> {safe(result.output)}; rejected {result.rejected:,} -> {safe(result.rejects)}",
    ]
    if result.rejected_by_reason:
        out.append("rejected by reason: " + _by_code(result.rejected_by_reason))
    if result.folded:
        out.append(f"tool use folded into text in {result.folded:,} records")
    if result.ignored_keys:
        out.append("input keys not carried over: " + ", ".join(f"{safe(k)} ({n:,} records)" for k, n in result.ignored_keys.items()))
    out.append(_verdict(result.output_check, result.output))
    return "\n".join(out)
