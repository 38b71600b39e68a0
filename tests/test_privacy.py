"""FT6xx beyond the case file: the rules data, the checksums, masking, `--redact`, `--privacy`,
`[tool.ftkit] privacy` and the report's Privacy section."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.checks.numbers import luhn
from ftkit.checks.privacy import PRIVACY_CODES, redact_kinds
from ftkit.checks.sensitive import find_all, mask
from ftkit.cli import cli
from ftkit.errors import ParameterError, ProfileError
from ftkit.policy.privacy import KINDS, load_privacy
from support import REPO, write_profile

EMAIL = "li.wei@corp-mail.cn"
KEY = "sk-Zq8Xv2LmN4pR7tW1yB6cD9fG3hJ5kQ0s"
LINE = json.dumps({"messages": [{"role": "user", "content": f"I am {EMAIL}, key {KEY}"}, {"role": "assistant", "content": "Noted."}]})
CLEAN = json.dumps({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})


def _file(tmp_path: Path, *lines: str, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# --- the rules data -------------------------------------------------------------------------------


def test_the_rules_are_data_and_immutable() -> None:
    rules = load_privacy()
    assert tuple(rules.kinds) == KINDS and [k.code for k in rules.kinds.values()] == list(PRIVACY_CODES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.mask.keep = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        rules.kinds["email"] = rules.kinds["phone"]  # type: ignore[index]
    assert isinstance(rules.id.region_prefixes, tuple) and rules.id.weights[0] == 7
    assert all(key.source and key.anchor in p for key in rules.secret.keys for p in key.prefixes)
    assert rules.email.source and rules.phone.source and rules.card.source and rules.ip.source


def test_a_broken_rules_file_is_a_profile_error(tmp_path: Path) -> None:
    text = (REPO / "rules" / "privacy.toml").read_text(encoding="utf-8")
    bad = tmp_path / "privacy.toml"
    bad.write_text(text.replace('anchor = "J"', 'anchor = "Q"'), encoding="utf-8")
    with pytest.raises(ProfileError, match="anchor"):
        load_privacy(str(bad))
    bad.write_text(text.replace("min_distinct = 8", 'min_distinct = "eight"'), encoding="utf-8")
    with pytest.raises(ProfileError, match="min_distinct"):
        load_privacy(str(bad))


# --- the checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("digits", "ok"), [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True),
                                            ("6011111111111117", True), ("79927398713", True), ("79927398710", False)])  # fmt: skip
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn(digits) is ok


@pytest.mark.parametrize(("number", "found"), [
    ("11010519491231002X", True),   # the standard's own example
    ("11010519491231002x", True),
    ("110105194912310021", False),  # wrong check character
    ("110105194902300021", False),  # 30 February
    ("990105194912310021", False),  # no such region
    ("110105189912310029", False),  # born before 1900
])  # fmt: skip
def test_identity_numbers(number: str, found: bool) -> None:
    assert [m.kind for m in find_all(f"身份证 {number}")] == (["id"] if found else [])


def test_an_identity_number_born_tomorrow_is_not_one() -> None:
    import datetime as dt

    day = dt.date.today() + dt.timedelta(days=1)
    first = f"110105{day:%Y%m%d}002"
    weights, checks = load_privacy().id.weights, load_privacy().id.check_characters
    number = first + checks[sum(int(c) * w for c, w in zip(first, weights)) % 11]
    assert find_all(number) == ()


def test_overlaps_keep_the_longer_match() -> None:
    text = "mail 13812345678@qq.com, password=13812345678"
    assert [(m.kind, text[m.start : m.end]) for m in find_all(text)] == [("email", "13812345678@qq.com"), ("secret", "13812345678")]


@settings(max_examples=300, deadline=None)
@given(value=st.text(min_size=1, max_size=80))
def test_a_mask_shows_at_most_two_characters_at_each_end(value: str) -> None:
    shown, n = mask(value), len(value)
    most = 0 if n < 6 else 1 if n < 12 else 2
    assert any(
        shown.startswith(value[:k]) and shown.endswith(value[n - k :]) and set(shown[k : len(shown) - k]) == {"*"} for k in range(most + 1)
    ), shown
    assert len(shown) <= 2 * most + load_privacy().mask.max_stars


def test_messages_never_hold_the_value(tmp_path: Path) -> None:
    report = ftkit.validate(_file(tmp_path, LINE), privacy=True)
    messages = [v.message for v in report.violations if v.code in PRIVACY_CODES]
    assert len(messages) == 2 and all(EMAIL not in m and KEY not in m for m in messages)
    assert "content[5:24]" in messages[0] and "'li************cn'" in messages[0]


# --- validate: default kinds, --privacy, [tool.ftkit] --------------------------------------------


def test_validate_checks_email_by_default_and_everything_with_privacy(tmp_path: Path) -> None:
    path = _file(tmp_path, LINE)
    assert {v.code for v in ftkit.validate(path).violations} & set(PRIVACY_CODES) == {"FT601"}
    assert {v.code for v in ftkit.validate(path, privacy=True).violations} & set(PRIVACY_CODES) == {"FT601", "FT606"}
    assert {v.code for v in ftkit.validate(path, privacy=True, ignore=["FT6"]).violations} & set(PRIVACY_CODES) == set()


def test_a_profile_error_is_checked_without_privacy(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"severity": {"FT606": "error"}})
    report = ftkit.validate(_file(tmp_path, LINE, CLEAN), profile=profile)
    assert [(v.code, v.line) for v in report.violations if v.code in PRIVACY_CODES] == [("FT601", 1), ("FT606", 1)]
    assert report.files[0].valid_records == 1


def test_the_cli_and_tool_ftkit_privacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, LINE)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    plain = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"])
    asked = CliRunner().invoke(cli, ["validate", str(path), "--format", "json", "--privacy"])
    assert "FT606" not in plain.output and "FT606" in asked.output and KEY not in asked.output
    (tmp_path / "pyproject.toml").write_text("[tool.ftkit]\nprivacy = true\n", encoding="utf-8")
    configured = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"])
    assert "FT606" in configured.output
    (tmp_path / "pyproject.toml").write_text('[tool.ftkit]\nprivacy = "yes"\n', encoding="utf-8")
    bad = CliRunner().invoke(cli, ["validate", str(path)])
    assert bad.exit_code == 2 and "privacy" in bad.output


# --- fix --redact ---------------------------------------------------------------------------------


def test_redact_kinds() -> None:
    assert redact_kinds(None) == redact_kinds(False) == frozenset() == redact_kinds([])
    assert redact_kinds(True) == redact_kinds("all") == frozenset(KINDS)
    assert redact_kinds("email, FT603,payment-card") == {"email", "id", "card"}
    assert redact_kinds(["phone", "secret"]) == {"phone", "secret"}
    with pytest.raises(ParameterError, match="unknown kind 'mail'"):
        redact_kinds("mail")
    with pytest.raises(ParameterError, match="no kind"):
        redact_kinds(",")


def test_redaction_keeps_every_other_byte(tmp_path: Path) -> None:
    odd = '{ "messages" :[ {"content": "I am ' + EMAIL + ' \\u4f60\\u597d", "role":"user"},{"role": "assistant","content":"ok"} ] }'
    src = _file(tmp_path, odd, CLEAN)
    result = ftkit.fix(src, tmp_path / "out.jsonl", redact="email")
    out = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert out == [odd.replace(f"I am {EMAIL} ", "I am <EMAIL> "), CLEAN]
    changes = json.loads(Path(result.changes).read_text(encoding="utf-8"))
    assert changes == [{"line": 1, "code": "FT601", "action": "replaced the email address at content[5:24] with <EMAIL>",
                        "pointer": "/messages/0/content", "kind": "email", "start": 5, "end": 24}]  # fmt: skip
    assert result.rewritten == 1 and result.changes_by_code == {"FT601": 1}


def test_redaction_of_some_kinds_only(tmp_path: Path) -> None:
    src = _file(tmp_path, LINE)
    ftkit.fix(src, tmp_path / "out.jsonl", redact=["secret"])
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert EMAIL in text and KEY not in text and "<SECRET>" in text


def test_a_privacy_error_is_rejected_unless_redacted(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"severity": {"FT601": "error"}})
    src = _file(tmp_path, LINE, CLEAN)
    kept = ftkit.fix(src, tmp_path / "a.jsonl", profile=profile)
    assert (kept.written, kept.rejected, kept.rejected_by_code) == (1, 1, {"FT601": 1})
    redacted = ftkit.fix(src, tmp_path / "b.jsonl", profile=profile, redact="email")
    assert (redacted.written, redacted.rejected) == (2, 0) and redacted.output_check.clean


def test_the_redact_option_takes_an_optional_value(tmp_path: Path) -> None:
    src = _file(tmp_path, LINE)
    every = CliRunner().invoke(cli, ["fix", str(src), "-o", str(tmp_path / "a.jsonl"), "--redact"])
    assert every.exit_code == 0, every.output
    assert "<EMAIL>" in (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    some = CliRunner().invoke(cli, ["fix", str(src), "--redact=phone", "-o", str(tmp_path / "b.jsonl")])
    assert some.exit_code == 0 and (tmp_path / "b.jsonl").read_text(encoding="utf-8") == src.read_text(encoding="utf-8")
    bad = CliRunner().invoke(cli, ["fix", str(src), "--redact=mail", "-o", str(tmp_path / "c.jsonl")])
    assert bad.exit_code == 2 and "unknown kind 'mail'" in bad.output


def test_redacting_twice_changes_nothing_more(tmp_path: Path) -> None:
    import privacy_corpus

    once = ftkit.fix(privacy_corpus.OUT / "corpus.jsonl", tmp_path / "once.jsonl", redact=True)
    twice = ftkit.fix(tmp_path / "once.jsonl", tmp_path / "twice.jsonl", redact=True)
    assert once.changes_by_code and not twice.changes_by_code
    assert (tmp_path / "once.jsonl").read_bytes() == (tmp_path / "twice.jsonl").read_bytes()


# --- the report -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_the_report_has_a_privacy_section_without_the_values(tmp_path: Path, fmt: str) -> None:
    path = _file(tmp_path, LINE, CLEAN, *[CLEAN.replace("Hi", f"Hi {n}") for n in range(10)])
    result = ftkit.report(path, output=tmp_path / f"report.{fmt}")
    text = (tmp_path / f"report.{fmt}").read_text(encoding="utf-8")
    assert EMAIL not in text and KEY not in text
    assert ("&lt;EMAIL&gt;" if fmt == "html" else "<EMAIL>") in text  # the example line, redacted
    privacy = result.privacy
    assert [k.kind for k in privacy.kinds] == list(KINDS)
    assert (privacy.findings, privacy.records) == (2, 1)
    assert {k.code: (k.count, k.lines) for k in privacy.kinds if k.count} == {"FT601": (1, {str(path): [1]}), "FT606": (1, {str(path): [1]})}
    assert "Personal data and secrets" in text or '"privacy"' in text


def test_a_moved_top_level_system_string_is_redacted_too(tmp_path: Path) -> None:
    record = {"system": f"Escalate to {EMAIL}.", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    src = _file(tmp_path, json.dumps(record))
    result = ftkit.fix(src, tmp_path / "out.jsonl", remove_unknown_keys=True, redact="email")
    out = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert out == {"messages": [{"role": "system", "content": "Escalate to <EMAIL>."}, *record["messages"]]}
    changes = json.loads(Path(result.changes).read_text(encoding="utf-8"))
    assert [(c["code"], c["pointer"]) for c in changes] == [("FT111", "/system"), ("FT601", "/system")]
