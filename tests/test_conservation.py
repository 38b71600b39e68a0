"""Meaning is conserved (issue 12): for every record ``convert`` or ``fix`` writes, each piece of
text of the input record is in the output record, or that record's change-log entries name what
was dropped and why. Checked from the files alone (output, rejects, change log), over generated
records of every format and over every real file in tests/data.

Generated text carries a unique tag (``⟨n⟩``), so a string cannot "appear" in the output by
coincidence: a lost piece of text is always noticed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.repair import chat_formats
from ftkit.repair.conserve import content_strings, lost_text
from support import DATA

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text as users write it: quotes, backslashes, newlines, CJK, emoji; never a template token or a
# media placeholder (those are findings of their own), never only whitespace.
_chars = st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="<>") | st.sampled_from(['"', "\\", "\n", "\t", "{", "}"])
_text = st.text(_chars, min_size=1, max_size=20).filter(lambda t: t.strip() != "")


class Texts:
    """Draws unique pieces of text: each ends with its own tag."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw, self.n = draw, count()

    def __call__(self) -> str:
        return f"{self.draw(_text)} ⟨{next(self.n)}⟩"

    def maybe(self) -> bool:
        return self.draw(st.booleans())


def _pairs(t: Texts, n: int) -> list[tuple[str, str]]:
    return [(t(), t()) for _ in range(n)]


def gen_openai(t: Texts) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": t()}] if t.maybe() else []
    for q, a in _pairs(t, t.draw(st.integers(1, 3))):
        user: dict[str, Any] = {"role": t.draw(st.sampled_from(["user", "human", "User"])), "content": q}
        if t.maybe():
            user["content"] = [{"type": "text", "text": q}, {"type": "text", "value": t()}]
        reply: dict[str, Any] = {"role": "assistant", "content": a}
        if t.maybe():
            reply["reasoning_content"] = t()
        if t.maybe():
            reply["name"] = t()
        msgs += [user, reply]
    if t.maybe():
        call = {"id": "c1", "type": "function", "function": {"name": t(), "arguments": json.dumps({"q": t()})}}
        msgs += [{"role": "user", "content": t()}, {"role": "assistant", "content": None, "tool_calls": [call]},
                 {"role": "tool", "tool_call_id": "c1", "content": t()}, {"role": "assistant", "content": t()}]
    rec: dict[str, Any] = {"messages": msgs}
    if t.maybe():
        rec["system"] = t()
    if t.maybe():
        rec["tools"] = [{"type": "function", "function": {"name": t(), "description": t()}}]
    if t.maybe():
        rec["meta"] = {"source": t(), "id": "x1"}
    return rec


def gen_sharegpt(t: Texts) -> dict[str, Any]:
    turns = []
    for q, a in _pairs(t, t.draw(st.integers(1, 3))):
        turns += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
    if t.maybe():
        turns += [{"from": "human", "value": t()}, {"from": "function_call", "value": json.dumps({"name": t()})},
                  {"from": "observation", "value": t()}, {"from": "gpt", "value": t()}]
    rec: dict[str, Any] = {"conversations": turns}
    if t.maybe():
        rec["system"] = t()
    if t.maybe():
        rec["tools"] = json.dumps([{"name": t()}])
    return rec


def gen_alpaca(t: Texts) -> dict[str, Any]:
    rec: dict[str, Any] = {"instruction": t(), "input": t() if t.maybe() else "", "output": t()}
    if t.maybe():
        rec["system"] = t()
    if t.maybe():
        rec["history"] = [list(p) for p in _pairs(t, 2)]
    return rec


def gen_prompt_completion(t: Texts) -> dict[str, Any]:
    return {"prompt": t(), "completion": t(), **({"category": t()} if t.maybe() else {})}


def gen_bedrock(t: Texts) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = []
    for q, a in _pairs(t, t.draw(st.integers(1, 2))):
        reply: list[dict[str, Any]] = [{"text": a}]
        if t.maybe():
            reply.insert(0, {"reasoningContent": {"reasoningText": {"text": t(), "signature": "s"}}})
        msgs += [{"role": "user", "content": [{"text": q}]}, {"role": "assistant", "content": reply}]
    if t.maybe():
        msgs += [{"role": "user", "content": [{"text": t()}]},
                 {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": t(), "input": {"k": t()}}}]},
                 {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": t()}]}}]},
                 {"role": "assistant", "content": [{"text": t()}]}]
    rec: dict[str, Any] = {"schemaVersion": "bedrock-conversation-2024", "messages": msgs}
    if t.maybe():
        rec["system"] = [{"text": t()}, {"text": t()}]
    return rec


def gen_preference(t: Texts) -> dict[str, Any]:
    kind = t.draw(st.integers(0, 5))
    if kind == 0:
        return {"conversations": [{"from": "human", "value": t()}], "chosen": {"from": "gpt", "value": t()}, "rejected": {"from": "gpt", "value": t()}}
    if kind == 1:
        return {"messages": [{"role": "user", "content": t()}], "chosen": {"role": "assistant", "content": t()},
                "rejected": {"role": "assistant", "content": t()}}
    if kind == 2:
        return {"prompt": t(), "chosen": t(), "rejected": t()}
    if kind == 3:
        return {"prompt": [{"role": "user", "content": t()}], "chosen": [{"role": "assistant", "content": t()}],
                "rejected": [{"role": "assistant", "content": t()}]}
    if kind == 4:
        return {"instruction": t(), "input": t(), "chosen": t(), "rejected": t()}
    q = t()
    return {"chosen_messages": [{"role": "user", "content": q}, {"role": "assistant", "content": t()}],
            "rejected_messages": [{"role": "user", "content": q}, {"role": "assistant", "content": t()}]}


def gen_kto(t: Texts) -> dict[str, Any]:
    base = t.draw(st.sampled_from([gen_openai, gen_sharegpt, gen_prompt_completion]))(t)
    return {**base, "label": t.maybe()}


def gen_multimodal(t: Texts) -> dict[str, Any]:
    q, a = t(), t()
    return {"messages": [{"role": "user", "content": "<image>" + q}, {"role": "assistant", "content": a}], "images": ["1.jpg"]}


COLUMNS = {"user": "question", "assistant": "answer", "system": "sys"}


def gen_columns(t: Texts) -> dict[str, Any]:
    rec: dict[str, Any] = {"question": t(), "answer": t(), "score": 3}
    if t.maybe():
        rec["sys"] = t()
    if t.maybe():
        rec["notes"] = t()
    return rec


GENERATORS: dict[str, Callable[[Texts], dict[str, Any]]] = {
    "openai": gen_openai, "sharegpt": gen_sharegpt, "alpaca": gen_alpaca, "prompt-completion": gen_prompt_completion, "bedrock": gen_bedrock,
    "preference": gen_preference, "kto": gen_kto, "multimodal": gen_multimodal, "columns": gen_columns,
}  # fmt: skip


@st.composite
def dataset(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    fmt = draw(st.sampled_from(sorted(GENERATORS)))
    t = Texts(draw)
    records = [GENERATORS[fmt](t) for _ in range(draw(st.integers(1, 6)))]
    options: dict[str, Any] = {
        "tools": draw(st.sampled_from(["reject", "fold"])),
        "reasoning": draw(st.sampled_from(["reject", "drop"])),
        "preference": draw(st.sampled_from(["reject", "chosen"])),
    }
    if fmt == "columns":
        options["columns"] = COLUMNS
    else:
        options["source_format"] = draw(st.sampled_from([fmt, "auto"])) if fmt not in ("kto", "multimodal") else fmt
    return fmt, records, options


# --- checking from the files ------------------------------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def assert_conserved(records: list[Any], result: Any, key: str) -> None:
    """Every written record keeps its text, or its change-log entries say what was dropped.
    ``key``: how the rejects and the change log name a record ("line" from 1, or "index" from 0)."""
    out = _lines(Path(result.output))
    rejects = {r[key] for r in _lines(Path(result.rejects))}
    changes: dict[int, list[str]] = defaultdict(list)
    for entry in json.loads(Path(result.changes).read_text(encoding="utf-8")):
        assert entry["action"] and entry["code"]
        if entry["pointer"]:  # "" is fix's about the file's bytes (BOM, CR, blank line): it covers no text
            changes[entry[key]].append(entry["pointer"])
    first = 1 if key == "line" else 0
    written = iter(out)
    for n, record in enumerate(records, start=first):
        if n in rejects:
            assert not changes.get(n)  # a rejected record is in the rejects file as it was read
            continue
        assert lost_text(record, next(written), changes[n]) == [], n
    assert next(written, None) is None
    assert all(not any(r.startswith("unconverted-text") for r in x["reasons"]) for x in _lines(Path(result.rejects)))


@SETTINGS
@given(case=dataset(), array=st.booleans())
def test_convert_conserves_meaning_in_every_format(case: tuple[str, list[dict[str, Any]], dict[str, Any]], array: bool,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    fmt, records, options = case
    tmp = tmp_path_factory.mktemp("conserve")
    src = tmp / ("in.json" if array else "in.jsonl")
    src.write_text(json.dumps(records, ensure_ascii=False, indent=1) if array else "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                   encoding="utf-8")  # fmt: skip
    result = ftkit.convert(src, tmp / "out.jsonl", force=True, **options)
    assert result.written + result.rejected == len(records)
    assert_conserved(records, result, "index" if array else "line")
    if fmt == "multimodal":
        assert result.written == 0 and result.rejected_by_reason == {"media": len(records)}
    if result.written:
        assert result.output_check.clean and ftkit.validate(tmp / "out.jsonl").summary.by_severity["error"] == 0
    if fmt == "kto":
        assert result.written <= sum(r["label"] for r in records)  # a record labelled false is never written


def test_a_converter_that_loses_text_has_its_record_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check runs on every record: a conversion that drops text without saying why rejects
    the record (``unconverted-text``) instead of writing it."""
    original = chat_formats.Converter._alpaca

    def lossy(self: chat_formats.Converter, rec: dict[str, Any]) -> list[Any]:
        msgs = original(self, rec)
        msgs[-2]["content"] = rec["instruction"]  # the "input" goes missing
        return msgs

    monkeypatch.setattr(chat_formats.Converter, "_alpaca", lossy)
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"instruction": "Translate", "input": "chat", "output": "cat"}) + "\n", encoding="utf-8")
    result = ftkit.convert(src, tmp_path / "out.jsonl")
    assert result.written == 0 and result.rejected_by_reason == {"unconverted-text": 1}
    assert "/input" in result.reason_examples["unconverted-text"]


def test_content_strings_leave_structure_out() -> None:
    record = {"id": "r1", "messages": [{"role": "user", "content": "Hi", "name": "bob"}, {"role": "assistant", "content": [{"type": "text", "text": " "}]}]}
    assert sorted(content_strings(record)) == [("/messages/0/content", "Hi"), ("/messages/0/name", "bob")]


# --- the real files ---------------------------------------------------------------------------------


def _records(path: Path) -> list[Any]:
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


REAL_CONVERT = [
    ("llama-factory/alpaca_en_demo.json", {}),
    ("llama-factory/alpaca_zh_demo.json", {}),
    ("llama-factory/identity.json", {"source_format": "alpaca"}),
    ("llama-factory/glaive_toolcall_en_demo.json", {}),
    ("llama-factory/glaive_toolcall_en_demo.json", {"tools": "fold"}),
    ("llama-factory/kto_en_demo.json", {}),
    ("llama-factory/dpo_en_demo.json", {"preference": "chosen"}),
    ("llama-factory/mllm_demo.json", {}),
    ("llama-factory/v1_sft_demo.jsonl", {}),
    ("llama-factory/reason_tool_use_demo_50.jsonl", {"tools": "fold", "reasoning": "drop"}),
    ("medicalgpt/sharegpt_zh_1K_format.jsonl", {}),
    ("openai-cookbook/drone_training.jsonl", {"tools": "fold"}),
    ("openai-cookbook/toy_chat_fine_tuning.jsonl", {}),
    ("anthropic-cookbook/json_mode_dataset.jsonl", {}),
    ("aws-bedrock-samples/nova_tooluse_train_ft.jsonl", {}),
    ("azureml-examples/distillation-train_math.jsonl", {}),
    ("azureml-examples/distillation-train_conversation.jsonl", {}),
    ("siliconcloud-cookbook/shishuoxinyu_ft_data.jsonl", {}),
    ("together-cookbook/small_coqa_10.jsonl", {}),
]


@pytest.mark.parametrize("name, options", REAL_CONVERT, ids=[n + "".join(f"-{v}" for v in o.values()) for n, o in REAL_CONVERT])
def test_convert_conserves_meaning_on_real_files(name: str, options: dict[str, Any], tmp_path: Path) -> None:
    src = DATA / name
    result = ftkit.convert(src, tmp_path / "out.jsonl", **options)
    records = _records(src)
    assert result.written + result.rejected == len(records)
    assert_conserved(records, result, "index" if src.suffix == ".json" else "line")
    if result.written:
        assert result.output_check.errors == 0


REAL_FIX = ["aws-bedrock-samples/nova_tooluse_train_ft.jsonl", "anthropic-cookbook/json_mode_dataset.jsonl", "openai-cookbook/toy_chat_fine_tuning.jsonl",
            "medicalgpt/sharegpt_zh_1K_format.jsonl", "azureml-examples/oai-v2-chat_train.crlf.jsonl", "llama-factory/v1_sft_demo.jsonl"]  # fmt: skip


@pytest.mark.parametrize("name", REAL_FIX)
def test_fix_conserves_meaning_on_real_files(name: str, tmp_path: Path) -> None:
    """Every opt-in fix at once: keys removed (a top-level "system" moved), turns merged, a final
    question dropped; each logged where it was."""
    src = DATA / name
    result = ftkit.fix(src, tmp_path / "out.jsonl", remove_unknown_keys=True, merge_consecutive=True, drop_unpaired_user=True)
    assert_conserved(_records(src), result, "line")
    assert result.output_check.errors == 0 if result.written else result.output_check.by_code == {"FT002": 1}


def test_fix_moves_the_nova_system_prompt_into_every_record(tmp_path: Path) -> None:
    """The issue's case: `fix --remove-unknown-keys` used to delete the system prompt of all 560
    records and call the output clean."""
    src = DATA / "aws-bedrock-samples" / "nova_tooluse_train_ft.jsonl"
    result = ftkit.fix(src, tmp_path / "out.jsonl", remove_unknown_keys=True)
    out = _lines(tmp_path / "out.jsonl")
    systems = [r["system"] for r in _records(src)]
    assert result.written == 560 and [o["messages"][0] for o in out] == [{"role": "system", "content": s} for s in systems]
    log = json.loads(Path(result.changes).read_text(encoding="utf-8"))
    assert {(e["code"], e["pointer"], e["action"]) for e in log} == {("FT111", "/system", "moved the record key 'system' into a first system message")}
    assert result.output_check.clean and result.output_check.warnings == 1  # FT507: the same prompt everywhere, now seen


@st.composite
def fix_records(draw: st.DrawFn) -> dict[str, Any]:
    t = Texts(draw)
    msgs: list[dict[str, Any]] = [{"role": "system", "content": t()}] if t.maybe() else []
    for q, a in _pairs(t, draw(st.integers(1, 3))):
        msgs.append({"role": "user", "content": q})
        if t.maybe():
            msgs.append({"role": "user", "content": t()})  # FT203: merged with --merge-consecutive
        msgs.append({"role": "assistant", "content": a, **({"name": t()} if t.maybe() else {})})
    if t.maybe():
        msgs.append({"role": "user", "content": t()})  # FT204: dropped with --drop-unpaired-user
    rec: dict[str, Any] = {"messages": msgs}
    if t.maybe():
        rec["system"] = t()
    if t.maybe():
        rec["source"] = t()
    return rec


@SETTINGS
@given(records=st.lists(fix_records(), min_size=1, max_size=6))
def test_fix_conserves_meaning(records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("fixc")
    src = tmp / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = ftkit.fix(src, tmp / "out.jsonl", remove_unknown_keys=True, merge_consecutive=True, drop_unpaired_user=True)
    assert result.written == len(records)
    assert_conserved(records, result, "line")
    assert result.output_check.errors == 0
