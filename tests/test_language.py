"""FT305 reply-language-mismatch: precision on the labelled set, real public data, where the rule
runs (only where tokens are counted, on both paths of the scan), and the judge's invariants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from language_set import labelled_records

import ftkit
from ftkit.checks import costly_checks, record_checks
from ftkit.checks.language import LanguageJudge, _first, cld2_identify
from ftkit.checks.language_text import below_256
from ftkit.policy.languages import language_table
from ftkit.policy.profile import LanguageRules, load_profile
from ftkit.scan import parallel
from support import DATA, write_profile

JUDGE = LanguageJudge(load_profile().data.language, language_table())


def rec(user: str, reply: str, system: str | None = None, **extra: Any) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system is not None else []
    return {"messages": [*msgs, {"role": "user", "content": user}, {"role": "assistant", "content": reply}], **extra}


ZH = "为什么白天的天空是蓝色的，而日落时却变成了红色？"
EN = "Sunlight contains all colours, but the air scatters short blue wavelengths much more strongly than long red ones."


# --- accuracy -------------------------------------------------------------------------------------


def test_precision_on_the_labelled_set() -> None:
    items = labelled_records()
    kinds = {i.kind for i in items}
    assert {"same-language", "other-language", "code", "mixed-technical", "translation", "not-judged"} <= kinds
    flagged = [JUDGE.judge(i.record["messages"]) is not None for i in items]
    tp = sum(f and i.mismatch for f, i in zip(flagged, items))
    fp = sum(f and not i.mismatch for f, i in zip(flagged, items))
    fn = sum(not f and i.mismatch for f, i in zip(flagged, items))
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.8  # a floor against silently judging nothing
    for kind in ("translation", "not-judged"):  # never a mismatch
        assert not any(f for f, i in zip(flagged, items) if i.kind == kind), kind


def test_the_set_is_the_same_every_time() -> None:
    assert [i.record for i in labelled_records()] == [i.record for i in labelled_records()]


def _messages_of(path: Path) -> list[list[dict[str, Any]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() else None
        if isinstance(record, dict) and isinstance(record.get("messages"), list):
            out.append(record["messages"])
    return out


@pytest.mark.parametrize("name", [
    "siliconcloud-cookbook/shishuoxinyu_ft_data.jsonl",
    "siliconcloud-cookbook/shishuoxinyu_ft_data.first-version.jsonl",
    "openai-cookbook/toy_chat_fine_tuning.jsonl",
    "azureml-examples/chat-completion-train.jsonl",
    "azureml-examples/distillation-train_conversation.jsonl",
    "anthropic-cookbook/json_mode_dataset.jsonl",
    "together-cookbook/small_coqa_10.jsonl",
    "aws-bedrock-samples/nova_tooluse_train_ft.jsonl",
])  # fmt: skip
def test_real_files_in_one_language_are_not_flagged(name: str) -> None:
    records = _messages_of(DATA / name)
    assert records
    assert [m for m in records if JUDGE.judge(m) is not None] == []


def test_real_chinese_prompts_with_english_answers_are_found() -> None:
    """LLaMA-Factory's alpaca_zh_demo has Chinese instructions whose output stayed English."""
    rows = json.loads((DATA / "llama-factory" / "alpaca_zh_demo.json").read_text(encoding="utf-8"))
    found = []
    for row in rows:
        user = row["instruction"] + ("\n" + row["input"] if row.get("input") else "")
        verdict = JUDGE.judge(rec(user, row["output"])["messages"])
        if verdict is not None:
            found.append(verdict[1])
    assert found
    assert all("reply is in English" in m and "is in Chinese" in m for m in found)


# --- where it runs --------------------------------------------------------------------------------


def _file(tmp_path: Path, records: list[dict[str, Any]], name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _codes(report: Any, code: str = "FT305") -> list[tuple[int | None, str]]:
    return [(v.line, v.pointer) for v in report.violations if v.code == code]


def test_a_costly_rule_is_not_a_fast_path_rule() -> None:
    assert [r.code for r in costly_checks()] == ["FT305"]
    assert "FT305" not in {r.code for r in record_checks()}


def test_found_on_the_fast_and_the_careful_path(tmp_path: Path) -> None:
    """The second record has an unknown key (FT111, a warning): it takes the careful path."""
    path = _file(tmp_path, [rec(ZH, EN), rec(ZH, EN, id=7), rec(ZH, "因为空气对蓝光的散射比对红光强得多，所以天空看起来是蓝色的。")])
    report = ftkit.validate(path, tokens=True)
    assert _codes(report) == [(1, "/messages/1/content"), (2, "/messages/1/content")]
    assert _codes(ftkit.validate(path)) == []  # plain validate keeps pace with a JSON parser: not judged
    assert _codes(ftkit.validate(path, tokens=True, ignore=["FT305"])) == []


def test_as_an_error_it_keeps_the_record_out_of_the_table(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"severity": {"FT305": "error"}})
    path = _file(tmp_path, [rec(ZH, EN), rec(ZH, EN, id=7), *[rec(f"{ZH}{i}", "因为空气对蓝光的散射比对红光强得多。") for i in range(10)]])
    report = ftkit.validate(path, tokens=True, profile=profile)
    assert report.files[0].valid_records == 10
    assert len(ftkit.table(path, profile=profile, select=["FT"]).frame) == 12  # stats-like passes do not run it


def test_two_processes_find_what_one_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [rec(ZH, EN) if i % 3 == 0 else rec(f"{ZH} {i}", "因为空气对蓝光的散射比对红光强得多。") for i in range(60)]
    path = _file(tmp_path, records)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    one, two = ftkit.validate(path, tokens=True, jobs=1), ftkit.validate(path, tokens=True, jobs=2)
    assert _codes(one) == _codes(two) and len(_codes(one)) == 20


def test_in_the_report(tmp_path: Path) -> None:
    path = _file(tmp_path, [rec(ZH, EN), *[rec(f"问题 {i}：{ZH}", "因为空气对蓝光的散射比对红光强得多。") for i in range(11)]])
    quality = {g.code: g for g in ftkit.report(path).quality}
    assert quality["FT305"].count == 1 and quality["FT305"].examples[0].line == 1


# --- the judge ------------------------------------------------------------------------------------


def test_without_the_library_scripts_still_decide() -> None:
    judge = LanguageJudge(LanguageRules(), language_table(), identify=lambda text: None)
    assert judge.judge(rec(ZH, EN)["messages"]) is not None
    french = "Pourquoi le ciel est-il bleu pendant la journée et rouge au coucher du soleil ?"
    assert JUDGE.judge(rec(french, EN)["messages"]) is not None
    assert judge.judge(rec(french, EN)["messages"]) is None  # two Latin-script languages: not told apart


def test_a_short_turn_takes_the_language_of_the_conversation() -> None:
    zh_reply = "该方程式是涉及二阶偏微分方程式的例子，其中 k 是常数，解法是分离变量法。"
    msgs = [{"role": "user", "content": "微分方程式的例子和解法"}, {"role": "assistant", "content": zh_reply},
            {"role": "user", "content": "続き"}, {"role": "assistant", "content": zh_reply}]  # fmt: skip
    assert JUDGE.judge(msgs) is None


def test_the_message_names_both_languages_and_how_to_fix() -> None:
    found = JUDGE.judge(rec(ZH, EN, system="你是一个乐于助人的助手")["messages"])
    assert found is not None
    index, message = found
    assert index == 2
    assert "in English but the user message it answers (/messages/1) is in Chinese" in message
    assert "say in the prompt which language to answer in" in message


def test_units_follow_the_table() -> None:
    counted = JUDGE.count("Hello world 你好")
    names = [s.name for s in language_table().scripts]
    assert counted.units[names.index("Han")] == 2.0
    assert counted.units[names.index("Latin")] == pytest.approx(10 / 5)
    japanese = JUDGE.count("東京は日本の首都です")  # hiragana takes the kanji in
    assert japanese.script == names.index("Hiragana") and japanese.units[names.index("Han")] == 0.0


message_strategy = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool", 3]), "content": st.one_of(st.text(max_size=120), st.none(), st.integers())}
)
messages_strategy = st.lists(message_strategy, max_size=5)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=messages_strategy)
def test_never_raises_on_any_messages(messages: list[dict[str, Any]]) -> None:
    found = JUDGE.judge(messages)
    assert found is None or (found[0] == len(messages) - 1 and isinstance(found[1], str))


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=300) | st.sampled_from([ZH, EN, "Bonjour à tous, comment allez-vous aujourd'hui ?"]))
def test_a_reply_in_the_words_of_its_prompt_is_never_a_mismatch(text: str) -> None:
    assert JUDGE.judge(rec(text, text)["messages"]) is None


texts_strategy = st.text(alphabet="abc xyz,.é 中文字日本語かなカナ한국어привет مرحبا\n`_1", max_size=200) | st.sampled_from([ZH, EN])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(texts_strategy, texts_strategy), max_size=12), data=st.data())
def test_judging_many_at_once_is_judging_each(pairs: list[tuple[str, str]], data: st.DataObject) -> None:
    """The scan judges a batch of records in one pass (``judge_many``, FT305's batch form):
    a record's verdict may not depend on its neighbours."""
    records = [rec(user, reply)["messages"] for user, reply in pairs]
    records += data.draw(st.lists(messages_strategy, max_size=3))  # and some that cannot be judged
    together = JUDGE.judge_many(records)
    assert together == [JUDGE.judge_many([m])[0] for m in records] == [JUDGE.judge(m) for m in records]
    # the batch's one numpy pass counts each text as counting it alone does
    for (user, reply), counted in zip(pairs, JUDGE._count_pairs([(reply, user) for user, reply in pairs])):
        assert [c.units for c in counted] == [JUDGE.counter.units(reply), JUDGE.counter.units(user)]
    # and so do the careful counts of the suspects, in one pass too
    samples = [(JUDGE._sample(reply), JUDGE._sample(user)) for user, reply in pairs]
    for (user, reply), counted in zip(pairs, JUDGE._count_pairs(samples, careful=True)):
        alone = [JUDGE.count(reply, careful=True), JUDGE.count(user, careful=True)]
        assert [(c.sample, c.units, c.code_share) for c in counted] == [(c.sample, c.units, c.code_share) for c in alone]
    rule = next(r for r in costly_checks() if r.code == "FT305")
    assert rule.batch is not None and rule.check is not None
    wrapped = [{"messages": m} for m in records]
    assert [list(rule.check(r, load_profile().data)) for r in wrapped] == [
        [(f"/messages/{found[0]}/content", found[1])] if found else [] for found in together
    ]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40) | st.text(alphabet="abcé\xff\u0100中", max_size=40))
def test_below_256_is_every_character_below_u0100(text: str) -> None:
    assert below_256(text) == all(ord(c) < 0x100 for c in text)


def test_a_batch_too_big_for_two_byte_bins_counts_as_one_at_a_time() -> None:
    """Over 4096 texts beyond U+0100 in one pass the bins no longer fit two bytes (intp then)."""
    texts = [f"{'中' * (i % 7)}{'かな' * (i % 3)} word{i} ñ" for i in range(4200)]
    assert JUDGE.counter.units_many(texts) == [JUDGE.counter.units(t) for t in texts]
    assert JUDGE.counter.units_many([]) == []


def test_the_library_is_asked_once_per_text_in_a_batch() -> None:
    asked: list[str] = []

    def identify(text: str) -> list[tuple[str, float]] | None:
        asked.append(text)
        return cld2_identify(text)

    judge = LanguageJudge(load_profile().data.language, language_table(), identify=identify)
    records = [item.record["messages"] for item in labelled_records()]
    assert judge.judge_many(records) == [JUDGE.judge(m) for m in records]
    assert asked and len(asked) == len(set(asked))


def test_a_fence_is_looked_for_by_its_first_character() -> None:
    assert _first(("```",)) == "`" and _first(("~~~", "~x")) == "~"
    assert _first(("://", "www.")) == "" and _first(()) == ""
    fenced = "Explain this:\n```python\nprint('hi')\n```\nPlease."
    assert "print" not in JUDGE._sample(fenced) and JUDGE._sample("no fence ` here") == "no fence ` here"


def test_a_lone_surrogate_is_not_judged_and_breaks_nothing(tmp_path: Path) -> None:
    """A lone surrogate (FT016, an error unless ignored) cannot be handed to CLD2 as UTF-8: the
    text is left unjudged, and a pass that ignores FT016 still runs FT305 on the rest."""
    french = "Pourquoi le ciel est-il bleu pendant la journée et rouge au coucher du soleil ? Explique-moi en détail s'il te plaît."
    english = "Because the air scatters short blue wavelengths much more strongly than long red ones, the sky looks blue by day."
    assert cld2_identify(english[:60] + "\ud800" + english[60:]) is None
    records = [
        {"messages": [{"role": "user", "content": french}, {"role": "assistant", "content": english[:60] + "\ud800" + english[60:]}]},
        {"messages": [{"role": "user", "content": french}, {"role": "assistant", "content": english}]},
    ]
    path = tmp_path / "surrogate.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    found = ftkit.validate(path, tokens=True, ignore="FT016")
    assert [(f.line, f.code) for f in found.violations if f.code == "FT305"] == [(2, "FT305")]
