"""Renderers: pure functions from a Report to text. They compute nothing."""

from __future__ import annotations

from collections import defaultdict

from ftkit.models import Report, Violation

_COLOURS = {"error": "31", "warning": "33", "info": "36", "bold": "1", "dim": "2"}


def _paint(text: str, style: str, colour: bool) -> str:
    return f"\x1b[{_COLOURS[style]}m{text}\x1b[0m" if colour else text


def _location(v: Violation) -> str:
    return f"{v.path}:{v.line}" if v.line is not None else v.path


def render_text(report: Report, max_shown: int = 50, colour: bool = False) -> str:
    """Findings grouped by file (the first ``max_shown``), then an exact summary."""
    out: list[str] = []
    by_file: dict[str, list[Violation]] = defaultdict(list)
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


def render_github(report: Report) -> str:
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
