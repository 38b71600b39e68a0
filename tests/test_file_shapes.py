"""Issue 12 in validate and the report: JSON arrays are read record by record, whole-file
patterns get one line, and every verdict names the remedies of the rules that fired."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_properties import any_records, mutated

import ftkit
from ftkit.checks import all_rules
from ftkit.cli import cli
from support import DATA


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def rec(q: str, a: str = "Hello") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


# --- JSON arrays in validate -------------------------------------------------------------------------


def test_a_json_array_file_is_counted_and_checked_record_by_record(tmp_path: Path) -> None:
    records = [rec(f"q{i}") for i in range(12)]
    records[3]["messages"][1]["role"] = "Assistant"
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    report = ftkit.validate(path)
    assert (report.files[0].records, report.files[0].valid_records) == (12, 11)
    ft017 = [v for v in report.violations if v.code == "FT017"]
    assert len(ft017) == 1 and ft017[0].line is None and ft017[0].severity == "error"
    assert "`ftkit convert` writes it as JSON Lines" in ft017[0].message
    ft109 = next(v for v in report.violations if v.code == "FT109")
    lines = path.read_text(encoding="utf-8").splitlines()
    element_starts = [n for n, line in enumerate(lines, start=1) if line == "  {"]
    assert ft109.pointer == "/3/messages/1/role" and ft109.line == element_starts[3]  # the element's index, and where it starts


def test_real_json_arrays_show_their_records(tmp_path: Path) -> None:
    """kto_en_demo.json used to be "0 records" and "FT502 only 0 records"."""
    report = ftkit.validate(DATA / "llama-factory" / "kto_en_demo.json")
    assert (report.files[0].records, report.files[0].valid_records) == (300, 300)
    assert "FT502" not in report.summary.by_code and report.summary.by_code["FT111"] == 300
    code, out = run("report", str(DATA / "llama-factory" / "kto_en_demo.json"), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["validation"]["records"] == 300 and data["stats"]["records"] == 300  # the token table saw them
    assert "There are no records" not in data["verdict"]["sentence"] and "there are no records" not in data["verdict"]["sentence"]


def test_a_broken_array_says_where_and_counts_what_it_read(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('[\n  {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]},\n  {"messages": oops}\n]\n',
                    encoding="utf-8")  # fmt: skip
    report = ftkit.validate(path)
    ft006 = next(v for v in report.violations if v.code == "FT006")
    assert ft006.line == 3 and "line 3 column 16" in ft006.message and "no record from there on can be read" in ft006.message
    assert (report.files[0].records, report.files[0].valid_records) == (2, 1)


def test_a_one_line_array_of_records_counts_its_records(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    records = [rec(f"q{i}") for i in range(11)] + [{"messages": [{"role": "user", "content": "x"}]}]
    path.write_text(json.dumps(records) + "\n", encoding="utf-8")
    report = ftkit.validate(path)
    assert (report.files[0].records, report.files[0].valid_records) == (12, 11)
    assert [(v.code, v.line, v.pointer) for v in report.violations if v.severity == "error"] == [("FT017", 1, ""), ("FT204", 1, "/11/messages/0")]


def test_split_refuses_a_json_array_even_when_ft017_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps([rec(f"q{i}") for i in range(20)], indent=2), encoding="utf-8")
    with pytest.raises(ftkit.DataError, match="elements of a JSON array, not lines; `ftkit convert` writes it as JSON Lines"):
        ftkit.split(path, tmp_path / "s", ignore=["FT017"])
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())


# --- whole-file patterns -----------------------------------------------------------------------------------

SHAPES = [
    ("azureml-examples/distillation-train_math.jsonl", "prompt-set", 378, "this looks like a prompt set (for distillation or reinforcement fine-tuning)"),
    ("llama-factory/alpaca_en_demo.json", "alpaca", 999, "`ftkit convert` writes them as messages"),
    ("medicalgpt/sharegpt_zh_1K_format.jsonl", "sharegpt", 1000, 'ShareGPT records ("conversations" of from/value)'),
    ("llama-factory/dpo_en_demo.json", "preference", 300, "`ftkit convert --preference chosen`"),
    ("llama-factory/kto_en_demo.json", "kto", 300, "carry a true/false label (KTO)"),
    ("llama-factory/mllm_demo.json", "multimodal", 6, "SiliconFlow chat fine-tuning takes text only"),
    ("llama-factory/reason_tool_use_demo_50.jsonl", "reasoning", 50, "`ftkit convert --reasoning drop`"),
    ("aws-bedrock-samples/nova_tooluse_train_ft.jsonl", "system-key", 560, "`ftkit fix --remove-unknown-keys` (or `ftkit convert`) moves it"),
    ("llama-factory/v1_sft_demo.jsonl", "content-parts", 500, "`ftkit convert` joins the text parts"),
]


@pytest.mark.parametrize("name, kind, records, advice", SHAPES, ids=[s[1] for s in SHAPES])
def test_whole_file_patterns_of_real_files(name: str, kind: str, records: int, advice: str) -> None:
    report = ftkit.validate(DATA / name)
    shape = report.files[0].shape
    assert shape is not None and (shape.kind, shape.records) == (kind, records) and advice in shape.message
    assert shape.message.startswith(f"{records:,} of {report.files[0].records:,} records ")
    assert len(report.violations) >= records  # the per-record findings are all still there


@pytest.mark.parametrize("name", ["openai-cookbook/toy_chat_fine_tuning.jsonl", "siliconcloud-cookbook/shishuoxinyu_ft_data.jsonl",
                                  "openai-cookbook/drone_training.jsonl"])  # fmt: skip
def test_no_pattern_for_ordinary_files(name: str) -> None:
    assert ftkit.validate(DATA / name).files[0].shape is None


def test_pretraining_text_and_the_share_that_makes_a_pattern(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"text": f"Once upon a time {i}."}) + "\n" for i in range(6))
                    + "".join(json.dumps(rec(f"q{i}")) + "\n" for i in range(6)), encoding="utf-8")  # fmt: skip
    shape = ftkit.validate(path).files[0].shape
    assert shape is not None and shape.kind == "pretraining-text" and "pretraining data" in shape.message  # 6 of 12: half
    path.write_text("".join(json.dumps({"text": f"Once {i}."}) + "\n" for i in range(5)) + "".join(json.dumps(rec(f"q{i}")) + "\n" for i in range(7)),
                    encoding="utf-8")  # fmt: skip
    assert ftkit.validate(path).files[0].shape is None  # 5 of 12: not most


def test_the_pattern_comes_first_in_text_and_travels_in_json(tmp_path: Path) -> None:
    name = str(DATA / "azureml-examples" / "distillation-train_math.jsonl")
    code, out = run("validate", name)
    lines = out.splitlines()
    assert code == 1 and lines[1].startswith("  the file: 378 of 378 records end on a user turn and have no reply at all")
    assert "FT204" in lines[2]
    code, out = run("validate", name, "--format", "json")
    data = json.loads(out)
    assert data["version"] == "1" and data["files"][0]["shape"]["kind"] == "prompt-set"
    code, out = run("report", name, "--format", "md")
    assert "**The file " in out and out.index("**The file ") < out.index("### FT204")
    verdict = out.splitlines()[4]
    assert "ftkit fix" not in verdict and "this looks like a prompt set" in verdict


# --- remedies ---------------------------------------------------------------------------------------------

FIX_FLAGS = {"--merge-consecutive", "--drop-unpaired-user", "--remove-unknown-keys", "--redact", "--in-place", "--force"}
CONVERT_FLAGS = {"--tools", "--reasoning", "--preference", "--map", "--from"}


@pytest.mark.parametrize("rule", all_rules(), ids=[r.code for r in all_rules()])
def test_every_rule_names_its_remedy(rule: Any) -> None:
    """A "Remedy:" line, and every command it names is real: fix flags, convert options, formats."""
    from ftkit.repair.chat_formats import FORMATS

    assert rule.remedy and rule.remedy.endswith("."), rule.code
    for command in re.findall(r"`(ftkit [^`]+)`", rule.remedy):
        words = command.split()
        assert words[1] in {"fix", "convert", "split", "cost", "validate"}, command
        flags = {w for w in words if w.startswith("--")}
        if words[1] == "fix":
            assert flags <= FIX_FLAGS, command
        if words[1] == "convert":
            assert flags <= CONVERT_FLAGS, command
            if "--from" in words:
                assert words[words.index("--from") + 1] in FORMATS, command
    assert "ftkit fix" not in rule.remedy or "by hand" in rule.remedy or rule.remedy.startswith("`ftkit fix"), rule.code


def test_rules_command_shows_remedies() -> None:
    code, out = run("rules", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and all(r["remedy"] for r in rows)
    assert next(r for r in rows if r["code"] == "FT017")["remedy"] == "`ftkit convert` (writes it as JSON Lines)."
    code, out = run("rules", "--remedies")
    assert code == 0 and "       remedy: `ftkit fix --merge-consecutive`, or by hand (insert the missing turn)." in out
    assert "remedy:" not in run("rules")[1]


@pytest.mark.parametrize("records, expected, absent", [
    ([{"conversations": [{"from": "human", "value": f"q{i}"}, {"from": "gpt", "value": "a"}]} for i in range(12)], "`ftkit convert`", "ftkit fix"),
    ([{"messages": [{"role": "user", "content": [{"type": "text", "text": f"q{i}"}]}, {"role": "assistant", "content": "a"}], "id": i} for i in range(12)],
     "`ftkit convert`", "repairs the common ones"),
    ([rec(f"q{i}") for i in range(11)] + [{"messages": [{"role": "user", "content": "Hi"}, {"role": "Assistant", "content": "Yo"}]}],
     "FT109: `ftkit fix` (case, spaces, known aliases)", "repairs the common ones"),
])  # fmt: skip
def test_verdicts_list_the_remedies_of_the_rules_that_fired(records: list[Any], expected: str, absent: str, tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    verdict = ftkit.report(path).verdict
    assert not verdict.ready and expected in verdict.sentence and absent not in verdict.sentence


def test_validate_summary_lists_what_repairs_the_findings() -> None:
    _, out = run("validate", str(DATA / "llama-factory" / "glaive_toolcall_en_demo.json"))
    tail = out[out.index("What repairs them:"):]
    assert "FT017 json-array-file: `ftkit convert` (writes it as JSON Lines)." in tail
    assert "FT102 messages-missing: `ftkit convert`" in tail and "FT001 file-extension: by hand" in tail


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=st.lists(any_records() | mutated().map(lambda c: json.loads(c[0])), min_size=1, max_size=8), indent=st.sampled_from([None, 1, 2]))
def test_an_array_is_checked_exactly_like_the_same_records_as_lines(records: list[Any], indent: int | None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The array's fast path (orjson and the clean-record test, per element) and its careful path
    find, record by record, what validating the records one per line finds: the same codes, each
    pointer under its element's index, on the line the element starts."""
    tmp = tmp_path_factory.mktemp("arr")
    lines, array = tmp / "l.jsonl", tmp / "a.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    text = "[\n" + ",\n".join(json.dumps(r, indent=indent) for r in records) + "\n]\n"
    array.write_text(text, encoding="utf-8")
    starts, line = [], 2
    for r in records:
        starts.append(line)
        line += json.dumps(r, indent=indent).count("\n") + 1
    record_codes = ("FT0", "FT1", "FT2", "FT3")
    one = ftkit.validate(lines, ignore=["FT5"])
    two = ftkit.validate(array, ignore=["FT5"])
    expected = sorted((v.code, starts[v.line - 1], f"/{v.line - 1}{v.pointer}") for v in one.violations if v.line and v.code.startswith(record_codes))
    got = sorted((v.code, v.line, v.pointer) for v in two.violations if v.line and v.code.startswith(record_codes))
    assert got == expected
    assert (two.files[0].records, two.files[0].valid_records) == (one.files[0].records, one.files[0].valid_records)
    assert [v.code for v in two.violations if v.line is None] == ["FT017"]


def test_report_examples_of_an_array_show_the_element_not_its_brace() -> None:
    code, out = run("report", str(DATA / "llama-factory" / "dpo_en_demo.json"), "--format", "json")
    rules = {g["code"]: g for g in json.loads(out)["validation"]["rules"]}
    example = rules["FT102"]["examples"][0]
    assert code == 0 and (example["line"], example["pointer"]) == (2, "/0")
    assert example["text"].startswith('{ "conversations": [ { "from": "human", "value": "Hi! I\'d like to create a new language game')


def test_the_same_finding_in_every_element_is_counted_once_in_text() -> None:
    _, out = run("validate", str(DATA / "llama-factory" / "kto_en_demo.json"))
    assert "FT111 warning [unknown-record-key]: the same finding on 297 more lines (every record)" in out
    assert out.count('record has unknown key "label"') == 4
