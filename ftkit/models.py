"""Result objects shared by the library and every renderer.

These are the public, documented shapes (README "JSON output"). Renderers only format them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ftkit.findings import SEVERITY_RANK, fails, summarise

Severity = Literal["error", "warning", "info"]

#: Version of the JSON report format; bump on any incompatible change (CHANGELOG.md).
REPORT_VERSION = "1"


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
    files: list[FileSummary]
    violations: list[Violation]
    summary: Summary

    @classmethod
    def build(cls, profile: str, files: list[FileSummary], violations: list[Violation]) -> Report:
        counts = summarise(violations)
        return cls(profile=profile, files=files, violations=violations,
                   summary=Summary(by_severity=counts.by_severity, by_code=counts.by_code))

    def worst(self) -> Severity | None:
        """The most severe level among the findings, or None when there are none."""
        if not self.violations:
            return None
        return max((v.severity for v in self.violations), key=SEVERITY_RANK.__getitem__)

    def fails(self, fail_on: Severity = "error") -> bool:
        """True when a finding is at or above ``fail_on``: what the CLI's exit code 1 means."""
        return fails(self.violations, fail_on)
