"""Result objects shared by the library and every renderer.

These are the public, documented shapes (README "JSON output"). Renderers only format them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ftkit.findings import REPORT_VERSION, SEVERITY_RANK, FileResult, Scan

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


class Shape(BaseModel):
    """What the whole file looks like, when most of its records fail the same way."""

    kind: str = Field(description="prompt-set, alpaca, sharegpt, prompt-completion, preference, kto, bedrock, multimodal, "
                      "reasoning, system-key, content-parts or pretraining-text")  # fmt: skip
    records: int = Field(description="records of that shape among those with findings")
    message: str = Field(description="what the file looks like and what to do, in one sentence")


class FileSummary(BaseModel):
    path: str
    records: int = Field(description="records: non-blank lines (a spread-out record once), or the elements of a JSON array")
    valid_records: int = Field(description="records with no error-level finding")
    shape: Shape | None = Field(None, description="the file-level pattern, when most records fail the same way; null otherwise")


def file_summary(result: FileResult) -> FileSummary:
    shape = result.shape
    found = Shape(kind=shape.kind, records=shape.records, message=shape.message) if shape is not None else None
    return FileSummary(path=result.path, records=result.records, valid_records=result.valid_records, shape=found)


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
        files=[file_summary(f) for f in scan.files],
        violations=violations, summary=Summary(by_severity=counts.by_severity, by_code=counts.by_code),
    )  # fmt: skip
