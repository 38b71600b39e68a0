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


def _verdict(check: OutputCheck, output: str, rejected: int = 0, records: int = 0, rejects: str = "") -> str:
    found = f"{check.errors:,} error{'s' if check.errors != 1 else ''}, {check.warnings:,} warning{'s' if check.warnings != 1 else ''}"
    detail = f" ({_by_code(check.by_code)})" if check.by_code else ""
    missing = (f"; but {rejected:,} of {records:,} input record{'s' if records != 1 else ''} "
               f"{'were' if rejected != 1 else 'was'} NOT written (their reasons are in {safe(rejects)})") if rejected else ""  # fmt: skip
    if check.clean and not rejected:
        return f"output validates clean: {check.records:,} records, {found}{detail}"
    if check.clean:
        return f"output validates with no error: {check.records:,} records, {found}{detail}{missing}"
    return f"output does NOT validate: {check.records:,} records, {found}{detail}; `ftkit validate {safe(output)}` shows them{missing}"


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
    out.append(_verdict(result.output_check, result.output, result.rejected, result.records, result.rejects))
    return "\n".join(out)


_EXAMPLES = 5  # reasons shown with an example
_CONTAINERS = {"jsonl": "JSON Lines", "json-array": "a JSON array, loaded whole", "json-object": "one JSON object",
               "parquet": "Parquet"}  # fmt: skip
_FORMATS = {
    "bedrock": "Amazon Bedrock conversation records", "preference": "preference pairs", "kto": "labelled (KTO) records",
    "multimodal": "multimodal records", "openai": "OpenAI messages", "sharegpt": "ShareGPT conversations",
    "alpaca": "Alpaca records", "prompt-completion": "prompt/completion records", "columns": "flat columns (--map)",
}  # fmt: skip


def render_convert(result: ConvertResult) -> str:
    """The text summary of a ``ConvertResult``: what was detected, written N, rejected M by reason."""
    fmt = f"{_FORMATS.get(result.format, result.format)} ({result.format})"
    found = result.detection
    if found is not None:
        how = (f"detected {fmt} from the keys {', '.join(safe(k) for k in found.keys)} "
               f"({found.records:,} of the first {found.sample:,} records)")  # fmt: skip
    else:
        how = f"reading {fmt}"
    unmatched = result.records - result.matched
    out = [
        f"{safe(result.input)} ({_CONTAINERS[result.container]}, {result.records:,} records): {how}"
        + (f"; {unmatched:,} records do not have that shape" if unmatched else ""),
        f"written {result.written:,} -> {safe(result.output)}",
        f"rejected {result.rejected:,} -> {safe(result.rejects)}"
        + (f": {_by_code(result.rejected_by_reason)}" if result.rejected_by_reason else ""),
    ]
    shown = list(result.reason_examples.items())
    out += [f"  e.g. {safe(text)}" for _, text in shown[:_EXAMPLES]]
    if len(shown) > _EXAMPLES:
        out.append(f"  ... and {len(shown) - _EXAMPLES:,} more reasons (--format json lists one example of each)")
    if result.shape is not None:
        out.append(f"the file: {safe(result.shape.message)}")
    if result.folded:
        out.append(f"tool use folded into text in {result.folded:,} records")
    total = sum(result.changes_by_code.values())
    out.append(f"changes logged in {safe(result.changes)}: {total:,}"
               + (f" in {result.changed:,} records ({_by_code(result.changes_by_code)})" if total else ""))  # fmt: skip
    if result.ignored_keys:
        out.append("input keys not carried over: " + ", ".join(f"{safe(k)} ({n:,} records)" for k, n in result.ignored_keys.items()))
    out.append(_verdict(result.output_check, result.output, result.rejected, result.records, result.rejects))
    return "\n".join(out)
