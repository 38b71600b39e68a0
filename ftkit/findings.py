"""The one finding type and the scan's plain result.

A rule yields ``(pointer, message)``; the scan stamps the line and the code and keeps a
``Finding``. Severity and name are not stored with each finding: they follow from the code (the
profile's severities, the rule registry), so a million findings cost a million small tuples.
``ftkit.models.report_of(scan)`` gives the documented pydantic ``Report`` at the boundary;
``ftkit validate`` on the command line renders the ``Scan`` itself (no pydantic on the
pre-commit path). The code selector lives with the rules (``ftkit.checks.Selector``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

#: Version of the JSON formats; bump on any incompatible change (CHANGELOG.md).
REPORT_VERSION = "1"
Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


class Finding(NamedTuple):
    """One finding in one file: where (line, JSON pointer), which rule, and what it says."""

    line: int | None  # 1-based physical line; None for a finding about the whole file
    code: str
    pointer: str  # RFC 6901 pointer inside the record; "" for the whole record
    message: str

    def sort_key(self) -> tuple[int, str, str]:
        return (self.line or 0, self.code, self.pointer)


@dataclass(frozen=True)
class FileShape:
    """What a whole file looks like when most of its records fail the same way: a prompt set,
    Alpaca, ShareGPT, preference pairs, pretraining text, ... (``ftkit.checks.shapes``)."""

    kind: str  # e.g. "prompt-set", "alpaca", "preference"
    records: int  # records of that shape among those with an error
    message: str  # what the file looks like and what to do, in one sentence


@dataclass
class FileResult:
    """One file's summary and findings (sorted by line, code, pointer)."""

    path: str  # the name shown: the path as given, "<stdin>", "<records>"
    records: int  # lines that hold (or should hold) a record: non-blank lines, a spread-out record once
    valid_records: int  # records with no selected error-level finding
    findings: list[Finding] = field(default_factory=list)
    spans: dict[int, int] = field(default_factory=dict)  # first line -> last, for records over several lines
    shape: FileShape | None = None  # the file-level pattern, when most records fail the same way
    json_array: bool = False  # the records are the elements of one JSON array (FT017), not lines
    marks: list[tuple[int, int]] = field(default_factory=list)  # (line, byte offset): where to seek to re-read a line


@dataclass(frozen=True)
class Counts:
    by_severity: dict[str, int]
    by_code: dict[str, int]


@dataclass
class Scan:
    """What validating gives: per-file results, and the severities to read them with."""

    profile: str
    severity: Mapping[str, Severity]
    files: list[FileResult]
    config: str | None = None  # the pyproject.toml whose [tool.ftkit] was applied

    def severity_of(self, code: str) -> Severity:
        return self.severity.get(code, "error")

    def violations(self) -> Iterator[tuple[str, Finding]]:
        """Every finding with the name of its file, in file order."""
        for file in self.files:
            for finding in file.findings:
                yield file.path, finding

    def count(self) -> int:
        return sum(len(f.findings) for f in self.files)

    @property
    def summary(self) -> Counts:
        by_code = Counter(f.code for file in self.files for f in file.findings)
        by_sev: Counter[str] = Counter()
        for code, n in by_code.items():
            by_sev[self.severity_of(code)] += n
        return Counts({s: by_sev.get(s, 0) for s in SEVERITIES}, dict(sorted(by_code.items())))

    def fails(self, fail_on: str = "error") -> bool:
        """True when a finding is at or above ``fail_on``: what the CLI's exit code 1 means."""
        threshold = SEVERITY_RANK[fail_on]
        codes = {f.code for file in self.files for f in file.findings}
        return any(SEVERITY_RANK[self.severity_of(c)] >= threshold for c in codes)

    def errors_by_line(self, path: str) -> dict[int, list[Finding]]:
        """The error-level findings of one file, by line (file-level ones under 0)."""
        out: dict[int, list[Finding]] = {}
        for file in self.files:
            if file.path == path:
                for f in file.findings:
                    if self.severity_of(f.code) == "error":
                        out.setdefault(f.line or 0, []).append(f)
        return out


def sort_findings(findings: list[Finding]) -> list[Finding]:
    findings.sort(key=Finding.sort_key)
    return findings
