"""FT503: records that the validated files share with another file (``validate --against``).

For users who split elsewhere: ``ftkit validate train.jsonl --against validation.jsonl`` warns
once per record of train.jsonl that is also in validation.jsonl, naming both lines. "The same
record" means the same canonical JSON (sorted keys, no whitespace), as for ``ftkit split``: key
order, spacing and a trailing ``\\r`` do not hide a copy. Lines that are not JSON objects are
skipped here; validation reports them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from ftkit.models import Report, Violation
from ftkit.policy.profile import Profile, as_profile
from ftkit.scan.reader import UTF8_BOM, iter_lines

CODE = "FT503"


def _record_hashes(path: Path, max_line_bytes: int) -> Iterator[tuple[int, int]]:
    """(line, hash of the canonical JSON) for every line that holds a JSON object."""
    from ftkit.tokens.table import canonical, stable_hash

    with open(path, "rb") as stream:
        for n, line in enumerate(iter_lines(stream, max_line_bytes), start=1):
            if type(line) is int:
                continue
            if n == 1 and line.startswith(UTF8_BOM):
                line = line[3:]
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if type(obj) is dict:
                yield n, stable_hash(canonical(obj))


def shared_records(paths: Iterable[str | os.PathLike[str]], against: str | os.PathLike[str], profile: str | Profile = "siliconflow",
                   select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Violation]:
    """An FT503 finding for each record of ``paths`` that is also in ``against``.

    Raises ``ValueError`` when ``against`` is one of ``paths`` and ``OSError`` when a file cannot
    be read.
    """
    from ftkit.checks import RULES, all_rules
    from ftkit.scan.engine import Selector

    prof = as_profile(profile)
    all_rules()
    if not Selector(select, ignore)(CODE):
        return []
    other = Path(against)
    files = [Path(p) for p in paths]
    if any(p.resolve() == other.resolve() for p in files):
        raise ValueError(f"--against {other} is also one of the files being validated; compare two different files")
    first: dict[int, int] = {}
    copies: dict[int, int] = {}
    for n, h in _record_hashes(other, prof.data.max_line_bytes):
        if first.setdefault(h, n) != n:
            copies[h] = copies.get(h, 1) + 1
    found = []
    severity = prof.severity.get(CODE, "error")
    for path in files:
        for n, h in _record_hashes(path, prof.data.max_line_bytes):
            line = first.get(h)
            if line is None:
                continue
            more = copies.get(h, 1) - 1
            also = f" (and {more} more time{'s' if more != 1 else ''} there)" if more else ""
            found.append(Violation(
                path=str(path), line=n, pointer="", code=CODE, name=RULES[CODE].name, severity=severity,
                message=f"this record is also in {other}:{line}{also}; a record on both sides makes validation loss look better than it is: keep it in one file",
            ))
    return found


def with_against(report: Report, against: str | os.PathLike[str], profile: str | Profile = "siliconflow",
                 select: Iterable[str] = (), ignore: Iterable[str] = ()) -> Report:
    """``report`` (of the files it lists) plus the FT503 findings against ``against``."""
    paths = [f.path for f in report.files]
    found = shared_records(paths, against, profile, select, ignore)
    if not found:
        return report
    order = {p: i for i, p in enumerate(paths)}
    violations = sorted([*report.violations, *found], key=lambda v: (order.get(v.path, len(order)), v.line or 0, v.code, v.pointer))
    summary = Report.build(report.profile, report.files, violations).summary
    return report.model_copy(update={"violations": violations, "summary": summary})
