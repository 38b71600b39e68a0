"""Every rule's docstring is its documentation: check its shape and run its examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftkit.checks import all_rules
from support import decode_markers, validate_bytes

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_docstring_has_summary_and_why(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.summary and rule.summary.endswith("."), rule.code
    assert "Why:" in rule.doc, rule.code
    assert rule.examples("Pass") or rule.examples("Fail"), rule.code


def _example_file(text: str) -> tuple[str, bytes, dict[str, int]]:
    name, options = "example.jsonl", {}
    if text.startswith("path="):
        name, _, text = text.partition(" ")
        name = name[len("path="):]
    if text.startswith("max_tokens="):  # the example's Max Tokens (FT4xx)
        limit, _, text = text.partition(" ")
        options["max_tokens"] = int(limit[len("max_tokens="):])
    data = decode_markers(text)
    return name, data + b"\n" if data else data, options


EXAMPLES = [(r, kind, ex) for r in RULES for kind in ("Pass", "Fail") for ex in r.examples(kind)]


@pytest.mark.parametrize(("rule", "kind", "example"), EXAMPLES, ids=[f"{r.code}-{k}-{i}" for i, (r, k, _) in enumerate(EXAMPLES)])
def test_docstring_example(tmp_path: Path, rule, kind: str, example: str) -> None:  # type: ignore[no-untyped-def]
    name, data, options = _example_file(example)
    tokens = "validate --tokens" in rule.doc  # rules that run only where tokens are counted
    privacy = "validate --privacy" in rule.doc  # FT6xx kinds checked only when asked for
    report = validate_bytes(tmp_path, data, name=name, tokens=tokens, privacy=privacy or None, **options)
    codes = {v.code for v in report.violations}
    if kind == "Pass":
        assert rule.code not in codes, report.violations
    else:
        assert rule.code in codes, report.violations


def test_rules_command_lists_every_code_once() -> None:
    from click.testing import CliRunner

    from ftkit.cli import cli

    result = CliRunner().invoke(cli, ["rules", "--format", "json"])
    assert result.exit_code == 0
    import json

    rows = json.loads(result.output)
    assert [r["code"] for r in rows] == sorted({r.code for r in RULES})
    assert all(r["summary"] and r["severity"] in ("error", "warning", "info") for r in rows)


def test_every_code_has_a_severity_in_the_profile() -> None:
    from ftkit.policy.profile import load_profile

    severity = load_profile("siliconflow").severity
    assert {r.code for r in RULES} == set(severity)


def test_codes_follow_the_family_scheme() -> None:
    import re

    for rule in RULES:
        assert re.fullmatch(r"FT[0-6]\d\d", rule.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert len({r.name for r in RULES}) == len(RULES)


def test_readme_names_every_code() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [f"{r.code} {r.name}" for r in RULES if f"{r.code} {r.name}" not in readme]
    assert missing == []
