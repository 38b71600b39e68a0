"""What ``fix`` and ``convert`` share: their error type, the checks on their paths, the record
errors that send a record to the rejects file, and the validation of the file they wrote."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ftkit.checks import record_checks
from ftkit.scan.engine import validate
from ftkit.outputs import OutputExists, OutputIsInput, check_outputs
from ftkit.policy.profile import DataRules, Profile

Finding = tuple[str, str, str]  # (code, pointer, message)


class RepairError(Exception):
    """``fix`` or ``convert`` cannot start or finish (the CLI exits 2 with this message)."""


class OutputCheck(BaseModel):
    """What ``ftkit validate`` says about a file that ftkit has just written."""

    records: int
    errors: int
    warnings: int
    infos: int
    by_code: dict[str, int]
    clean: bool = Field(description="no error-level finding")


def record_errors(record: Any, profile: Profile) -> list[Finding]:
    """Every error-level finding of the record rules (FT1xx-FT3xx) for one parsed record."""
    found = []
    for rule in record_checks():
        if profile.severity.get(rule.code, "error") == "error":
            found.extend((rule.code, where, message) for where, message in rule.check(record, profile.data))  # type: ignore[misc]
    return found


def check_output(path: Path, profile: Profile) -> OutputCheck:
    report = validate(path, profile=profile)
    sev = report.summary.by_severity
    return OutputCheck(records=report.files[0].records, errors=sev["error"], warnings=sev["warning"],
                       infos=sev["info"], by_code=report.summary.by_code, clean=sev["error"] == 0)


def beside(out: Path, suffix: str) -> Path:
    """``data.jsonl`` -> ``data<suffix>`` in the same folder."""
    return out.with_name(out.stem + suffix)


def check_paths(src: Path, out: Path | None, others: list[Path], data: DataRules, force: bool,
                error: type[RepairError]) -> None:
    """Refuse a missing input, an output the platform would not accept, clashing or existing outputs."""
    if not src.exists():
        raise error(f"{src}: no such file")
    if not src.is_file():
        raise error(f"{src} is not a file")
    targets = ([out] if out is not None else []) + others
    if out is not None and out.suffix not in data.extensions:
        raise error(f"output {out} must end in {' or '.join(data.extensions)}: the platform accepts only those files")
    if len({os.path.abspath(p) for p in targets + [src]}) < len(targets) + 1:
        raise error(f"the output files must differ from each other and from the input: {', '.join(map(str, targets))}")
    try:
        check_outputs(targets, [src], force)
    except (OutputExists, OutputIsInput) as exc:
        raise error(str(exc)) from None
