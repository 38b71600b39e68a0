"""The real public files of tests/data go through the CLI with the verdicts of tests/data/README.md."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from ftkit.cli import cli
from support import DATA as SHARED_DATA

# file -> (records, valid records, exit code, extra CLI args). Verdicts from tests/data/README.md.
VERDICTS = {
    "siliconcloud-cookbook/shishuoxinyu_ft_data.jsonl": (178, 178, 0, []),
    "siliconcloud-cookbook/shishuoxinyu_ft_data.first-version.jsonl": (180, 180, 0, []),
    "openai-cookbook/toy_chat_fine_tuning.jsonl": (5, 4, 1, []),
    "openai-cookbook/drone_training.jsonl": (103, 0, 1, []),
    "together-cookbook/small_coqa_10.jsonl": (10, 10, 0, []),
    "azureml-examples/chat-completion-train.jsonl": (79, 79, 0, []),
    "azureml-examples/chat-completion-validation.jsonl": (21, 21, 0, []),
    "azureml-examples/oai-v2-chat_train.crlf.jsonl": (128, 128, 0, []),
    "azureml-examples/distillation-train_conversation.jsonl": (100, 100, 0, []),
    "anthropic-cookbook/json_mode_dataset.jsonl": (500, 500, 0, []),
    # "28 pass, 22 fail" under the seven documented rules: content parts (FT110) are ftkit's own rule.
    "llama-factory/reason_tool_use_demo_50.jsonl": (50, 28, 1, ["--ignore", "FT110"]),
    # "structure passes; content is not a string"
    "llama-factory/v1_sft_demo.jsonl": (500, 500, 0, ["--ignore", "FT110"]),
    "medicalgpt/sharegpt_zh_1K_format.jsonl": (1000, 0, 1, []),
}


def _run(name: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["validate", str(SHARED_DATA / name), "--format", "json", *args])
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str) -> None:
    records, valid, code, args = VERDICTS[name]
    before = hashlib.sha256((SHARED_DATA / name).read_bytes()).hexdigest()
    exit_code, report = _run(name, *args)
    assert (report["files"][0]["records"], report["files"][0]["valid_records"], exit_code) == (records, valid, code)
    assert hashlib.sha256((SHARED_DATA / name).read_bytes()).hexdigest() == before


def test_toy_chat_names_the_deliberate_error() -> None:
    _, report = _run("openai-cookbook/toy_chat_fine_tuning.jsonl")
    errors = [(v["line"], v["code"], v["pointer"]) for v in report["violations"] if v["severity"] == "error"]
    assert errors == [(4, "FT202", "/messages/1/role")]


def test_drone_training_explains_tool_calls() -> None:
    _, report = _run("openai-cookbook/drone_training.jsonl")
    assert report["summary"]["by_code"]["FT107"] == 103
    assert report["summary"]["by_code"]["FT111"] == 103  # the "tools" key


def test_reason_tool_use_flags_the_tool_role_in_22_records() -> None:
    _, report = _run("llama-factory/reason_tool_use_demo_50.jsonl", "--ignore", "FT110")
    tool_lines = {v["line"] for v in report["violations"] if v["code"] == "FT109"}
    assert len(tool_lines) == 22


def test_crlf_file_is_info_only() -> None:
    exit_code, report = _run("azureml-examples/oai-v2-chat_train.crlf.jsonl", "--fail-on", "warning")
    assert exit_code == 0
    assert report["summary"]["by_code"] == {"FT015": 1}


def test_anthropic_top_level_system_is_a_warning() -> None:
    exit_code, report = _run("anthropic-cookbook/json_mode_dataset.jsonl", "--fail-on", "warning")
    assert exit_code == 1
    assert report["summary"]["by_code"] == {"FT111": 500, "FT505": 1}


def test_quality_rules_on_real_data() -> None:
    """Findings a person confirmed by reading the lines."""
    _, report = _run("anthropic-cookbook/json_mode_dataset.jsonl", "--select", "FT5")
    # line 340 asks exactly what line 65 asks ("whats the difference between weather and climate")
    assert [(v["line"], v["code"]) for v in report["violations"]] == [(340, "FT505")]
    assert "line 65" in report["violations"][0]["message"]
    # every record carries the same 375-character system prompt; line 95 opens with a short but
    # fine reply ("Yes, I have.") and is not flagged: FT506 looks at the final reply only
    _, report = _run("azureml-examples/distillation-train_conversation.jsonl", "--select", "FT5")
    assert [(v["line"], v["code"]) for v in report["violations"]] == [(None, "FT507")]
    _, report = _run("siliconcloud-cookbook/shishuoxinyu_ft_data.jsonl", "--select", "FT5")
    assert [(v["line"], v["code"]) for v in report["violations"]] == [(None, "FT507")]
    assert "178 records" in report["violations"][0]["message"]


@pytest.mark.parametrize("name", ["llama-factory/alpaca_en_demo.json", "llama-factory/identity.json", "llama-factory/glaive_toolcall_en_demo.json"])
def test_json_array_datasets_are_recognised(name: str) -> None:
    exit_code, report = _run(name)
    assert exit_code == 1
    assert {"FT001", "FT017"} <= set(report["summary"]["by_code"])


def test_sharegpt_is_recognised() -> None:
    _, report = _run("medicalgpt/sharegpt_zh_1K_format.jsonl")
    assert report["summary"]["by_code"] == {"FT102": 1000}
    assert "ShareGPT" in report["violations"][0]["message"]
