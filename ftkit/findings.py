"""The scan's own result: plain dataclasses with the same fields as the public pydantic models.

``ftkit validate`` on the command line renders these directly, so the pre-commit hook never
imports pydantic (about 0.1 s of start-up); ``to_report()`` gives the documented
``ftkit.models.Report`` for the library API and for JSON output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftkit.models import Report

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding; the fields of ``ftkit.models.Violation``."""

    path: str
    line: int | None
    pointer: str
    code: str
    name: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class FileResult:
    """The fields of ``ftkit.models.FileSummary``."""

    path: str
    records: int
    valid_records: int


@dataclass(frozen=True)
class Counts:
    by_severity: dict[str, int]
    by_code: dict[str, int]


def summarise(findings: Iterable[Finding] | Iterable[object]) -> Counts:
    """Counts by severity (all three keys) and by code (sorted): the report's ``summary``."""
    items = list(findings)
    by_sev = Counter(f.severity for f in items)  # type: ignore[attr-defined]
    by_code = Counter(f.code for f in items)  # type: ignore[attr-defined]
    return Counts({s: by_sev.get(s, 0) for s in ("error", "warning", "info")}, dict(sorted(by_code.items())))


def fails(findings: Iterable[object], fail_on: str) -> bool:
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK[f.severity] >= threshold for f in findings)  # type: ignore[attr-defined]


@dataclass
class Scan:
    profile: str
    files: list[FileResult]
    violations: list[Finding]
    summary: Counts = field(init=False)

    def __post_init__(self) -> None:
        self.summary = summarise(self.violations)

    def fails(self, fail_on: str = "error") -> bool:
        return fails(self.violations, fail_on)

    def to_report(self) -> Report:
        from ftkit.models import FileSummary, Report, Violation

        return Report.build(
            self.profile,
            [FileSummary(path=f.path, records=f.records, valid_records=f.valid_records) for f in self.files],
            [Violation.model_construct(**{k: getattr(v, k) for k in Finding.__slots__}) for v in self.violations],
        )
