"""What training sees at Max Tokens: FT402 reply-cut, FT403 reply-lost, ``trainable_kept``, and
the cut figures of stats, the report and recommend, each checked against a straightforward
re-tokenization of the templated record."""

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
from ftkit.tokens.table import TableBuilder
from ftkit.tokens.template import ChatTemplate
from ftkit.tokens.tokenizer import get_tokenizer
from ftkit.tokens.view import record_tokens
from support import DATA, write_profile

MODEL = "Qwen/Qwen2.5-7B-Instruct"
TOK, TPL = get_tokenizer(MODEL), ChatTemplate.from_spec(MODEL)


QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def straightforward(messages: list[dict[str, str]], limit: int, default_system: bool = True) -> tuple[int, int, int]:
    """(templated tokens, trainable tokens, trainable tokens before ``limit``), the slow way and
    without ftkit's template code: write the ChatML text out, tokenize it whole, and find each
    reply's tokens by tokenizing the text up to the start and up to the end of its content plus
    <|im_end|>."""
    chatml = "<|im_start|>{}\n{}<|im_end|>\n".format
    text = chatml("system", QWEN_DEFAULT_SYSTEM) if default_system and messages[0]["role"] != "system" else ""
    trainable: set[int] = set()
    for m in messages:
        if m["role"] == "assistant":
            before = text + "<|im_start|>assistant\n"
            start, end = len(TOK.encode(before)), len(TOK.encode(before + m["content"] + "<|im_end|>"))
            trainable |= set(range(start, end))
        text += chatml(m["role"], m["content"])
    ids = TOK.encode(text)
    return len(ids), len(trainable), sum(p < limit for p in trainable)


def record(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": c} for r, c in pairs]}


LONG_PROMPT = "Please summarise the following notes carefully. " * 12
LONG_REPLY = "The notes say that the meeting moved to Tuesday and that the budget was approved. " * 6


def validate_tokens(tmp_path: Path, records: list[dict[str, Any]], max_tokens: int, **kwargs: Any) -> ftkit.Report:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return ftkit.validate(path, tokens=True, max_tokens=max_tokens, **kwargs)


# --- FT402 and FT403 ------------------------------------------------------------------------------


def test_reply_starting_past_max_tokens_is_ft403(tmp_path: Path) -> None:
    rec = record(("user", LONG_PROMPT), ("assistant", "Done."))
    total, trainable, kept = straightforward(rec["messages"], 100)
    assert total > 100 and kept == 0 and trainable == 3  # "Done." + <|im_end|>
    report = validate_tokens(tmp_path, [rec], 100)
    found = {v.code: v for v in report.violations}
    assert {"FT401", "FT403"} <= set(found) and "FT402" not in found
    assert found["FT403"].severity == "warning" and "trains on nothing" in found["FT403"].message
    assert f"all {trainable} trainable tokens are cut" in found["FT403"].message


@pytest.mark.parametrize("limit", [20, 26, 60, 116])  # the reply holds positions 19-116
def test_reply_straddling_max_tokens_is_ft402_with_the_exact_loss(tmp_path: Path, limit: int) -> None:
    rec = record(("system", "You summarise."), ("user", "Notes?"), ("assistant", LONG_REPLY))
    _, trainable, kept = straightforward(rec["messages"], limit)
    assert 0 < kept < trainable
    report = validate_tokens(tmp_path, [rec], limit)
    cut = [v for v in report.violations if v.code == "FT402"]
    assert len(cut) == 1 and not [v for v in report.violations if v.code == "FT403"]
    assert f"{trainable - kept:,} of its {trainable:,} trainable tokens fall past Max Tokens {limit:,}" in cut[0].message


def test_only_the_template_tail_past_the_limit_cuts_no_reply(tmp_path: Path) -> None:
    rec = record(("user", "Hi"), ("assistant", "Hello"))
    total = straightforward(rec["messages"], 10**6)[0]
    report = validate_tokens(tmp_path, [rec], total - 1)  # only the final "\n" is past it
    assert [v.code for v in report.violations if v.code.startswith("FT4")] == ["FT401"]


def test_multi_turn_record_keeps_earlier_replies(tmp_path: Path) -> None:
    rec = record(("user", "Q1"), ("assistant", LONG_REPLY), ("user", LONG_PROMPT), ("assistant", LONG_REPLY))
    for limit in (80, 300, 400):
        _, trainable, kept = straightforward(rec["messages"], limit)
        stats = ftkit.stats([rec], max_tokens=limit)
        assert stats.tokens.trainable == trainable and stats.tokens.trainable_kept == kept


def test_profile_can_make_ft403_an_error(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"severity": {"FT403": "error"}})
    report = validate_tokens(tmp_path, [record(("user", LONG_PROMPT), ("assistant", "Done."))], 100, profile=profile)
    assert [v.severity for v in report.violations if v.code == "FT403"] == ["error"] and report.fails("error")


def test_drop_truncation_loses_the_whole_record(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"tokens": {"truncation": "drop"}})
    short, long = record(("user", "Hi"), ("assistant", "Hello")), record(("user", "Notes?"), ("assistant", LONG_REPLY))
    report = validate_tokens(tmp_path, [short, long], 100, profile=profile)
    codes = [(v.line, v.code) for v in report.violations if v.code.startswith("FT4")]
    assert codes == [(2, "FT401"), (2, "FT403")]
    assert 'truncation "drop"' in next(v.message for v in report.violations if v.code == "FT403")
    stats = ftkit.stats([short, long], max_tokens=100, profile=profile)
    assert stats.tokens.trainable_kept == straightforward(short["messages"], 100)[1]
    over = stats.over_max_tokens
    assert (over.truncation, over.reply_cut.records, over.reply_lost.records, over.reply_lost.lines) == ("drop", 0, 1, [2])
    assert over.tokens_cut == straightforward(long["messages"], 100)[0]  # the whole record
    assert any('truncation = "drop"' in a for a in stats.assumptions)


def test_unknown_truncation_is_a_profile_error(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"tokens": {"truncation": "left"}})
    with pytest.raises(ftkit.ProfileError, match="truncation"):
        ftkit.stats([record(("user", "Hi"), ("assistant", "Hello"))], profile=profile)


def test_select_and_ignore_the_new_codes(tmp_path: Path) -> None:
    rec = record(("user", LONG_PROMPT), ("assistant", "Done."))
    assert {v.code for v in validate_tokens(tmp_path, [rec], 100, ignore="FT403").violations} >= {"FT401"}
    assert "FT403" not in {v.code for v in validate_tokens(tmp_path, [rec], 100, ignore="FT403").violations}
    assert {v.code for v in validate_tokens(tmp_path, [rec], 100, select="FT403").violations} == {"FT403"}


# --- stats ----------------------------------------------------------------------------------------


def test_stats_json_names_cut_and_lost_replies(tmp_path: Path) -> None:
    records = [record(("user", "Hi"), ("assistant", "Hello")), record(("user", "Notes?"), ("assistant", LONG_REPLY)),
               record(("user", LONG_PROMPT), ("assistant", "Done."))]  # fmt: skip
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats", str(path), "--max-tokens", "100", "--format", "json", "--no-config"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    figures = [straightforward(r["messages"], 100) for r in records]
    assert data["tokens"]["trainable"] == sum(f[1] for f in figures)
    assert data["tokens"]["trainable_kept"] == sum(f[2] for f in figures)
    over = data["over_max_tokens"]
    assert over["reply_cut"] == {"records": 1, "trainable_lost": figures[1][1] - figures[1][2], "lines": [2]}
    assert over["reply_lost"] == {"records": 1, "trainable_lost": figures[2][1], "lines": [3]}
    text = CliRunner().invoke(cli, ["stats", str(path), "--max-tokens", "100", "--no-config"]).output
    assert f"{data['tokens']['trainable_kept']:,} trainable within Max Tokens" in text
    assert "reply cut (FT402): 1 records" in text and "reply lost entirely, trains on nothing (FT403): 1 records" in text


def _counted(path: Path) -> list[tuple[int, list[dict[str, str]]]]:
    """The records stats counts (lines from the token table) with their messages, read plainly."""
    frame = ftkit.table(path).frame
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    return [(n, json.loads(lines[n - 1])["messages"]) for n in frame["line"].to_list()]


REAL = sorted(p for p in DATA.glob("*/*.jsonl") if ftkit.table(p).frame.height)


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_trainable_kept_equals_a_straightforward_count_on_real_files(path: Path) -> None:
    records = _counted(path)
    longest = max(straightforward(m, 10**9)[0] for _, m in records)
    for limit in sorted({4096, 256, max(1, longest // 2)}):
        figures = [straightforward(m, limit) for _, m in records]
        stats = ftkit.stats(path, max_tokens=limit)
        assert stats.tokens.total == sum(f[0] for f in figures)
        assert stats.tokens.trainable == sum(f[1] for f in figures)
        assert stats.tokens.trainable_kept == sum(f[2] for f in figures), limit
        cut = [n for (n, _), f in zip(records, figures) if 0 < f[2] < f[1]]
        lost = [n for (n, _), f in zip(records, figures) if f[2] == 0 < f[1]]
        assert (stats.over_max_tokens.reply_cut.records, stats.over_max_tokens.reply_lost.records) == (len(cut), len(lost))
        assert stats.over_max_tokens.reply_cut.lines == cut[:20] and stats.over_max_tokens.reply_lost.lines == lost[:20]


def test_the_real_toy_file_cuts_one_reply_at_4096() -> None:
    path = DATA / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"
    report = ftkit.validate(path, tokens=True)
    cut = [v for v in report.violations if v.code == "FT402"]
    messages = json.loads(path.read_text("utf-8").splitlines()[4])["messages"]
    _, trainable, kept = straightforward(messages, 4096)
    assert [v.line for v in cut] == [5] and f"{trainable - kept:,} of its {trainable:,}" in cut[0].message


# --- the view and the table agree -----------------------------------------------------------------

_ROLES = st.sampled_from(["system", "user", "assistant"])
_TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(["\n", "\r\n", " ", "  ", "<|im_end|>", "<|im_start|>", "12", "é", "e\u0301", "你好", "word", "\t"]),
             max_size=8).map("".join),
)  # fmt: skip


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({"role": _ROLES, "content": _TEXT}), min_size=1, max_size=6), st.booleans(), st.integers(1, 80))
def test_view_counts_equal_the_table_for_any_record(messages: list[dict[str, str]], default_system: bool, limit: int) -> None:
    template = ChatTemplate.from_spec(MODEL, default_system=default_system)
    builder = TableBuilder(MODEL, template, max_tokens=limit)
    builder.add(1, {"messages": messages})
    row = {name: column[0] for name, column in builder.cols.items()}
    parts = record_tokens(messages, template, TOK)
    ids = [i for p in parts for i in p.ids]
    flags = [f for p in parts for f in p.trainable]
    assert ids == TOK.encode(template.render_record(messages))  # exactly what the tokenizer makes of the text
    assert row["total"] == len(ids)
    assert row["trainable"] == sum(flags)
    assert row["trainable_kept"] == sum(flags[:limit])
    positions = [i for i, f in enumerate(flags) if f]
    assert (row["reply_start"], row["reply_end"]) == ((positions[0], positions[-1] + 1) if positions else (0, 0))
    for role in ("system", "user", "assistant"):
        assert row[role] == sum(p.content_tokens for p in parts if p.role == role and p.message is not None)
    if all(not m["content"][:1].isspace() for m in messages):  # the reply's own tokens: the straightforward way agrees
        assert straightforward(messages, limit, default_system) == (row["total"], row["trainable"], row["trainable_kept"])


def test_cut_figures_agree_with_the_findings() -> None:
    from ftkit.api import context, token_table
    from ftkit.checks import Selector
    from ftkit.plan.cuts import cuts, length_counts
    from ftkit.scan.inputs import open_inputs

    path = DATA / "azureml-examples" / "distillation-train_conversation.jsonl"
    for limit in (300, 768, 1000):
        with open_inputs(path) as inputs:
            table = token_table(context(max_tokens=limit), inputs)
        found, counts = cuts(table.frame, limit), length_counts(table, Selector())
        assert (counts.get("FT401", 0), counts.get("FT402", 0), counts.get("FT403", 0)) == (found.records, found.replies_cut, found.replies_lost)
        assert found.records > 0


# --- recommend ------------------------------------------------------------------------------------


def _frame(short: int = 95, long: int = 5, reply_start: int = 2_900) -> Any:
    """``short`` records of 500 tokens ending with a 100-token reply, and ``long`` records of
    3,000 tokens whose 50-token reply starts at ``reply_start`` (a long prompt first)."""
    import polars as pl

    n = short + long
    return pl.DataFrame({
        "line": list(range(1, n + 1)),
        "total": [500] * short + [max(3_000, reply_start + 51)] * long,
        "trainable": [100] * short + [50] * long,
        "reply_start": [399] * short + [reply_start] * long,
        "reply_end": [499] * short + [reply_start + 50] * long,
    })  # fmt: skip


def test_recommend_never_loses_a_reply_except_for_the_fast_goal() -> None:
    from ftkit.plan.recommend import recommend

    frame = _frame()
    standard = recommend(frame, "siliconflow", "standard")
    advice = standard.parameters["max_tokens"]
    assert advice.value == 3072  # p95 is 500 -> 512 would lose 5 replies; 2,901 keeps one token of each
    assert "p95 of templated lengths is 500 tokens -> 512" in advice.reason
    assert "raised so that no reply is lost entirely" in advice.reason and "-> 3,072" in advice.reason
    assert standard.facts.replies_lost == 0 and "cuts no record" in advice.reason
    fast = recommend(frame, "siliconflow", "fast")
    assert fast.parameters["max_tokens"].value == 512
    assert fast.facts.replies_lost == 5 and fast.facts.reply_lost_lines == [96, 97, 98, 99, 100]
    assert "cuts 5 records (no reply cut, 5 lost entirely)" in fast.parameters["max_tokens"].reason
    warning = next(w for w in fast.warnings if w.startswith("goal fast"))
    assert "5 records lose the whole reply (lines 96, 97, 98, 99, 100): they train on nothing (FT403)" in warning
    assert "Max Tokens 2,901 would keep every reply" in warning
    assert recommend(frame, "siliconflow", "quality").parameters["max_tokens"].value == 3072


def test_recommend_says_when_even_the_ceiling_loses_replies() -> None:
    from ftkit.plan.recommend import recommend

    rec = recommend(_frame(reply_start=5_000), "siliconflow", "standard")
    assert rec.parameters["max_tokens"].value == 4096
    assert "capped at the platform's ceiling 4,096" in rec.parameters["max_tokens"].reason
    assert any("5 records lose the whole reply even at the platform's ceiling 4,096" in w for w in rec.warnings)


def test_recommend_under_drop_covers_every_record_with_a_reply(tmp_path: Path) -> None:
    from ftkit.plan.recommend import recommend

    profile = write_profile(tmp_path, {"tokens": {"truncation": "drop"}})
    rec = recommend(_frame(reply_start=1_000), profile, "standard")
    assert rec.parameters["max_tokens"].value == 3072 and rec.facts.truncation == "drop"  # dropping a record loses its reply
    fast = recommend(_frame(reply_start=1_000), profile, "fast")
    assert "leaves out 5 records" in fast.parameters["max_tokens"].reason


def test_recommend_names_the_cuts_on_a_real_file() -> None:
    path = DATA / "azureml-examples" / "distillation-train_conversation.jsonl"
    rec = ftkit.recommend(path)
    frame = ftkit.table(path).frame
    limit = int(rec.parameters["max_tokens"].value)
    records = _counted(path)
    figures = {n: straightforward(m, limit) for n, m in records}
    cut = sorted(n for n, f in figures.items() if 0 < f[2] < f[1])
    over = sorted(n for n, f in figures.items() if f[0] > limit)
    saved = int(frame["total"].clip(upper_bound=4096).sum() - frame["total"].clip(upper_bound=limit).sum())
    assert (rec.facts.truncated, rec.facts.replies_cut, rec.facts.replies_lost) == (len(over), len(cut), 0)
    assert rec.facts.reply_cut_lines == cut and rec.facts.tokens_saved == saved
    reason = rec.parameters["max_tokens"].reason
    assert f"cuts {len(over)} records ({len(cut)} replies cut, none lost entirely), saving {saved:,} of the" in reason
    lines = ", ".join(map(str, cut))
    assert any(f"{len(cut)} lose the end of their reply (lines {lines})" in w for w in rec.warnings)


# --- the report -----------------------------------------------------------------------------------


def test_report_counts_cut_replies_and_draws_max_tokens() -> None:
    toy = DATA / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"
    report = ftkit.report(toy)
    rules = {g.code: g for g in report.validation.rules}
    assert rules["FT402"].count == 1 and rules["FT402"].examples[0].line == 5 and "FT403" not in rules
    assert report.stats.tokens.trainable_kept == report.stats.tokens.trainable - report.stats.over_max_tokens.reply_cut.trainable_lost
    from ftkit.api.reports import render_report

    page = render_report(report, "html")
    assert "the dashed line is Max Tokens (4,096)" in page  # within view of the 8,032-token record
    kept, total = report.stats.tokens.trainable_kept, report.stats.tokens.trainable
    assert f"Trainable tokens within Max Tokens 4,096: {kept:,} of {total:,} kept" in page
    assert f"1 record with its reply cut (FT402, {total - kept:,} tokens; line 5)" in render_report(report, "md")
    guide = render_report(ftkit.report(DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"), "html")
    assert "the dashed line" not in guide  # 71 tokens at most: Max Tokens is far right, and an arrow says so
    assert "the arrow at the right edge points to it" in guide and "Max Tokens 4,096 →" in guide
