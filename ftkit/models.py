"""Result objects shared by the library and every renderer.

These are the public, documented shapes (README "JSON output"). Renderers only format them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ftkit.findings import REPORT_VERSION, SEVERITY_RANK, Scan

Severity = Literal["error", "warning", "info"]


class Violation(BaseModel):
    """One finding: where, which rule, how bad, and what to do about it."""

    path: str
    line: int | None = Field(description="1-based physical line; None for file-level findings")
    pointer: str = Field(description="RFC 6901 JSON pointer inside the record, '' for the whole record")
    code: str
    name: str
    severity: Severity
    message: str


class FileSummary(BaseModel):
    path: str
    records: int = Field(description="lines that hold (or should hold) a record: non-blank lines")
    valid_records: int = Field(description="records with no error-level finding")


class Summary(BaseModel):
    by_severity: dict[str, int]
    by_code: dict[str, int]


class Report(BaseModel):
    """What ``ftkit.validate`` returns."""

    version: str = REPORT_VERSION
    profile: str
    config: str | None = Field(None, description="the pyproject.toml whose [tool.ftkit] settings were applied; null for none")
    files: list[FileSummary]
    violations: list[Violation]
    summary: Summary

    def worst(self) -> Severity | None:
        """The most severe level among the findings, or None when there are none."""
        if not self.violations:
            return None
        return max((v.severity for v in self.violations), key=SEVERITY_RANK.__getitem__)

    def fails(self, fail_on: Severity = "error") -> bool:
        """True when a finding is at or above ``fail_on``: what the CLI's exit code 1 means."""
        threshold = SEVERITY_RANK[fail_on]
        return any(SEVERITY_RANK[v.severity] >= threshold for v in self.violations)


def report_of(scan: Scan) -> Report:
    """The documented result of a scan, as ``ftkit.validate`` returns it."""
    from ftkit.checks import RULES, all_rules

    all_rules()
    build = Violation.model_construct
    violations = [
        build(path=path, line=f.line, pointer=f.pointer, code=f.code, name=RULES[f.code].name,
              severity=scan.severity_of(f.code), message=f.message)
        for path, f in scan.violations()
    ]  # fmt: skip
    counts = scan.summary
    return Report(
        profile=scan.profile, config=scan.config,
        files=[FileSummary(path=f.path, records=f.records, valid_records=f.valid_records) for f in scan.files],
        violations=violations, summary=Summary(by_severity=counts.by_severity, by_code=counts.by_code),
    )  # fmt: skip
