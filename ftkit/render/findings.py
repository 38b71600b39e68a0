"""The findings of a scan as text for people, as GitHub Actions annotations, and as the
documented JSON, written as a stream (a million findings never become a million objects).

Pure functions of an ``ftkit.findings.Scan``: they compute nothing but layout, and every
string that came from data goes through ``ftkit.render.safe``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from typing import IO

from ftkit.checks import remedy_of, rule_name
from ftkit.findings import REPORT_VERSION, FileResult, Finding, Scan
from ftkit.render.safe import encode, json_safe, json_safe_bytes, safe

_COLOURS = {"error": "31", "warning": "33", "info": "36", "bold": "1", "dim": "2"}
#: A finding that repeats word for word is shown this many times, then counted.
SAME_SHOWN = 3
_INDEX = re.compile(r"^/\d+")


def _paint(text: str, style: str, colour: bool) -> str:
    return f"\x1b[{_COLOURS[style]}m{text}\x1b[0m" if colour else text


_name = lru_cache(maxsize=None)(rule_name)


def render_text(scan: Scan, max_shown: int = 50, colour: bool = False) -> str:
    """Findings grouped by file (the first ``max_shown``; a finding repeated word for word on
    many lines is shown a few times and then counted), then an exact summary."""
    return "\n".join(text_lines(scan, max_shown, colour))


def text_lines(scan: Scan, max_shown: int = 50, colour: bool = False) -> Iterator[str]:
    if scan.config:
        yield _paint(f"settings: [tool.ftkit] in {safe(scan.config)}", "dim", colour)
    shown = hidden = 0
    for result in scan.files:
        bad = result.records - result.valid_records
        state = "ok" if not bad and result.records else f"{bad:,} invalid"
        yield _paint(safe(result.path), "bold", colour) + f"  ({result.records:,} records, {state})"
        if result.shape is not None:  # the whole file first: its records are still all counted below
            yield "  " + _paint("the file:", "bold", colour) + f" {safe(result.shape.message)}"
        same: Counter[tuple[str, str, str]] = Counter()
        for f in result.findings:
            # in a JSON array the pointer starts with the element's index: the same finding in
            # every element is still the same finding
            key = (f.code, _INDEX.sub("", f.pointer) if result.json_array else f.pointer, f.message)
            same[key] += 1
            if same[key] > SAME_SHOWN:
                continue
            if shown >= max_shown:
                hidden += 1
                continue
            shown += 1
            yield "  " + _line(scan, result.path, f, colour)
        for (code, pointer, message), n in same.items():
            if n > SAME_SHOWN:
                more = n - SAME_SHOWN
                every = " (every record)" if n == result.records else ""
                where = f" at {safe(pointer)}" if pointer else ""
                yield (f"  {safe(result.path)}: {_paint(code, scan.severity_of(code), colour)} {scan.severity_of(code)} [{_name(code)}]{where}: "
                       f"the same finding on {more:,} more line{'s' if more != 1 else ''}{every}: {safe(message)}")  # fmt: skip
    if hidden > 0:
        yield f"  ... and {hidden:,} more finding{'s' if hidden != 1 else ''} (--max-shown N to see more, --format json for all)"
    yield ""
    counts = scan.summary
    if counts.by_code:
        yield "Findings by rule:"
        for code, n in counts.by_code.items():
            yield f"  {code} {_name(code):<28} {n:>8,}"
        repairs = [(code, remedy_of(code)) for code in counts.by_code if scan.severity_of(code) != "info" and remedy_of(code)]
        if repairs:
            yield "What repairs them:"
            for code, remedy in repairs:
                yield f"  {code} {_name(code)}: {remedy}"
    records = sum(f.records for f in scan.files)
    valid = sum(f.valid_records for f in scan.files)
    sev = counts.by_severity
    files = len(scan.files)
    yield (f"{files} file{'s' if files != 1 else ''}, {records:,} records, {valid:,} valid; "
           f"{sev['error']:,} error{'s' if sev['error'] != 1 else ''}, {sev['warning']:,} warning{'s' if sev['warning'] != 1 else ''}, {sev['info']:,} info")  # fmt: skip


def _line(scan: Scan, path: str, f: Finding, colour: bool) -> str:
    where = f" at {safe(f.pointer)}" if f.pointer else ""
    location = f"{safe(path)}:{f.line}" if f.line is not None else safe(path)
    severity = scan.severity_of(f.code)
    return f"{location}: {_paint(f.code, severity, colour)} {severity} [{_name(f.code)}]{where}: {safe(f.message)}"


# --- GitHub Actions ----------------------------------------------------------------------------------


def _gh_data(text: str) -> str:
    return safe(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render_github(scan: Scan) -> str:
    """GitHub Actions workflow commands, one annotation per finding (escaped as GitHub requires,
    and with every other control character escaped, so no line can be forged)."""
    return "\n".join(github_lines(scan))


def github_lines(scan: Scan) -> Iterator[str]:
    titles: dict[str, str] = {}
    for result in scan.files:
        file = f"file={_gh_property(result.path)}"
        for f in result.findings:
            title = titles.get(f.code)
            if title is None:
                title = titles[f.code] = f"title={_gh_property(f'{f.code} {_name(f.code)}')}"
            line = f",line={f.line}" if f.line is not None else ""
            where = f" (at {f.pointer})" if f.pointer else ""
            yield f"::{_GH_LEVEL[scan.severity_of(f.code)]} {file}{line},{title}::{_gh_data(f.message + where)}"


# --- JSON ---------------------------------------------------------------------------------------------


def _shape(result: FileResult) -> dict[str, object] | None:
    shape = result.shape
    return None if shape is None else {"kind": shape.kind, "records": shape.records, "message": shape.message}


def write_json(scan: Scan, out: IO[bytes]) -> None:
    """The documented JSON (``ftkit.models.Report``, version "1"), written finding by finding."""
    import orjson

    counts = scan.summary
    files = [{"path": f.path, "records": f.records, "valid_records": f.valid_records, "shape": _shape(f)} for f in scan.files]
    head = {"version": REPORT_VERSION, "profile": scan.profile, "config": scan.config, "files": files}
    text = json_safe(json.dumps(head, indent=2, ensure_ascii=False))
    out.write(encode(text[:-2] + ',\n  "violations": ['))
    sep = b"\n    "
    batch: list[bytes] = []
    for result in scan.files:
        path = result.path
        for f in result.findings:
            entry = {"path": path, "line": f.line, "pointer": f.pointer, "code": f.code, "name": _name(f.code),
                     "severity": scan.severity_of(f.code), "message": f.message}  # fmt: skip
            try:
                data = orjson.dumps(entry)
            except TypeError:  # a lone surrogate: json writes it as its \u escape
                data = json.dumps(entry).encode("ascii")
            batch.append(sep + data)
            sep = b",\n    "
            if len(batch) >= 4096:
                out.write(json_safe_bytes(b"".join(batch)))
                batch.clear()
    out.write(json_safe_bytes(b"".join(batch)))
    summary = json.dumps({"by_severity": counts.by_severity, "by_code": counts.by_code}, indent=2, ensure_ascii=False)
    out.write(encode(("\n  ]" if sep != b"\n    " else "]") + ',\n  "summary": ' + summary.replace("\n", "\n  ") + "\n}\n"))
