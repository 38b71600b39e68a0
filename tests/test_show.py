"""``ftkit show PATH:LINE``: one record as the model sees it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import ftkit
from ftkit.cli import cli
from ftkit.tokens.tokenizer import get_tokenizer
from support import DATA

GUIDE = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
FIRST_VERSION = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.first-version.jsonl"
TOY = DATA / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"


def show(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["show", *args, "--no-config"], input=input)
    return result.exit_code, result.output


def test_the_guides_corpus_shows_the_7_token_system_prompt_and_chatml() -> None:
    code, out = show(f"{GUIDE}:1")
    assert code == 0, out
    first = json.loads(GUIDE.read_text("utf-8").splitlines()[0])["messages"]
    assert first[0]["content"] == "你是智说新语生成器"
    assert "| <|im_start|>system\n| 你是智说新语生成器<|im_end|>\n| <|im_start|>user\n" in out
    assert f"| <|im_start|>assistant\n| [[{first[2]['content']}<|im_end|>]]" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ") and line.split()[0] in "0 1 2 all"}
    assert rows["0"][1:6] == ["system", "0", "12", "7", "5"]  # 7 content tokens + 5 of ChatML
    content = get_tokenizer().count(first[2]["content"])
    assert rows["2"][4] == str(content) and rows["2"][6] == str(content + 1)  # trainable: the reply and <|im_end|>
    assert "nothing is cut" in out


def test_json_lists_every_token_and_matches_stats() -> None:
    code, out = show(f"{GUIDE}:1", "--format", "json")
    assert code == 0
    view = json.loads(out)
    assert "segments" not in view
    tok = get_tokenizer()
    assert [t["id"] for t in view["tokens"]] == tok.encode(view["text"])
    assert "".join(t["text"] for t in view["tokens"] if t["bytes"] is None) and view["tokens"][0]["text"] == "<|im_start|>"
    assert sum(t["trainable"] for t in view["tokens"]) == view["trainable"]
    table = ftkit.table(GUIDE).frame.filter(ftkit.table(GUIDE).frame["line"] == 1).row(0, named=True)
    assert (view["total"], view["trainable"], view["trainable_kept"], view["reply_start"], view["reply_end"]) == (
        table["total"], table["trainable"], table["trainable_kept"], table["reply_start"], table["reply_end"])  # fmt: skip


def test_the_default_system_prompt_is_shown_when_the_template_adds_it() -> None:
    code, out = show(f"{FIRST_VERSION}:1")
    assert code == 0
    assert "| <|im_start|>system\n| You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>" in out
    assert "default system prompt (21 tokens)" in out and "\n  default   system" in out
    code, out = show(f"{FIRST_VERSION}:1", "--no-default-system")
    assert "You are Qwen" not in out and "\n  default" not in out


def test_where_max_tokens_cuts() -> None:
    code, out = show(f"{TOY}:5", "--max-tokens", "60")
    assert code == 0
    lines = out.splitlines()
    cut = next(i for i, line in enumerate(lines) if line.startswith("-- Max Tokens 60 cuts here"))
    assert lines[cut - 1].startswith("| [[Eat a banana!") and lines[cut + 1].startswith("| [[")
    assert "the 7,972 tokens below are not trained on" in lines[cut]
    assert "FT402 warning [reply-cut]" in out and "FT401 warning" in out
    view = ftkit.show(TOY, 5, max_tokens=60)
    assert view.cut_at == 60 and sum(t.kept for t in view.tokens) == 60
    assert view.trainable_kept == sum(t.trainable and t.kept for t in view.tokens) == 30


def test_standard_input_and_records_in_memory() -> None:
    text = GUIDE.read_text("utf-8")
    code, out = show("-:3", input=text)
    assert code == 0 and out.startswith("<stdin>:3 as Qwen/Qwen2.5-7B-Instruct sees it")
    code2, out2 = show("-", "3", input=text)
    assert code2 == 0 and out2 == out
    records = [json.loads(line) for line in text.splitlines()[:3]]
    assert ftkit.show(records, 3).total == ftkit.show(GUIDE, 3).total


def test_control_characters_are_escaped_and_lines_stay_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rec = {"messages": [{"role": "user", "content": "clear\x1b[2J\x07 me\r\nnext\u202eline"}, {"role": "assistant", "content": "ok\n::error::x"}]}
    path.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    code, out = show(f"{path}:1")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\r" not in out
    assert "| clear\\x1b[2J\\x07 me\\x0d" in out and "| next\\u202eline<|im_end|>" in out
    assert "| [[::error::x<|im_end|>]]" in out  # content never starts an output line of its own


def test_colour_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftkit.render.show import render_show_text

    view = ftkit.show(TOY, 5, max_tokens=60)
    coloured, plain = render_show_text(view, colour=True), render_show_text(view, colour=False)
    assert "\x1b[32;1m" in coloured and "[[" not in coloured.split("tokens per message")[0]
    assert "\x1b" not in plain and "[[" in plain


@pytest.mark.parametrize(("target", "code", "says"), [
    ("{p}:99", 2, "has 10 lines; there is no line 99"),
    ("{p}:0", 2, "lines are numbered from 1"),
    ("{p}", 2, "expected PATH:LINE"),
    ("{p}:x", 2, "expected PATH:LINE"),
    ("{missing}:1", 2, "no such file"),
])  # fmt: skip
def test_usage_errors(tmp_path: Path, target: str, code: int, says: str) -> None:
    data = GUIDE.read_text("utf-8").splitlines()[:10]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(data) + "\n", encoding="utf-8")
    got, out = show(target.format(p=path, missing=tmp_path / "nope.jsonl"))
    assert got == code and says in out, out


def test_lines_that_hold_no_chat_record(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "Hi"}]}\n\n{"messages": [{"role": "user", "content": 3}]}\n{broken\n',
                    encoding="utf-8")  # fmt: skip
    code, out = show(f"{path}:2")
    assert code == 1 and "blank line" in out
    code, out = show(f"{path}:3")
    assert code == 1 and "not a chat record" in out
    code, out = show(f"{path}:4")
    assert code == 1 and "cannot be read as a record" in out
    code, out = show(f"{path}:1")  # a record with errors is shown, with its findings
    assert code == 0 and "FT204 error [ends-without-reply]" in out
