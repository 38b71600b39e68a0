"""Renderers: pure functions from a Report to text. They compute nothing."""

from __future__ import annotations

from collections import defaultdict

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftkit.models import Report
    from ftkit.plan.stats import Stats

# Renderers take a ``ftkit.models.Report`` or the scan's lighter ``ftkit.results.Scan``: the
# same fields, so ``ftkit validate`` need not import pydantic for text and GitHub output.

_COLOURS = {"error": "31", "warning": "33", "info": "36", "bold": "1", "dim": "2"}


def _paint(text: str, style: str, colour: bool) -> str:
    return f"\x1b[{_COLOURS[style]}m{text}\x1b[0m" if colour else text


def _location(v: Any) -> str:
    return f"{v.path}:{v.line}" if v.line is not None else v.path


def render_text(report: Any, max_shown: int = 50, colour: bool = False) -> str:
    """Findings grouped by file (the first ``max_shown``), then an exact summary."""
    out: list[str] = []
    by_file: dict[str, list[Any]] = defaultdict(list)
    for v in report.violations:
        by_file[v.path].append(v)
    shown = 0
    for summary in report.files:
        found = by_file.get(summary.path, [])
        state = "ok" if summary.valid_records == summary.records and summary.records else f"{summary.records - summary.valid_records} invalid"
        out.append(_paint(f"{summary.path}", "bold", colour) + f"  ({summary.records:,} records, {state})")
        for v in found:
            if shown >= max_shown:
                break
            shown += 1
            where = f" at {v.pointer}" if v.pointer else ""
            out.append(f"  {_location(v)}: {_paint(v.code, v.severity, colour)} {v.severity} [{v.name}]{where}: {v.message}")
    hidden = len(report.violations) - shown
    if hidden > 0:
        out.append(f"  ... and {hidden:,} more finding{'s' if hidden != 1 else ''} (--max-shown N to see more, --format json for all)")
    out.append("")
    names = {v.code: v.name for v in report.violations}
    if report.summary.by_code:
        out.append("Findings by rule:")
        for code, count in report.summary.by_code.items():
            out.append(f"  {code} {names[code]:<28} {count:>8,}")
    records = sum(f.records for f in report.files)
    valid = sum(f.valid_records for f in report.files)
    sev = report.summary.by_severity
    files = len(report.files)
    out.append(
        f"{files} file{'s' if files != 1 else ''}, {records:,} records, {valid:,} valid; "
        f"{sev['error']:,} error{'s' if sev['error'] != 1 else ''}, {sev['warning']:,} warning{'s' if sev['warning'] != 1 else ''}, {sev['info']:,} info"
    )
    return "\n".join(out)


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render_github(report: Any) -> str:
    """GitHub Actions workflow commands, one annotation per finding."""
    lines = []
    for v in report.violations:
        props = [f"file={_gh_property(v.path)}"]
        if v.line is not None:
            props.append(f"line={v.line}")
        props.append(f"title={_gh_property(f'{v.code} {v.name}')}")
        where = f" (at {v.pointer})" if v.pointer else ""
        lines.append(f"::{_GH_LEVEL[v.severity]} {','.join(props)}::{_gh_data(v.message + where)}")
    return "\n".join(lines)


def render_stats_text(stats: Stats, width: int = 40) -> str:
    """``ftkit stats`` for people: totals, distribution, histogram, truncation, assumptions."""
    t = stats.tokens
    out = [f"Records: {stats.records:,} counted" + (f", {stats.rejected:,} left out for errors (see ftkit validate)" if stats.rejected else "")]
    out.append(f"Tokens: {t.total:,} total (templated), {t.trainable:,} trainable (assistant)")
    role = t.content_by_role
    out.append(f"Content tokens by role: system {role.system:,}, user {role.user:,}, assistant {role.assistant:,}")
    if stats.lengths:
        ln = stats.lengths
        out.append(f"Tokens per record: min {ln.min:,}, mean {ln.mean:,}, p50 {ln.p50:,}, p90 {ln.p90:,}, p95 {ln.p95:,}, p99 {ln.p99:,}, max {ln.max:,}")
    if stats.turns:
        out.append(f"Turns per record: min {stats.turns.min}, mean {stats.turns.mean}, max {stats.turns.max}")
    if stats.histogram:
        out.append("")
        out.append("Tokens per record (histogram):")
        peak = max(b.count for b in stats.histogram) or 1
        for b in stats.histogram:
            bar = "#" * round(width * b.count / peak)
            out.append(f"  {b.lo:>7,}-{b.hi:<7,} {b.count:>8,} {bar}")
    over = stats.over_max_tokens
    out.append("")
    if over.records:
        shown = ", ".join(map(str, over.lines[:10])) + (" ..." if over.records > 10 else "")
        out.append(f"Over Max Tokens ({over.limit:,}): {over.records:,} records, {over.tokens_cut:,} tokens would be cut (longest at lines {shown})")
    else:
        out.append(f"Over Max Tokens ({over.limit:,}): none")
    sp = stats.system_prompt
    if sp.records_with_system:
        repeat = f"; the most common prompt is on {sp.top_prompt_records:,} records and is paid for on every one" if sp.top_prompt_records > 1 else ""
        out.append(f"System prompts: {sp.tokens:,} tokens, {sp.share:.1%} of all tokens, {sp.distinct:,} distinct on {sp.records_with_system:,} records{repeat}")
    out.append("")
    out.append("Assumptions:")
    out.extend(f"  - {a}" for a in stats.assumptions)
    return "\n".join(out)
