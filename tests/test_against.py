"""``ftkit validate --against`` and FT503 shared-with-other-file.

FT503 needs two files, which the one-file case harness (tests/test_rule_cases.py) cannot
express, so its failing and passing cases live here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import ftkit
from ftkit.cli import cli


def shared_records(paths: list[Path], against: Path) -> list[ftkit.Violation]:
    return [v for v in ftkit.validate(paths, against=against).violations if v.code == "FT503"]


def rec(user: str, answer: str = "ok") -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    train = write(tmp_path / "train.jsonl", [json.dumps(rec(f"q{i}")) for i in range(12)])
    # The same record as train line 3, written with other key order and spacing, twice; plus a new one.
    same = {"messages": [{"content": "q2", "role": "user"}, {"content": "ok", "role": "assistant"}]}
    val = write(tmp_path / "validation.jsonl", [json.dumps(rec("new")), json.dumps(same, separators=(",", ":")), json.dumps(same) + "\r"])
    return train, val


def test_fail_case_one_warning_per_shared_record_naming_both_lines(pair: tuple[Path, Path]) -> None:
    train, val = pair
    found = shared_records([train], val)
    assert [(v.code, v.path, v.line, v.severity, v.name) for v in found] == [("FT503", str(train), 3, "warning", "shared-with-other-file")]
    assert f"{val}:2" in found[0].message and "1 more time" in found[0].message


def test_pass_case_files_without_common_records(tmp_path: Path) -> None:
    train = write(tmp_path / "train.jsonl", [json.dumps(rec(f"q{i}")) for i in range(12)])
    val = write(tmp_path / "validation.jsonl", [json.dumps(rec(f"q{i}", "other answer")) for i in range(3)])
    assert shared_records([train], val) == []
    report = ftkit.validate(train, against=val)
    assert "FT503" not in report.summary.by_code


def test_report_keeps_order_and_counts(pair: tuple[Path, Path]) -> None:
    train, val = pair
    report = ftkit.validate(train, against=val)
    assert report.summary.by_code == {"FT503": 1} and report.summary.by_severity["warning"] == 1
    assert [v.line for v in report.violations] == sorted(v.line or 0 for v in report.violations)


def test_cli_warns_and_exits_by_fail_on(pair: tuple[Path, Path]) -> None:
    train, val = pair
    runner = CliRunner()
    done = runner.invoke(cli, ["validate", str(train), "--against", str(val)])
    assert done.exit_code == 0 and f"{train}:3: FT503 warning" in done.output
    strict = runner.invoke(cli, ["validate", str(train), "--against", str(val), "--fail-on", "warning", "--format", "json"])
    assert strict.exit_code == 1 and json.loads(strict.output)["summary"]["by_code"] == {"FT503": 1}
    quiet = runner.invoke(cli, ["validate", str(train), "--against", str(val), "--ignore", "FT5"])
    assert quiet.exit_code == 0 and "FT503" not in quiet.output


def test_cli_against_itself_or_missing_is_a_usage_error(pair: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = pair
    runner = CliRunner()
    same = runner.invoke(cli, ["validate", str(train), "--against", str(train)])
    assert same.exit_code == 2 and "also one of the files" in same.output
    missing = runner.invoke(cli, ["validate", str(train), "--against", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2


def test_split_outputs_never_share_a_record(tmp_path: Path) -> None:
    lines = [json.dumps(rec(f"q{i % 15}")) for i in range(60)]  # every record four times
    src = write(tmp_path / "in.jsonl", lines)
    ftkit.split(src, tmp_path / "out", val_ratio=0.2)
    assert shared_records([tmp_path / "out" / "train.jsonl"], tmp_path / "out" / "validation.jsonl") == []


@pytest.mark.parametrize("content, message", [
    (b"\x1f\x8b\x08\x00" + bytes(64), "FT012"),
    (b"", "holds no records"),
    (b"\n\n", "holds no records"),
])
def test_an_unusable_against_file_is_a_usage_error(pair: tuple[Path, Path], tmp_path: Path, content: bytes, message: str) -> None:
    train, _ = pair
    other = tmp_path / "other.jsonl"
    other.write_bytes(content)
    done = CliRunner().invoke(cli, ["validate", str(train), "--against", str(other)])
    assert done.exit_code == 2 and message in done.output
    with pytest.raises(ftkit.InputError, match=message):
        ftkit.validate(train, against=other)


def test_against_may_be_given_several_times(pair: tuple[Path, Path], tmp_path: Path) -> None:
    train, val = pair
    more = write(tmp_path / "test.jsonl", [json.dumps(rec("q5"))])
    done = CliRunner().invoke(cli, ["validate", str(train), "--against", str(val), "--against", str(more), "--format", "json"])
    found = sorted((v["line"], v["message"].split(";")[0]) for v in json.loads(done.output)["violations"] if v["code"] == "FT503")
    assert [line for line, _ in found] == [3, 6] and f"{more}:1" in found[1][1]
