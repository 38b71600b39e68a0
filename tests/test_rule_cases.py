"""Every rule family's case file: each case's findings are exactly the expected ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ftkit.checks import all_rules
from support import case_bytes, findings, load_cases, validate_bytes, write_profile

FAMILIES = ["file.toml", "structure.toml", "conversation.toml", "content.toml", "length.toml", "dataset.toml", "privacy.toml"]
ALL_CASES = [(family, case) for family in FAMILIES for case in load_cases(family)]


def _run(tmp_path: Path, case: dict[str, Any]) -> list[tuple[str, int, str]]:
    kwargs: dict[str, Any] = {}
    if "profile" in case:
        kwargs["profile"] = write_profile(tmp_path, case["profile"])
    if case.get("privacy"):  # every FT6xx kind, not only validate's default ones
        kwargs["privacy"] = True
    if "select" in case:
        kwargs["select"] = case["select"]
    if case.get("tokens"):
        kwargs.update(tokens=True, max_tokens=case.get("max_tokens"))
    if "against" in case:  # a second file for `validate --against`
        other = tmp_path / "other.jsonl"
        other.write_text("\n".join(case["against"]) + "\n", encoding="utf-8")
        kwargs["against"] = other
    report = validate_bytes(tmp_path, case_bytes(case), name=case.get("path", "data.jsonl"), **kwargs)
    got = findings(report, ignore=() if case.get("check_too_few") else ("FT502",))
    if "message" in case:
        messages = [v.message for v in report.violations if v.code == case["rule"]]
        assert any(case["message"] in m for m in messages), messages
    return got


@pytest.mark.parametrize(("family", "case"), ALL_CASES, ids=[f"{c['rule']}-{c['name']}" for _, c in ALL_CASES])
def test_case(tmp_path: Path, family: str, case: dict[str, Any]) -> None:
    expected = []
    for item in case["expect"]:
        if len(item) == 2:  # record cases: [code, pointer] on line 1
            expected.append((item[0], 1, item[1]))
        else:
            expected.append(tuple(item))
    assert _run(tmp_path, case) == sorted(expected)


def test_every_code_has_a_failing_and_a_passing_case() -> None:
    fails = {c["rule"] for _, c in ALL_CASES if any(e[0] == c["rule"] for e in c["expect"])}
    passes = {c["rule"] for _, c in ALL_CASES if all(e[0] != c["rule"] for e in c["expect"])}
    codes = {r.code for r in all_rules()}
    assert codes - fails == set(), "codes without a failing case"
    assert codes - passes == set(), "codes without a passing case"
