"""``ftkit stats`` and the per-record table it reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftkit.cli import cli
from ftkit.plan.stats import compute_stats
from ftkit.scan import parallel
from ftkit.tokens.table import RecordTable, stable_hash
from ftkit.tokens.tokenizer import get_tokenizer
from support import DATA as SHARED_DATA
from support import REPO


def build_table(path: Path, profile: str | None = None, dataset_rules: bool = False, **kwargs: Any) -> RecordTable:
    from ftkit.api import context, token_table
    from ftkit.scan.inputs import open_inputs

    with open_inputs(path) as inputs:
        return token_table(context(profile=profile), inputs, dataset_rules=dataset_rules, **kwargs)


def codes(table: RecordTable) -> set[str]:
    return {f.code for _, f in table.scan.violations()}

COOKBOOK = SHARED_DATA / "siliconcloud-cookbook"


def stats_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["stats", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_guide_worked_example_553_to_8() -> None:
    prompts = json.loads((COOKBOOK / "zhishuo_prompts.json").read_text(encoding="utf-8"))
    tok = get_tokenizer("Qwen/Qwen2.5-7B-Instruct")
    assert tok.count(prompts["original_prompt"]) == 553
    assert tok.count("你是智说新语生成器") + tok.count("加") == 8  # system prompt + a one-token user word


def test_stats_on_the_guide_corpus() -> None:
    data = stats_json(str(COOKBOOK / "shishuoxinyu_ft_data.jsonl"))
    assert data["records"] == 178 and data["rejected"] == 0
    assert data["tokens"]["total"] == 9346
    assert data["tokens"]["trainable"] == 5188
    role = data["tokens"]["content_by_role"]
    # every record: 3 messages x 5 template tokens, no default system prompt (all have one)
    assert role["system"] + role["user"] + role["assistant"] + 178 * 15 == 9346
    assert role["assistant"] + 178 == 5188  # trainable = assistant content + one <|im_end|> each
    assert data["system_prompt"]["distinct"] == 1 and data["system_prompt"]["top_prompt_records"] == 178
    assert role["system"] == 178 * 7  # 你是智说新语生成器 is 7 tokens on every record
    lengths = data["lengths"]
    assert lengths["min"] <= lengths["p50"] <= lengths["p90"] <= lengths["p95"] <= lengths["p99"] <= lengths["max"]
    assert set(data) >= {"records", "tokens", "lengths", "over_max_tokens", "assumptions"}


def test_first_version_gets_the_default_system_prompt() -> None:
    path = str(COOKBOOK / "shishuoxinyu_ft_data.first-version.jsonl")
    with_default = stats_json(path)["tokens"]["total"]
    without = stats_json(path, "--no-default-system")["tokens"]["total"]
    assert with_default - without == 180 * 21


def test_over_max_tokens_counts_records_and_cut_tokens(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    short = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}'  # 33 tokens
    long = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "' + "word " * 50 + '"}]}'
    path.write_text("\n".join([short, long, short, '{"messages": []}']) + "\n")
    data = stats_json(str(path), "--max-tokens", "40")
    total_long = data["lengths"]["max"]
    assert data["records"] == 3 and data["rejected"] == 1
    # the long reply starts after the default system prompt (21), the user message (5 + 1) and
    # "<|im_start|>assistant\n" (3): 10 of its tokens are within 40, the rest is lost
    trainable_long = data["tokens"]["trainable"] - 2 * 2  # the short replies are "Hello" + <|im_end|>
    assert data["over_max_tokens"] == {
        "limit": 40, "truncation": "right", "records": 1, "tokens_cut": total_long - 40, "lines": [2],
        "reply_cut": {"records": 1, "trainable_lost": trainable_long - 10, "lines": [2]},
        "reply_lost": {"records": 0, "trainable_lost": 0, "lines": []},
    }  # fmt: skip
    assert data["tokens"]["trainable_kept"] == data["tokens"]["trainable"] - (trainable_long - 10)
    assert data["lengths"]["min"] == 33


def test_stats_text_names_its_assumptions() -> None:
    result = CliRunner().invoke(cli, ["stats", str(REPO / "sample_data")])
    assert result.exit_code == 0
    assert "left out for errors" in result.output
    assert "Assumptions:" in result.output and "qwen2_5" in result.output and "default system prompt (21 tokens)" in result.output


def test_table_from_two_processes_equals_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = []
    for i in range(300):
        if i % 37 == 5:
            lines.append('{"messages": [{"role": "user", "content": "broken"}]}')
        else:
            sys = '{"role": "system", "content": "你是客服助手"}, ' if i % 3 else ""
            lines.append('{"messages": [' + sys + f'{{"role": "user", "content": "question {i} 问题"}}, {{"role": "assistant", "content": "answer {i * 7} 答案"}}]}}')
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = build_table(path, keys=True, jobs=1)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    two = build_table(path, keys=True, jobs=2)
    assert one.frame.equals(two.frame)
    assert one.rejected == two.rejected and len(one.rejected[str(path)]) == 8
    assert compute_stats(one) == compute_stats(two)


def test_stable_hash_is_keyed_and_fixed() -> None:
    assert stable_hash(b"abc", "ftkit") == stable_hash(b"abc", "ftkit")
    assert stable_hash(b"abc", "ftkit") != stable_hash(b"abc", "other")
    # pinned: the same on every machine and Python version (split assignments depend on it)
    assert stable_hash(b"abc", "ftkit") == int.from_bytes(__import__("hashlib").blake2b(b"abc", digest_size=8, key=b"ftkit").digest(), "big") >> 1


def test_stats_leaves_out_dataset_warnings_but_not_errors(tmp_path: Path) -> None:
    row = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}'
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join([row, row, '{"messages": []}']) + "\n")
    full = build_table(path, dataset_rules=True)
    lean = build_table(path, dataset_rules=False)
    assert codes(full) >= {"FT501", "FT104"}
    assert codes(lean) == {"FT104", "FT502"}
    assert lean.frame.equals(full.frame) and lean.rejected == full.rejected
    strict = tmp_path / "strict.toml"
    strict.write_text('extends = "siliconflow"\nname = "strict"\n[severity]\nFT501 = "error"\n')
    kept = build_table(path, profile=str(strict), dataset_rules=False)  # an error is never left out
    assert "FT501" in codes(kept)


@pytest.mark.parametrize(("data", "code"), [(b"", "FT002"), (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "FT012")])
def test_stats_with_nothing_to_count_exits_1_and_says_why(tmp_path: Path, data: bytes, code: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["stats", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.output.split("ftkit:")[0])["records"] == 0  # the JSON is still printed
    assert code in result.output and "no record could be counted" in result.output


_CONTENT = st.text(max_size=30).filter(lambda t: t.strip() and "<" not in t) | st.sampled_from(["\nleading newline", "  spaces", "é\u0301", "你好，世界"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(st.booleans(), st.lists(st.tuples(_CONTENT, _CONTENT), min_size=1, max_size=3)), min_size=1, max_size=12),
       default_system=st.booleans())
def test_table_rows_equal_the_template_reference(tmp_path: Path, records: list, default_system: bool) -> None:  # type: ignore[type-arg]
    """TableBuilder counts per message with cached overheads; ChatTemplate.count_record is the
    straightforward reference. They must agree on every record."""
    from ftkit.tokens.template import ChatTemplate

    rows = []
    for with_system, turns in records:
        msgs = ([{"role": "system", "content": "Be brief."}] if with_system else [])
        for user, assistant in turns:
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        rows.append(msgs)
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for m in rows), encoding="utf-8")
    table = build_table(path, default_system=default_system, dataset_rules=False)
    tpl, tok = ChatTemplate.from_spec(default_system=default_system), get_tokenizer()
    expected = [tpl.count_record(m, tok) for m in rows]
    got = table.frame.select("system", "user", "assistant", "total", "trainable", "turns").rows()
    assert got == [tuple(r) for r in expected]
