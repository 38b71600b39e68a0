"""``ftkit convert`` (issue 12): the formats it detects and reads, the containers, the change log,
the outcome lines and the exit codes. Each case is small and generated; the real files are in
tests/test_convert.py and tests/test_conservation.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import ftkit
from ftkit.cli import cli
from ftkit.repair.convert import FOLD_CALL, FOLD_RESULT, ConvertResult
from support import write_profile

Records = list[dict[str, Any]]


def write(tmp: Path, name: str, records: list[Any]) -> Path:
    path = tmp / name
    if name.endswith(".json"):
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def convert(tmp: Path, src: Path, **kwargs: Any) -> tuple[ConvertResult, Records, Records, Records]:
    result = ftkit.convert(src, tmp / "out.jsonl", force=True, **kwargs)
    out = [json.loads(line) for line in (tmp / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    rejects = [json.loads(line) for line in Path(result.rejects).read_text(encoding="utf-8").splitlines()]
    changes = json.loads(Path(result.changes).read_text(encoding="utf-8"))
    return result, out, rejects, changes


def msgs(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content} for role, content in pairs]}


def reasons(rejects: Records) -> list[str]:
    return [r["reasons"][0] for r in rejects]


# --- Amazon Bedrock conversation -------------------------------------------------------------------

BEDROCK = "bedrock-conversation-2024"


def bedrock(*messages: tuple[str, list[Any]], system: Any = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"schemaVersion": BEDROCK}
    if system is not None:
        rec["system"] = system
    rec["messages"] = [{"role": role, "content": content} for role, content in messages]
    return rec


def test_bedrock_text_system_list_and_blocks(tmp_path: Path) -> None:
    src = write(tmp_path, "b.jsonl", [
        bedrock(("user", [{"text": "What is the capital of Mars?"}]), ("assistant", [{"text": "None yet."}, {"text": "Perhaps one day."}]),
                system=[{"text": "You are friendly."}, {"text": "Be brief."}]),
        bedrock(("user", [{"text": "Hi"}]), ("assistant", [{"text": "Hello"}])),
    ])
    result, out, rejects, changes = convert(tmp_path, src)
    assert result.format == "bedrock" and result.detection is not None and result.detection.keys == ["schemaVersion", "system (a list)"]
    assert out == [msgs(("system", "You are friendly.\nBe brief."), ("user", "What is the capital of Mars?"),
                        ("assistant", "None yet.\nPerhaps one day.")), msgs(("user", "Hi"), ("assistant", "Hello"))]
    assert rejects == [] and changes == [] and result.ignored_keys == {}


@pytest.mark.parametrize("block, kind", [
    ({"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/x.png"}}}}, "1 image"),
    ({"video": {"format": "mp4", "source": {"s3Location": {"uri": "s3://b/x.mp4"}}}}, "1 video"),
    ({"document": {"format": "pdf", "name": "d", "source": {"bytes": "JVBERi0="}}}, "1 document"),
])
def test_bedrock_media_blocks_are_refused_naming_the_kind(block: dict[str, Any], kind: str, tmp_path: Path) -> None:
    src = write(tmp_path, "b.jsonl", [bedrock(("user", [{"text": "Look"}, block]), ("assistant", [{"text": "Seen."}]))])
    result, out, rejects, _ = convert(tmp_path, src)
    assert out == [] and result.rejected_by_reason == {"media": 1}
    assert reasons(rejects) == [f"media: SiliconFlow chat fine-tuning takes text only ({kind}); the record refers to media"]


def test_bedrock_tool_and_reasoning_blocks(tmp_path: Path) -> None:
    tool = bedrock(("user", [{"text": "Weather?"}]), ("assistant", [{"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}}]),
                   ("user", [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}, {"json": {"c": 21}}]}}]), ("assistant", [{"text": "Sunny."}]))
    think = bedrock(("user", [{"text": "2+2?"}]), ("assistant", [{"reasoningContent": {"reasoningText": {"text": "two and two", "signature": "s"}}}, {"text": "4"}]))
    src = write(tmp_path, "b.jsonl", [tool, think])
    result, out, rejects, _ = convert(tmp_path, src)
    assert out == [] and result.rejected_by_reason == {"reasoning": 1, "tool-use": 1}
    assert reasons(rejects)[0].startswith("tool-use: messages[1].content[0] is a toolUse block (a tool call)")
    assert reasons(rejects)[1].startswith("reasoning: messages[1].content[0] holds the model's reasoning (a reasoningContent block)")
    result, out, rejects, changes = convert(tmp_path, src, tools="fold", reasoning="drop")
    assert out == [msgs(("user", "Weather?"), ("assistant", FOLD_CALL + '{"name": "weather", "arguments": {"city": "Paris"}}'),
                        ("user", FOLD_RESULT + 'sunny\n{"c": 21}'), ("assistant", "Sunny.")),
                   msgs(("user", "2+2?"), ("assistant", "4"))]
    assert [(c["line"], c["code"], c["pointer"]) for c in changes] == [(2, "reasoning", "/messages/1/content/0")]
    assert result.folded == 1


# --- preference pairs ------------------------------------------------------------------------------

PAIRS = [
    ({"conversations": [{"from": "human", "value": "Hi"}], "chosen": {"from": "gpt", "value": "Hello!"}, "rejected": {"from": "gpt", "value": "Go away."}},
     msgs(("user", "Hi"), ("assistant", "Hello!")), "/rejected"),
    ({"messages": [{"role": "user", "content": "Hi"}], "chosen": {"role": "assistant", "content": "Hello!"}, "rejected": {"role": "assistant", "content": "No."}},
     msgs(("user", "Hi"), ("assistant", "Hello!")), "/rejected"),
    ({"prompt": "2+2?", "chosen": "4", "rejected": "5"}, msgs(("user", "2+2?"), ("assistant", "4")), "/rejected"),
    ({"prompt": [{"role": "user", "content": "Hey"}], "chosen": [{"role": "assistant", "content": "Yo"}], "rejected": [{"role": "assistant", "content": "Meh"}]},
     msgs(("user", "Hey"), ("assistant", "Yo")), "/rejected"),
    ({"prompt": "Q?", "chosen": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}],
      "rejected": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "B."}], "score_chosen": 8.0},
     msgs(("user", "Q?"), ("assistant", "A.")), "/rejected"),
    ({"instruction": "Translate", "input": "chat", "chosen": "cat", "rejected": "dog"}, msgs(("user", "Translate\nchat"), ("assistant", "cat")), "/rejected"),
    ({"chosen_messages": [{"role": "user", "content": "U"}, {"role": "assistant", "content": "V"}],
      "rejected_messages": [{"role": "user", "content": "U"}, {"role": "assistant", "content": "W"}]},
     msgs(("user", "U"), ("assistant", "V")), "/rejected_messages"),
]


@pytest.mark.parametrize("record, written, dropped", PAIRS, ids=[f"pair{i}" for i in range(len(PAIRS))])
def test_preference_pairs_are_refused_or_written_with_the_chosen_reply(record: dict[str, Any], written: dict[str, Any], dropped: str,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    src = write(tmp_path, "p.jsonl", [record])
    result, out, rejects, _ = convert(tmp_path, src)
    assert result.format == "preference" and out == [] and result.rejected_by_reason == {"preference": 1}
    assert reasons(rejects)[0].startswith("preference: preference pair: ") and "use --preference chosen" in reasons(rejects)[0]
    result, out, rejects, changes = convert(tmp_path, src, preference="chosen")
    assert out == [written] and rejects == []
    assert [(c["code"], c["pointer"]) for c in changes] == [("preference", dropped)]
    assert "rejected reply of a preference pair" in changes[0]["action"]


def test_preference_with_a_chosen_message_that_has_extra_keys_logs_them_where_they_were(tmp_path: Path) -> None:
    src = write(tmp_path, "p.jsonl", [{"conversations": [{"from": "human", "value": "Hi"}],
                                       "chosen": {"from": "gpt", "value": "Hello!", "note": "polite"}, "rejected": {"from": "gpt", "value": "No."}}])
    _, out, _, changes = convert(tmp_path, src, preference="chosen")
    assert out == [msgs(("user", "Hi"), ("assistant", "Hello!"))]
    assert sorted((c["code"], c["pointer"]) for c in changes) == [("not-carried", "/chosen/note"), ("preference", "/rejected")]


# --- labelled (KTO) records --------------------------------------------------------------------------


def test_kto_labels(tmp_path: Path) -> None:
    src = write(tmp_path, "k.json", [
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}], "label": True},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}], "label": False},
        {"prompt": "P", "completion": "C", "label": True},
        {"conversations": [{"from": "human", "value": "H"}, {"from": "gpt", "value": "G"}], "kto_tag": False},
        {"conversations": [{"from": "human", "value": "H"}, {"from": "gpt", "value": "G"}], "kto_tag": "yes"},
    ])
    result, out, rejects, changes = convert(tmp_path, src)
    assert result.format == "kto" and result.detection is not None and result.detection.keys == ["messages", "label"]
    assert out == [msgs(("user", "Q"), ("assistant", "good")), msgs(("user", "P"), ("assistant", "C"))]
    assert result.rejected_by_reason == {"bad-label": 1, "undesirable": 2}
    assert reasons(rejects)[0].startswith('undesirable: labelled undesirable ("label": false)')
    assert reasons(rejects)[1].startswith('undesirable: labelled undesirable ("kto_tag": false)')
    assert [(c["index"], c["code"], c["pointer"]) for c in changes] == [(0, "label", "/label"), (2, "label", "/label")]


def test_a_false_label_is_never_written_whatever_the_format_named(tmp_path: Path) -> None:
    src = write(tmp_path, "k.jsonl", [{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}], "label": False}])
    result, out, _, _ = convert(tmp_path, src, source_format="openai")
    assert out == [] and result.rejected_by_reason == {"undesirable": 1}


# --- multimodal --------------------------------------------------------------------------------------


def test_multimodal_records_are_refused_with_the_count(tmp_path: Path) -> None:
    src = write(tmp_path, "m.jsonl", [
        {"messages": [{"role": "user", "content": "<image><image>Compare"}, {"role": "assistant", "content": "Same."}], "images": ["a.jpg", "b.jpg"]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": "x"}}]},
                      {"role": "assistant", "content": "A cat."}]},
        {"conversations": [{"from": "human", "value": "<video>What happens?<audio>"}, {"from": "gpt", "value": "A dance."}], "videos": ["v.mp4"]},
        {"messages": [{"role": "user", "content": "Describe <image>"}, {"role": "assistant", "content": "No."}]},
        {"messages": [{"role": "user", "content": "What is an <img> tag?"}, {"role": "assistant", "content": "HTML."}], "images": []},
    ])
    result, out, rejects, _ = convert(tmp_path, src)
    assert result.format == "multimodal" and result.detection is not None and result.detection.keys == ["messages", "images"]
    assert [r["reasons"][0].split("(")[1].split(")")[0] for r in rejects] == ["2 images", "1 image", "1 audio, 1 video", "1 image"]
    assert all(r.startswith("media: SiliconFlow chat fine-tuning takes text only (") for r in reasons(rejects))
    # never written: a record that still refers to media; the last one only talks about a tag
    assert out == [msgs(("user", "What is an <img> tag?"), ("assistant", "HTML."))]
    assert ftkit.validate(tmp_path / "out.jsonl").summary.by_code.get("FT304") is None


# --- reasoning -----------------------------------------------------------------------------------------


def test_reasoning_is_refused_or_dropped_and_logged(tmp_path: Path) -> None:
    src = write(tmp_path, "r.jsonl", [
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "reasoning_content": "let me think"}]},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": [{"type": "reasoning", "value": "hmm"}, {"type": "text", "value": "B"}]}]},
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": [{"type": "thinking", "text": "only this"}]}]},
    ])
    result, out, rejects, _ = convert(tmp_path, src)
    assert out == [] and result.rejected_by_reason == {"reasoning": 3}
    assert "--reasoning drop writes the reply without it" in reasons(rejects)[0] and "Qwen2.5's chat template has no thinking part" in reasons(rejects)[0]
    result, out, rejects, changes = convert(tmp_path, src, reasoning="drop")
    assert out == [msgs(("user", "Q"), ("assistant", "A")), msgs(("user", "Q"), ("assistant", "B"))]
    assert reasons(rejects) == ["reasoning: messages[1] holds only reasoning: without it, the message is empty"]
    assert [(c["line"], c["code"], c["pointer"]) for c in changes] == [(1, "reasoning", "/messages/1/reasoning_content"),
                                                                       (2, "reasoning", "/messages/1/content/0")]


# --- the top-level system string ----------------------------------------------------------------------


def test_top_level_system_is_moved_and_logged(tmp_path: Path) -> None:
    src = write(tmp_path, "s.jsonl", [
        {"system": "JSON only.", "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "{}"}]},
        {"system": "Same.", "messages": [{"role": "system", "content": "Same."}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]},
        {"system": "Top.", "messages": [{"role": "system", "content": "Own."}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]},
    ])
    result, out, _, changes = convert(tmp_path, src)
    assert result.detection is not None and result.detection.keys == ["messages", "system (a string)"]
    assert out == [msgs(("system", "JSON only."), ("user", "Q"), ("assistant", "{}")), msgs(("system", "Same."), ("user", "Q"), ("assistant", "A")),
                   msgs(("system", "Top."), ("system", "Own."), ("user", "Q"), ("assistant", "A"))]
    assert [(c["line"], c["code"], c["pointer"]) for c in changes] == [(1, "system", "/system"), (2, "system", "/system"), (3, "system", "/system")]
    assert "moved" in changes[0]["action"] and "the same text" in changes[1]["action"] and "FT206" in changes[2]["action"]


# --- flat columns ---------------------------------------------------------------------------------------


def test_flat_columns_with_map(tmp_path: Path) -> None:
    rows = [{"text": "What is 2+2?", "ground_truth": "4", "id": 3, "source": "gsm8k"}, {"text": "Hi", "ground_truth": 5},
            {"text": "Q", "ground_truth": "A", "sys": "Be brief."}, {"question": "other"}]
    src = write(tmp_path, "c.json", rows)
    result, out, rejects, changes = convert(tmp_path, src, columns={"user": "text", "assistant": "ground_truth", "system": "sys"})
    assert result.format == "columns" and result.detection is None and (result.matched, result.written) == (3, 2)
    assert out == [msgs(("user", "What is 2+2?"), ("assistant", "4")), msgs(("system", "Be brief."), ("user", "Q"), ("assistant", "A"))]
    assert reasons(rejects)[0] == 'not-text: column "ground_truth" (--map assistant=ground_truth) is the number 5, expected a string'
    assert reasons(rejects)[1].startswith("not-columns: the record does not have the columns 'text' and 'ground_truth'")
    assert [(c["index"], c["code"], c["pointer"]) for c in changes] == [(0, "not-carried", "/source")]


def test_flat_columns_from_parquet_and_the_cli(tmp_path: Path) -> None:
    src = tmp_path / "t.parquet"
    pl.DataFrame({"text": ["What is 2+2?", "Capital of France?"], "ground_truth": ["4", "Paris"], "n": [1, 2]}).write_parquet(src)
    res = CliRunner().invoke(cli, ["convert", str(src), "-o", str(tmp_path / "o.jsonl"), "--map", "user=text", "--map", "assistant=ground_truth"])
    assert res.exit_code == 0, res.output
    assert "(Parquet, 2 records): reading flat columns (--map) (columns)" in res.output
    lines = (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == [msgs(("user", "What is 2+2?"), ("assistant", "4")), msgs(("user", "Capital of France?"), ("assistant", "Paris"))]


@pytest.mark.parametrize("args, message", [
    (["--map", "user=text"], "--map needs at least user=COL and assistant=COL"),
    (["--map", "critic=text", "--map", "user=a", "--map", "assistant=b"], "expected ROLE=COLUMN"),
    (["--map", "user=a", "--map", "user=b"], "user is mapped twice"),
    (["--map", "user=a", "--map", "assistant=a"], "each role needs its own column"),
    (["--map", "user=a", "--map", "assistant=b", "--from", "alpaca"], "cannot be used with --from alpaca"),
    (["--from", "columns"], "--from columns needs the columns"),
])
def test_map_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    src = write(tmp_path, "c.jsonl", [{"a": "x", "b": "y"}])
    res = CliRunner().invoke(cli, ["convert", str(src), "-o", str(tmp_path / "o.jsonl"), *args])
    assert res.exit_code == 2 and message in res.output and not (tmp_path / "o.jsonl").exists()


def test_flat_records_without_map_name_their_keys(tmp_path: Path) -> None:
    src = write(tmp_path, "c.jsonl", [{"text": "x", "ground_truth": "y"}])
    with pytest.raises(ftkit.ParameterError, match="the records have the keys text, ground_truth: name the columns with --map user=COL"):
        ftkit.convert(src, tmp_path / "o.jsonl")


# --- containers -----------------------------------------------------------------------------------------


def test_one_pretty_printed_object(tmp_path: Path) -> None:
    """A ShareGPT record spread over many lines: validate, convert and the outcome agree on it."""
    record = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "How are you?"},
                                {"from": "gpt", "value": "Fine."}], "system": "Be kind."}
    src = tmp_path / "one.json"
    src.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    assert len(src.read_text().splitlines()) > 16
    result, out, _, _ = convert(tmp_path, src)
    assert (result.container, result.format, result.written) == ("json-object", "sharegpt", 1)
    assert out == [msgs(("system", "Be kind."), ("user", "Hi"), ("assistant", "Hello"), ("user", "How are you?"), ("assistant", "Fine."))]
    report = ftkit.validate(src)
    assert report.files[0].records == 1 and report.files[0].shape is not None and report.files[0].shape.kind == "sharegpt"


def test_one_object_longer_than_a_line_may_be(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"data": {"max_line_bytes": 200}})
    record = {"instruction": "x" * 500, "output": "y"}
    src = tmp_path / "big.json"
    src.write_text(json.dumps(record), encoding="utf-8")
    result, out, _, _ = convert(tmp_path, src, profile=profile)
    assert (result.container, result.written) == ("json-object", 1) and out[0]["messages"][0]["content"] == "x" * 500


def test_pretty_printed_records_in_json_lines_are_read_whole(tmp_path: Path) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"q{i}", "output": f"a{i}"}, indent=2) + "\n" for i in range(3)), encoding="utf-8")
    result, out, _, _ = convert(tmp_path, src)
    assert (result.container, result.written, result.rejected) == ("jsonl", 3, 0)
    assert [o["messages"][0]["content"] for o in out] == ["q0", "q1", "q2"]


# --- outcome lines, exit codes, help ----------------------------------------------------------------------


def test_outcome_lines_say_written_rejected_by_reason_and_what_was_detected(tmp_path: Path) -> None:
    src = write(tmp_path, "k.json", [{"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}], "label": i % 2 == 0}
                                     for i in range(12)])
    res = CliRunner().invoke(cli, ["convert", str(src), "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[0].endswith("(a JSON array, loaded whole, 12 records): detected labelled (KTO) records (kto) from the keys messages, label (12 of the first 12 records)")
    assert lines[1] == f"written 6 -> {tmp_path / 'o.jsonl'}"
    assert lines[2] == f"rejected 6 -> {tmp_path / 'o.rejects.jsonl'}: undesirable 6"
    assert lines[3].startswith('  e.g. undesirable: labelled undesirable ("label": false)')
    assert "validates clean" not in res.output
    assert lines[-1].startswith("output validates with no error: 6 records") and "but 6 of 12 input records were NOT written" in lines[-1]


@pytest.mark.parametrize("command", ["convert", "fix"])
def test_help_states_the_exit_codes(command: str) -> None:
    res = CliRunner().invoke(cli, [command, "--help"])
    text = " ".join(res.output.split())
    assert res.exit_code == 0
    assert "Exit codes: 0 every record written and the output validates; 1 some records rejected (or nothing usable); 2 usage or I/O problem." in text


def test_convert_json_output_has_the_new_keys(tmp_path: Path) -> None:
    src = write(tmp_path, "a.json", [{"instruction": "q", "output": "a"}] * 2)
    res = CliRunner().invoke(cli, ["convert", str(src), "-o", str(tmp_path / "o.jsonl"), "--format", "json"])
    data = json.loads(res.output)
    assert data["detection"] == {"keys": ["instruction", "output"], "records": 2, "sample": 2}
    assert data["changes"].endswith("o.changes.json") and data["changes_by_code"] == {} and data["shape"] is None
    assert data["reason_examples"] == {} and data["changed"] == 0
