"""What ``fix`` and ``convert`` share: the checks on their paths, the record errors that send a
record to the rejects file, and the validation of the file they wrote."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ftkit.checks import Selector, record_checks
from ftkit.errors import OutputError
from ftkit.findings import Finding
from ftkit.outputs import check_outputs
from ftkit.policy.profile import DataRules, Profile
from ftkit.scan.inputs import Input


class OutputCheck(BaseModel):
    """What ``ftkit validate`` says about a file that ftkit has just written."""

    records: int
    errors: int
    warnings: int
    infos: int
    by_code: dict[str, int]
    clean: bool = Field(description="no error-level finding")


def record_errors(record: Any, profile: Profile, selected: Selector) -> list[Finding]:
    """Every selected error-level finding of the record rules (FT1xx-FT3xx) for one parsed record."""
    found: list[Finding] = []
    for rule in record_checks():
        if selected(rule.code) and profile.severity.get(rule.code, "error") == "error":
            found.extend(Finding(None, rule.code, where, message) for where, message in rule.check(record, profile.data))  # type: ignore[misc]  # record rules have a check
    return found


def check_output(path: Path, profile: Profile, selected: Selector) -> OutputCheck:
    """Validate a file just written, with the settings of the command that wrote it."""
    from ftkit.scan.engine import run_scan

    scan = run_scan([Input(str(path), path, path.suffix, path.stat().st_size)], profile, selected)
    sev = scan.summary.by_severity
    return OutputCheck(records=scan.files[0].records, errors=sev["error"], warnings=sev["warning"],
                       infos=sev["info"], by_code=scan.summary.by_code, clean=sev["error"] == 0)  # fmt: skip


def beside(out: Path, suffix: str) -> Path:
    """``data.jsonl`` -> ``data<suffix>`` in the same folder."""
    return out.with_name(out.stem + suffix)


def check_paths(src: Input, out: Path | None, others: list[Path], data: DataRules, force: bool) -> None:
    """Refuse an output the platform would not accept, clashing outputs, and existing ones."""
    targets = ([out] if out is not None else []) + others
    if out is not None and out.suffix not in data.extensions:
        raise OutputError(f"output {out} must end in {' or '.join(data.extensions)}: the platform accepts only those files")
    names = {os.path.abspath(p) for p in targets} | ({os.path.abspath(src.path)} if not src.copied else set())
    if len(names) < len(targets) + (0 if src.copied else 1):
        raise OutputError(f"the output files must differ from each other and from the input: {', '.join(map(str, targets))}")
    check_outputs(targets, [src.path], force)
