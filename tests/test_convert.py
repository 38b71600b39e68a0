"""``ftkit convert``: real public datasets, each format's mapping, detection, bad input, the CLI.

Every record of a real file is written or rejected with a reason (written + rejected == the
records in the file) and the output validates with no error. The expected figures are those of
the unmodified real files in tests/data (README.md there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.cli import cli
from ftkit.repair.convert import FOLD_CALL, FOLD_RESULT, FOLD_TOOLS, ConvertResult
from support import DATA as SHARED


def source_records(path: Path) -> list[Any]:
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def convert(tmp: Path, src: Path, **kwargs: Any) -> tuple[ConvertResult, list[dict[str, Any]], list[dict[str, Any]]]:
    result = ftkit.convert(src, tmp / "out.jsonl", force=True, **kwargs)
    out = [json.loads(line) for line in (tmp / "out.jsonl").read_text(encoding="utf-8").split("\n")[:-1]]
    rejects = [json.loads(line) for line in Path(result.rejects).read_text(encoding="utf-8").split("\n")[:-1]]
    return result, out, rejects


# (file, options, format, written, rejected, rejected by reason)
REAL = [
    ("llama-factory/alpaca_zh_demo.json", {}, "alpaca", 1000, 0, {}),
    ("llama-factory/alpaca_en_demo.json", {}, "alpaca", 999, 0, {}),
    ("llama-factory/identity.json", {"source_format": "alpaca"}, "alpaca", 91, 0, {}),
    ("llama-factory/glaive_toolcall_en_demo.json", {}, "sharegpt", 147, 153, {"tool-use": 153}),
    ("llama-factory/glaive_toolcall_en_demo.json", {"source_format": "sharegpt", "tools": "fold"}, "sharegpt", 300, 0, {}),
    ("medicalgpt/sharegpt_zh_1K_format.jsonl", {}, "sharegpt", 993, 7, {"FT204": 7}),
    ("openai-cookbook/drone_training.jsonl", {"source_format": "openai"}, "openai", 0, 103, {"tool-use": 103}),
    ("openai-cookbook/drone_training.jsonl", {"source_format": "openai", "tools": "fold"}, "openai", 103, 0, {}),
    ("llama-factory/v1_sft_demo.jsonl", {}, "openai", 500, 0, {}),
    # reasoning parts are refused by default (the old reason, "not-text", named no reasoning)
    ("llama-factory/reason_tool_use_demo_50.jsonl", {"tools": "fold"}, "openai", 0, 50, {"reasoning": 50}),
    ("llama-factory/reason_tool_use_demo_50.jsonl", {"tools": "fold", "reasoning": "drop"}, "openai", 50, 0, {}),
    ("anthropic-cookbook/json_mode_dataset.jsonl", {}, "openai", 500, 0, {}),
    # issue 12: the files that lost or corrupted training signal
    ("llama-factory/kto_en_demo.json", {}, "kto", 150, 150, {"undesirable": 150}),
    ("llama-factory/dpo_en_demo.json", {}, "preference", 0, 300, {"preference": 300}),
    ("llama-factory/dpo_en_demo.json", {"preference": "chosen"}, "preference", 300, 0, {}),
    ("llama-factory/mllm_demo.json", {}, "multimodal", 0, 6, {"media": 6}),
    ("aws-bedrock-samples/nova_tooluse_train_ft.jsonl", {}, "openai", 560, 0, {}),
    ("azureml-examples/distillation-train_math.jsonl", {}, "openai", 0, 378, {"FT204": 378}),
]


def _id(row: tuple[Any, ...]) -> str:
    return row[0] + "".join(f"-{v}" for v in row[1].values())


@pytest.mark.parametrize("name, options, fmt, written, rejected, reasons", REAL, ids=[_id(r) for r in REAL])
def test_real_file(name: str, options: dict[str, str], fmt: str, written: int, rejected: int, reasons: dict[str, int], tmp_path: Path) -> None:
    src = SHARED / name
    result, out, rejects = convert(tmp_path, src, **options)
    records = source_records(src)
    assert result.format == fmt and result.detected == ("source_format" not in options)
    assert result.records == result.matched == len(records)
    assert (result.written, result.rejected) == (written, rejected) and len(out) == written and len(rejects) == rejected
    assert result.written + result.rejected == len(records)
    assert result.rejected_by_reason == reasons and set(result.reason_examples) == set(reasons)
    for reject in rejects:  # each with where it came from, why, and the record as it was
        position = reject["index"] if "index" in reject else reject["line"] - 1
        assert reject["reasons"] and json.loads(reject["text"]) == records[position]
    report = ftkit.validate(tmp_path / "out.jsonl")
    if written:
        assert report.summary.by_severity["error"] == 0 and result.output_check.clean
    else:  # every record rejected: the output is empty, and says so (FT002)
        assert report.summary.by_code == {"FT002": 1} and not result.output_check.clean


def test_alpaca_mapping_on_real_data(tmp_path: Path) -> None:
    src = SHARED / "llama-factory" / "alpaca_en_demo.json"
    records = source_records(src)
    _, out, _ = convert(tmp_path, src)
    for rec, got in zip(records, out):
        user = rec["instruction"] + ("\n" + rec["input"] if rec["input"] else "")
        assert got == {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": rec["output"]}]}


def test_identity_placeholders_are_kept(tmp_path: Path) -> None:
    """identity.json is a template ({{name}}, {{author}}): convert copies text, it substitutes nothing."""
    src = SHARED / "llama-factory" / "identity.json"
    _, out, _ = convert(tmp_path, src)
    replies = [r["messages"][-1]["content"] for r in out]
    assert replies == [r["output"] for r in source_records(src)]
    assert (sum("{{name}}" in r for r in replies), sum("{{author}}" in r for r in replies)) == (77, 60)


def test_drone_tool_calls_fold_into_text(tmp_path: Path) -> None:
    src = SHARED / "openai-cookbook" / "drone_training.jsonl"
    records = source_records(src)
    result, out, _ = convert(tmp_path, src, source_format="openai", tools="fold")
    assert result.folded == 103 and result.ignored_keys == {"parallel_tool_calls": 103}
    first, rec = out[0]["messages"], records[0]
    assert first[0]["role"] == "system" and first[0]["content"].startswith(rec["messages"][0]["content"] + "\n\n" + FOLD_TOOLS)
    assert json.loads(first[0]["content"].split(FOLD_TOOLS, 1)[1]) == rec["tools"]
    call = rec["messages"][-1]["tool_calls"][0]["function"]
    assert first[-1] == {"role": "assistant", "content": FOLD_CALL + json.dumps({"name": call["name"], "arguments": json.loads(call["arguments"])})}


def test_glaive_function_turns_fold_in_order(tmp_path: Path) -> None:
    src = SHARED / "llama-factory" / "glaive_toolcall_en_demo.json"
    records = source_records(src)
    _, out, _ = convert(tmp_path, src, tools="fold")
    turns, msgs = records[0]["conversations"], out[0]["messages"]
    assert msgs[0]["role"] == "system" and msgs[0]["content"] == FOLD_TOOLS + records[0]["tools"]
    assert [m["role"] for m in msgs[1:]] == ["user", "assistant", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert msgs[4] == {"role": "assistant", "content": FOLD_CALL + turns[3]["value"]}
    assert msgs[5] == {"role": "user", "content": FOLD_RESULT + turns[4]["value"]}


# --- each format, small -----------------------------------------------------------------------

def write(tmp: Path, name: str, records: list[Any], jsonl: bool = False) -> Path:
    path = tmp / name
    if jsonl:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    else:
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def msgs(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content} for role, content in pairs]}


def test_alpaca_system_history_input(tmp_path: Path) -> None:
    src = write(tmp_path, "a.json", [
        {"instruction": "Translate", "input": "chat", "output": "cat", "system": "Be brief.", "history": [["Hi", "Hello"]], "id": 1},
        {"instruction": "Say hi", "output": "hi"},
        {"instruction": "Rank", "input": "", "output": ["good", "bad"]},
        {"instruction": "No reply", "input": ""},
    ])
    result, out, rejects = convert(tmp_path, src)
    assert out == [
        msgs(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Translate\nchat"), ("assistant", "cat")),
        msgs(("user", "Say hi"), ("assistant", "hi")),
    ]
    assert [r["index"] for r in rejects] == [2, 3]
    assert rejects[0]["reasons"][0].startswith("not-text: \"output\" is a list")
    assert rejects[1]["reasons"][0].startswith("not-alpaca: ") and result.matched == 3
    assert result.ignored_keys == {"id": 1}


def test_sharegpt_roles_from_the_profile(tmp_path: Path) -> None:
    src = write(tmp_path, "s.jsonl", [
        {"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
        {"system": "Top", "conversations": [{"from": "Human", "value": "Q"}, {"from": "model", "value": "A"}]},
        {"conversations": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]},
        {"conversations": [{"from": "narrator", "value": "Once"}, {"from": "gpt", "value": "A"}]},
        {"conversations": [{"from": "human", "value": "Q"}, {"from": "function_call", "value": "{}"}, {"from": "observation", "value": "{}"}, {"from": "gpt", "value": "A"}]},
        {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}, {"from": "human", "value": "Q2"}]},
    ], jsonl=True)
    result, out, rejects = convert(tmp_path, src)
    assert result.format == "sharegpt" and result.container == "jsonl"
    assert out == [
        msgs(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello")),
        msgs(("system", "Top"), ("user", "Q"), ("assistant", "A")),
        msgs(("user", "Q"), ("assistant", "A")),
    ]
    assert [(r["line"], r["reasons"][0].split()[0]) for r in rejects] == [(4, "unknown-role:"), (5, "tool-use:"), (6, "FT204")]
    assert "'function_call' turn" in rejects[1]["reasons"][0] and "--tools fold" in rejects[1]["reasons"][0]


def test_sharegpt_fold_joins_a_call_onto_the_reply_before_it(tmp_path: Path) -> None:
    src = write(tmp_path, "s.json", [{"conversations": [
        {"from": "human", "value": "Weather?"}, {"from": "gpt", "value": "Let me check."},
        {"from": "function_call", "value": '{"name": "w"}'}, {"from": "observation", "value": "sunny"},
        {"from": "observation", "value": "warm"}, {"from": "gpt", "value": "Sunny and warm."}], "tools": []}])
    result, out, _ = convert(tmp_path, src, tools="fold")
    assert out == [msgs(("user", "Weather?"), ("assistant", "Let me check.\n" + FOLD_CALL + '{"name": "w"}'),
                        ("user", FOLD_RESULT + "sunny\n" + FOLD_RESULT + "warm"), ("assistant", "Sunny and warm."))]
    assert result.folded == 1 and result.ignored_keys == {}


def test_prompt_completion(tmp_path: Path) -> None:
    src = write(tmp_path, "p.jsonl", [{"prompt": "2+2 =", "completion": " 4"}, {"prompt": "x", "completion": None}], jsonl=True)
    result, out, rejects = convert(tmp_path, src)
    assert result.format == "prompt-completion" and out == [msgs(("user", "2+2 ="), ("assistant", " 4"))]
    assert rejects[0]["reasons"] == ['missing-field: "completion" is null, expected a string']


def test_openai_messages(tmp_path: Path) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}
    src = write(tmp_path, "o.jsonl", [
        {"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]},
                      {"role": "assistant", "content": "Hello", "name": "bot"}]},
        {"messages": [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                      {"role": "tool", "tool_call_id": "c1", "content": "2"}, {"role": "assistant", "content": "2"}],
         "tools": [{"type": "function", "function": {"name": "add"}}]},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad", "weight": 0}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}, {"role": "assistant", "content": "A"}]},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "critic", "content": "A"}]},
    ], jsonl=True)
    result, out, rejects = convert(tmp_path, src, tools="fold")
    assert out[0] == msgs(("system", "Be brief."), ("user", "Hi\nthere"), ("assistant", "Hello"))
    assert out[1] == msgs(("system", FOLD_TOOLS + '[{"type": "function", "function": {"name": "add"}}]'), ("user", "1+1?"),
                          ("assistant", FOLD_CALL + '{"name": "add", "arguments": {"a": 1}}'), ("user", FOLD_RESULT + "2"), ("assistant", "2"))
    assert [r["reasons"][0].split()[0] for r in rejects] == ["weight-zero:", "media:", "FT109"]
    assert rejects[1]["reasons"][0] == "media: SiliconFlow chat fine-tuning takes text only (1 image); the record refers to media"
    assert result.ignored_keys == {"messages[].name": 1, "messages[].tool_call_id": 1}
    _, out, rejects = convert(tmp_path, src, tools="reject")
    assert len(out) == 1 and rejects[0]["reasons"][0].startswith("tool-use: messages[1] is an assistant tool call")


def test_openai_variants_top_level_system_and_loss_weight(tmp_path: Path) -> None:
    src = write(tmp_path, "v.jsonl", [
        {"system": "JSON only.", "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "{}"}]},
        {"system": "Ignored", "messages": [{"role": "system", "content": "Kept"}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "value": "Q"}], "loss_weight": 0.0},
                      {"role": "assistant", "content": [{"type": "text", "value": "A"}], "loss_weight": 1.0}]},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "loss_weight": 0}]},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": [{"type": "reasoning", "value": "hmm"}]}]},
    ], jsonl=True)
    result, out, rejects = convert(tmp_path, src)
    # a top-level "system" that differs from the record's own is kept too, before it (issue 12: it used to be dropped)
    assert out == [msgs(("system", "JSON only."), ("user", "Q"), ("assistant", "{}")),
                   msgs(("system", "Ignored"), ("system", "Kept"), ("user", "Q"), ("assistant", "A")), msgs(("user", "Q"), ("assistant", "A"))]
    assert result.ignored_keys == {}
    assert rejects[0]["reasons"][0].startswith("weight-zero: messages[1] is a reply with loss_weight 0")
    assert rejects[1]["reasons"][0].startswith("reasoning: messages[1].content[0] holds the model's reasoning (a part of type 'reasoning')")


def test_auto_detects_the_majority_and_counts_the_rest(tmp_path: Path) -> None:
    src = write(tmp_path, "m.json", [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(3)]
                + [{"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}, 7])
    result, _out, rejects = convert(tmp_path, src)
    assert (result.format, result.records, result.matched, result.written) == ("alpaca", 5, 3, 3)
    assert rejects[0]["reasons"][0].endswith("(it looks like ShareGPT conversations: --from sharegpt)")
    assert rejects[1]["reasons"][0] == "not-alpaca: the record does not have \"instruction\" and \"output\"; it is the number 7"


def test_jsonl_input_with_bom_crlf_blank_and_broken_lines(tmp_path: Path) -> None:
    src = tmp_path / "x.jsonl"
    good = json.dumps({"instruction": "q", "output": "a"}).encode()
    src.write_bytes(b"\xef\xbb\xbf" + good + b"\r\n\r\n" + b"{oops\n" + b'\xff"\n' + good + b"\n")
    result, _out, rejects = convert(tmp_path, src)
    assert (result.records, result.written, result.rejected) == (4, 2, 2)
    assert rejects[0]["line"] == 3 and rejects[0]["text"] == "{oops" and rejects[0]["reasons"][0].startswith("FT006")
    assert rejects[1]["line"] == 4 and "base64" in rejects[1]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.text(min_size=1).filter(str.strip), st.text(), st.text(min_size=1).filter(str.strip)), min_size=1, max_size=10))
def test_alpaca_property(rows: list[tuple[str, str, str]], tmp_path_factory: pytest.TempPathFactory) -> None:
    """Any Alpaca records convert, keep their text, and validate with no error."""
    tmp = tmp_path_factory.mktemp("conv")
    src = write(tmp, "a.json", [{"instruction": i, "input": x, "output": o} for i, x, o in rows])
    result, out, _ = convert(tmp, src)
    assert result.written == len(rows) and result.rejected == 0
    assert [(m["messages"][0]["content"], m["messages"][1]["content"]) for m in out] == [("\n".join(t for t in (i, x) if t), o) for i, x, o in rows]
    assert ftkit.validate(tmp / "out.jsonl").summary.by_severity["error"] == 0


# --- refusals and the CLI ---------------------------------------------------------------------

@pytest.mark.parametrize("content, error, code, match", [
    (b"[{\"instruction\": \"q\", \"output\": \"a\"},", ftkit.DataError, 1, "FT006 not valid JSON at line 1 column 38"),
    (b"[{\"a\": 1},\n {\"a\": 2} {\"a\": 3}]", ftkit.DataError, 1, "FT006 not valid JSON at line 2 column 11: expected ',' or ']'"),
    (b"{\"a\": 1}\n{\"b\": 2}\n", ftkit.ParameterError, 2, "cannot tell the format"),
    (b"{\"alpaca\": \n", ftkit.DataError, 1, "neither a JSON array nor JSON Lines"),
    (b"", ftkit.DataError, 1, "FT002"),
    (b"\n \n", ftkit.DataError, 1, "FT002"),
    (b"\x1f\x8b\x08\x00" + bytes(40), ftkit.DataError, 1, "FT012"),
])
def test_input_that_holds_no_usable_record_writes_nothing(content: bytes, error: type[Exception], code: int, match: str, tmp_path: Path) -> None:
    src = tmp_path / "in.json"
    src.write_bytes(content)
    with pytest.raises(error, match=match):
        ftkit.convert(src, tmp_path / "out.jsonl")
    res = CliRunner().invoke(cli, ["convert", str(src), "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == code and res.output.startswith("ftkit: ") and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.rejects.jsonl").exists()


def test_cli(tmp_path: Path) -> None:
    src = write(tmp_path, "a.json", [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(12)])
    runner = CliRunner()
    res = runner.invoke(cli, ["convert", str(src), "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == 0, res.output
    assert "detected Alpaca records (alpaca) from the keys instruction, output (12 of the first 12 records)" in res.output
    assert "written 12 -> " in res.output and "rejected 0 -> " in res.output and "validates clean" in res.output
    res = runner.invoke(cli, ["convert", str(src), "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == 2 and "already exists" in res.output
    res = runner.invoke(cli, ["convert", str(src), "-o", str(tmp_path / "out.jsonl"), "--from", "sharegpt", "--force", "--format", "json"])
    assert res.exit_code == 1 and json.loads(res.output)["rejected_by_reason"] == {"not-sharegpt": 12}
    res = runner.invoke(cli, ["convert", str(src), "-o", str(tmp_path / "out.txt")])
    assert res.exit_code == 2 and "must end in .jsonl" in res.output


def test_an_empty_array_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "e.json"
    src.write_text("[]\n")
    result = CliRunner().invoke(cli, ["convert", str(src), "-o", str(tmp_path / "e.jsonl")])
    assert result.exit_code == 1 and "FT002" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json"]  # nothing written
