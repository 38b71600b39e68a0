"""The payoff of fine-tuning at inference (`ftkit cost --prompt-before ...`): the guide's 553 -> 8
on its own corpus, exact money, a minimal break-even, dated prices, and the report's section."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.cli import cli
from ftkit.errors import DataError, InputError, ParameterError
from ftkit.plan.cost import estimate
from ftkit.plan.payoff import break_even, price_age
from ftkit.plan.payoff_inputs import PayoffRequest, parse_inference_price, payoff_request, prompt_arg
from ftkit.policy.prices import load_prices
from ftkit.render.plan import render_cost_text
from ftkit.tokens.template import ChatTemplate
from ftkit.tokens.tokenizer import get_tokenizer
from support import DATA

COOKBOOK = DATA / "siliconcloud-cookbook"
CORPUS = COOKBOOK / "shishuoxinyu_ft_data.jsonl"
PROMPTS = json.loads((COOKBOOK / "zhishuo_prompts.json").read_text(encoding="utf-8"))
TODAY = date(2026, 12, 1)
ISSUE_KEYS = {"prompt_tokens_before", "prompt_tokens_after", "tokens_saved_per_call", "calls", "price_before_per_million",
              "price_after_per_million", "currency", "as_of", "cost_before", "cost_after", "saving", "break_even_calls",
              "assumptions"}  # fmt: skip
M7, M14, M32, M72 = (f"Qwen/Qwen2.5-{s}-Instruct" for s in ("7B", "14B", "32B", "72B"))


@pytest.fixture(scope="module")
def table() -> Any:
    return ftkit.table(CORPUS, keys=True)


@pytest.fixture
def prompt_files(tmp_path: Path) -> tuple[Path, Path]:
    before, after = tmp_path / "original.txt", tmp_path / "tuned.txt"
    before.write_text(PROMPTS["original_prompt"], encoding="utf-8")
    after.write_text(PROMPTS["fine_tuned_prompt"], encoding="utf-8")
    return before, after


def cost_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, ["cost", *args])


def guide(table: Any, **kw: Any) -> Any:
    """The payoff on the guide's corpus with the guide's two prompts."""
    request = {"prompt_before": PROMPTS["original_prompt"], "prompt_after": PROMPTS["fine_tuned_prompt"], "today": TODAY}
    price = kw.pop("price", None)
    model = kw.pop("model", None)
    request.update(kw)
    est = estimate(table, price=price, model=model, payoff=payoff_request(**request))
    assert est.payoff is not None
    return est.payoff


# --- done when: the guide's 553 -> 8 ----------------------------------------------------------------


def test_cli_prints_553_8_and_545_saved(prompt_files: tuple[Path, Path]) -> None:
    before, after = prompt_files
    out = cost_cli(str(CORPUS), "--prompt-before", f"@{before}", "--prompt-after", f"@{after}")
    assert out.exit_code == 0, out.output
    assert re.search(r"^  prompt tokens +553 +8  \(content tokens of the prompt text alone", out.output, re.M)
    assert "prompt tokens saved per call: 545 (553 -> 8)" in out.output
    data = json.loads(cost_cli(str(CORPUS), "--prompt-before", f"@{before}", "--prompt-after", f"@{after}", "--format", "json").output)
    p = data["payoff"]
    assert set(p) >= ISSUE_KEYS
    assert (p["prompt_tokens_before"], p["prompt_tokens_after"], p["tokens_saved_per_call"]) == (553, 8, 545)


def test_how_the_guides_numbers_arise(table: Any) -> None:
    """553 and 8 count each prompt's text alone, without chat-template tokens (the guide's script
    tokenizes the two strings). The tuned prompt 你是智说新语生成器。 is 8 tokens with its full stop;
    the training file's 你是智说新语生成器 is 7, plus a one-token user word is 8 again."""
    tok = get_tokenizer(M7)
    assert tok.count(PROMPTS["fine_tuned_prompt"]) == 8 == tok.count("你是智说新语生成器") + tok.count("加")
    p = guide(table)
    assert p.prompt_after_source == "given (--prompt-after)"
    assert any("content tokens of the prompt text alone" in a and "(553 before, 8 after, 545 saved per call)" in a
               for a in p.assumptions)  # fmt: skip
    # the templated figures add each message's 5 ChatML tokens
    template = ChatTemplate.from_spec(M7)
    assert p.prompt_tokens_before_templated == tok.count(template.render("system", PROMPTS["original_prompt"])) == 553 + 5
    assert p.prompt_tokens_after_templated == 8 + 5
    assert p.input_tokens_saved_per_call == p.tokens_saved_per_call == 545


def test_the_average_call(table: Any) -> None:
    """178 one-turn records: 420 user and 5,010 assistant content tokens in all."""
    p = guide(table)
    assert (p.user_tokens_per_call, p.user_tokens_mean) == (2, 2.36)  # 420 / 178 = 2.36
    assert p.output_tokens_per_call == 28 + 1  # 5,010 / 178 = 28.15 -> 28, plus <|im_end|>
    assert p.input_tokens_before_per_call == 558 + (2 + 5) + 3  # system + user message + <|im_start|>assistant\n
    assert p.input_tokens_after_per_call == 13 + 7 + 3
    assert (p.billed_tokens_before_per_call, p.billed_tokens_after_per_call) == (568 + 29, 23 + 29)
    assert guide(table, output_tokens=100).output_tokens_per_call == 100


def test_prompt_after_defaults_to_the_files_most_common_system_prompt(table: Any) -> None:
    p = guide(table, prompt_after=None)
    assert p.prompt_tokens_after == 7 and p.tokens_saved_per_call == 546
    assert "你是智说新语生成器" in p.prompt_after_source and "178 of 178 records" in p.prompt_after_source


def test_most_common_prompt_ties_and_the_reread_fallback(tmp_path: Path) -> None:
    def rec(system: str | None) -> str:
        msgs = [{"role": "system", "content": system}] if system is not None else []
        return json.dumps({"messages": [*msgs, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})

    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(rec(s) for s in ["A", "B", None, "B", "A", "B", "C"]) + "\n", encoding="utf-8")
    tab = ftkit.table(path, keys=True)
    request = PayoffRequest(prompt_before="a long prompt, much longer than the short one", prompt_after=None, today=TODAY)
    p = estimate(tab, payoff=request).payoff
    assert p is not None and "'B' (on 3 of 7 records)" in p.prompt_after_source
    tab.system_prompts.clear()  # as if only a forked child had seen it: read from the file again
    assert estimate(tab, payoff=request).payoff.prompt_after_source == p.prompt_after_source  # type: ignore[union-attr]
    path.write_text("\n".join(rec(s) for s in ["A", "B"]) + "\n", encoding="utf-8")
    tie = estimate(ftkit.table(path, keys=True), payoff=request).payoff
    assert tie is not None and "'A' (on 1 of 2 records)" in tie.prompt_after_source  # a tie goes to the first seen
    tab = ftkit.table(path, keys=True)
    tab.system_prompts.clear()
    path.write_text("", encoding="utf-8")  # the file changed since the scan
    with pytest.raises(DataError, match="--prompt-after"):
        estimate(tab, payoff=request)


def test_no_system_prompt_means_the_templates_default(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}) + "\n")
    p = estimate(ftkit.table(path, keys=True), payoff=PayoffRequest(prompt_before="Be brief.", prompt_after=None)).payoff
    assert p is not None and p.prompt_tokens_after == 0 and p.prompt_after_source.startswith("none")
    tok, template = get_tokenizer(M7), ChatTemplate.from_spec(M7)
    assert p.prompt_tokens_after_templated == tok.count(template.head([])) > 0  # Qwen's "You are Qwen, ..." is added
    assert any("default system prompt" in a for a in p.assumptions)


# --- prices -----------------------------------------------------------------------------------------


def test_inference_prices_are_dated_data_and_none_is_invented() -> None:
    inf = load_prices().inference
    for entry in [*inf.base, *inf.lora]:
        assert entry.as_of and entry.source and entry.currency == "CNY" and entry.unit == "per million tokens"
    assert {p.model: p.price for p in inf.base if not p.variant} == {M7: 0, M14: Decimal("0.70"), M32: Decimal("1.26"),
                                                                     M72: Decimal("4.13")}  # fmt: skip
    assert {p.model: p.price for p in inf.lora} == {M7: Decimal("0.53"), M72: Decimal("6.2")}
    assert [(v.variant, v.price) for v in inf.variants(M7)] == [("Pro/Qwen/Qwen2.5-7B-Instruct", Decimal("0.35"))]
    assert inf.lora_price(M14) is None and inf.lora_price(M32) is None


def test_7b_the_tuned_model_costs_more_per_call(table: Any) -> None:
    p = guide(table, price="4")
    assert (p.price_before_per_million, p.price_after_per_million, p.currency, p.as_of) == (0, Decimal("0.53"), "CNY", "2025")
    assert p.cost_before == 0 and p.cost_after == Decimal("27.56")  # 10^6 calls x 52 tokens x 0.53 / 10^6
    assert p.saving == Decimal("-27.56") and p.break_even_calls is None and p.break_even_note.startswith("never")
    assert p.prices_age == "1 year 11 months" and p.today == "2026-12-01"
    assert any("Pro/Qwen/Qwen2.5-7B-Instruct" in a and "0.35" in a for a in p.assumptions)
    pro = guide(table, price="4", inference_price="0.35,")  # the Pro variant before, the LoRA price kept
    assert pro.price_after_per_million == Decimal("0.53") and pro.saving_per_call == Decimal("0.00018139")  # 597x0.35 - 52x0.53
    # 25,386 billed training tokens x 4 = 0.101544 CNY; 559 calls save 0.10139701, 560 save 0.1015784
    assert pro.training_cost == Decimal("0.101544") and pro.break_even_calls == 560
    assert "after 560 calls" in pro.break_even_note and "559 calls would not" in pro.break_even_note


def test_72b_pays_off_and_14b_32b_are_not_known(table: Any) -> None:
    p = guide(table, model=M72, price="4")
    assert (p.price_before_per_million, p.price_after_per_million) == (Decimal("4.13"), Decimal("6.2"))
    assert p.saving_per_call == Decimal(597) * Decimal("4.13") / 10**6 - Decimal(52) * Decimal("6.2") / 10**6 > 0
    assert p.break_even_calls is not None and p.break_even_calls * p.saving_per_call >= p.training_cost  # type: ignore[operator]
    for model in (M14, M32):
        q = guide(table, model=model, price="4")
        assert q.price_before_per_million is not None and q.price_after_per_million is None
        assert (q.cost_after, q.saving, q.saving_per_call, q.break_even_calls) == (None, None, None, None)
        assert "not known" in q.break_even_note and "--inference-price" in q.break_even_note
        assert "no published fine-tuned (LoRA) inference price" in q.price_after_source
        assert guide(table, model=model, price="4", inference_price=",1").break_even_calls is not None


def test_no_training_price_and_other_currencies(table: Any) -> None:
    p = guide(table, inference_price="0.35,0.53")
    assert p.as_of is None and p.prices_age is None and p.training_cost is None
    assert p.break_even_calls is None and "pass --price" in p.break_even_note
    request = payoff_request(PROMPTS["original_prompt"], "x", today=TODAY)
    usd = estimate(table, model=M72, price="1", currency="USD", payoff=request).payoff
    assert usd is not None and usd.currency == "CNY" and usd.saving_per_call > 0  # type: ignore[operator]
    assert usd.break_even_calls is None and usd.training_cost is None and "in USD" in usd.break_even_note
    given = estimate(table, price="1", currency="USD", payoff=payoff_request("long prompt", "x", inference_price="1,0.5")).payoff
    assert given is not None and given.currency == "USD" and given.break_even_calls is not None
    with pytest.raises(ParameterError, match="different currencies"):
        estimate(table, price="1", currency="USD", payoff=payoff_request("long prompt", "x", inference_price="1,"))


@pytest.mark.parametrize(("as_of", "today", "age"), [
    ("2025", date(2026, 12, 1), "1 year 11 months"), ("2025-03", date(2025, 3, 31), "less than a month"),
    ("2024-02-29", date(2025, 2, 28), "11 months"), ("2024-02-29", date(2025, 3, 1), "1 year"),
    ("2027", date(2026, 1, 1), "less than a month"), ("early 2025", date(2026, 1, 1), None),
])  # fmt: skip
def test_price_age(as_of: str, today: date, age: str | None) -> None:
    assert price_age(as_of, today) == age


# --- exact money and a minimal break-even -----------------------------------------------------------

money = st.decimals(min_value=0, max_value=100, places=6, allow_nan=False, allow_infinity=False)
words = st.sampled_from(["", "你是智说新语生成器。", "Answer in one line.", PROMPTS["original_prompt"], "x " * 300, "  leading space"])


def token_frame(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame({"line": list(range(1, len(rows) + 1)), "total": [u + a + 15 for u, a, _ in rows],
                         "user": [u for u, _, _ in rows], "assistant": [a for _, a, _ in rows], "turns": [t for _, _, t in rows],
                         "key": [(i * 0x9E3779B97F4A7C15) % (1 << 63) for i in range(len(rows))]})  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.integers(1, 4)), min_size=1, max_size=30),
       before=words, after=words, calls=st.integers(0, 10**12), out=st.none() | st.integers(0, 10**5),
       p_before=money, p_after=money, train=st.none() | money)  # fmt: skip
@example(rows=[(1, 1, 1)], before="", after="", calls=0, out=None, p_before=Decimal(0), p_after=Decimal(0), train=Decimal(0))
def test_saving_is_exact_and_break_even_is_minimal(rows: list[tuple[int, int, int]], before: str, after: str, calls: int,
                                                   out: int | None, p_before: Decimal, p_after: Decimal,
                                                   train: Decimal | None) -> None:  # fmt: skip
    request = PayoffRequest(before, after, calls, out, p_before, p_after, TODAY)
    est = estimate(token_frame(rows), price=train, val_ratio=0, payoff=request)
    p = est.payoff
    assert p is not None and p.training_cost == est.cost
    assert p.cost_before is not None and p.cost_after is not None and p.saving is not None and p.saving_per_call is not None
    assert Fraction(p.saving) == Fraction(p.cost_before) - Fraction(p.cost_after)
    assert Fraction(p.cost_before) == Fraction(calls * p.billed_tokens_before_per_call) * Fraction(p_before) / 10**6
    assert Fraction(p.saving) == calls * Fraction(p.saving_per_call)
    assert p.tokens_saved_per_call == p.prompt_tokens_before - p.prompt_tokens_after
    if p.saving_per_call <= 0 or train is None:
        assert p.break_even_calls is None
    else:
        n = p.break_even_calls
        assert n is not None and est.cost is not None
        assert n * Fraction(p.saving_per_call) >= Fraction(est.cost)
        assert n == 0 or (n - 1) * Fraction(p.saving_per_call) < Fraction(est.cost)


@settings(max_examples=300, deadline=None)
@given(cost=money, saving=st.decimals(min_value=-1, max_value=1, places=9, allow_nan=False, allow_infinity=False))
@example(cost=Decimal("0.101544"), saving=Decimal("0.00018139"))
@example(cost=Decimal(1), saving=Decimal("0.5"))  # exactly 2 calls: N x saving == cost covers it
def test_break_even_is_the_smallest_n_that_covers(cost: Decimal, saving: Decimal) -> None:
    n = break_even(cost, saving)
    if saving <= 0:
        assert n is None
        return
    assert n is not None and n * saving >= cost and (n == 0 or (n - 1) * saving < cost)


# --- options ----------------------------------------------------------------------------------------


def test_prompt_arguments(tmp_path: Path) -> None:
    assert prompt_arg("plain text") == "plain text" and prompt_arg("@@at the start") == "@at the start"
    assert prompt_arg("@file.txt") == Path("file.txt")
    crlf = tmp_path / "p.txt"
    crlf.write_bytes("你是智说新语生成器。\r\n\n".encode())
    request = payoff_request(crlf, crlf)
    assert request is not None and request.prompt_before == "你是智说新语生成器。\r\n"  # one final line end is the file's
    crlf.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="UTF-8"):
        payoff_request(crlf)
    with pytest.raises(InputError, match="no such file"):
        payoff_request(tmp_path / "none.txt")
    assert payoff_request() is None


def test_inference_price_option() -> None:
    assert parse_inference_price("0.35,0.53") == (Decimal("0.35"), Decimal("0.53"))
    assert parse_inference_price(" ,6.2") == (None, Decimal("6.2"))
    assert parse_inference_price(("1", 2)) == (Decimal(1), Decimal(2))
    for bad in ("1", "1,2,3", "a,1", "-1,1", "1,inf"):
        with pytest.raises(ParameterError):
            parse_inference_price(bad)


@pytest.mark.parametrize("args", [["--calls", "5"], ["--prompt-after", "x"], ["--inference-price", "1,2"],
                                  ["--prompt-before", "x", "--inference-price", "1"], ["--prompt-before", "@/no/such/file"],
                                  ["--prompt-before", "x", "--calls", "-1"], ["--prompt-before", "x", "--output-tokens", "x"]])  # fmt: skip
def test_cli_usage_errors(args: list[str]) -> None:
    out = cost_cli(str(CORPUS), *args)
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1


def test_payoff_is_null_unless_asked() -> None:
    data = json.loads(cost_cli(str(CORPUS), "--format", "json").output)
    assert "payoff" in data and data["payoff"] is None
    assert "inference payoff" not in cost_cli(str(CORPUS)).output


def test_library_verbs(prompt_files: tuple[Path, Path], tmp_path: Path) -> None:
    before, after = prompt_files
    est = ftkit.cost(CORPUS, prompt_before=before, prompt_after=after, calls=10, today=TODAY)
    assert est.payoff is not None and (est.payoff.tokens_saved_per_call, est.payoff.calls) == (545, 10)
    rep = ftkit.report(CORPUS, output=tmp_path / "r.json", prompt_before=before, inference_price=("0.35", "0.53"), price="4")
    assert rep.cost is not None and rep.cost.payoff is not None and rep.cost.payoff.break_even_calls == 559
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(data["cost"]["payoff"]) >= ISSUE_KEYS and data["cost"]["payoff"]["prompt_tokens_before"] == 553
    with pytest.raises(ParameterError, match="--prompt-before"):
        ftkit.report(CORPUS, calls=3)


# --- rendering --------------------------------------------------------------------------------------


def test_text_says_how_old_the_prices_are_and_escapes_data(table: Any, tmp_path: Path) -> None:
    text = render_cost_text(estimate(table, payoff=payoff_request("long " * 50, today=TODAY)), ["x"])
    assert "as of 2025, 1 year 11 months old" in text and "1 year 11 months old on 2026-12-01" in text
    evil = tmp_path / "evil.jsonl"
    msgs = [{"role": "system", "content": "\x1b[2Jboo\n::error::x"}, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    evil.write_text(json.dumps({"messages": msgs}) + "\n", encoding="utf-8")
    out = cost_cli(str(evil), "--prompt-before", "a much longer prompt than that")
    assert out.exit_code == 0, out.output
    assert "\x1b" not in out.output and "\n::error" not in out.output


def test_report_has_the_section_only_when_asked(prompt_files: tuple[Path, Path], tmp_path: Path) -> None:
    before, after = prompt_files
    args = ["report", str(CORPUS), "--prompt-before", f"@{before}", "--prompt-after", f"@{after}", "--price", "4"]
    md = CliRunner().invoke(cli, [*args, "--format", "md"])
    assert md.exit_code == 0, md.output
    section = md.stdout[md.stdout.index("## Payoff at inference"):md.stdout.index("## What the token numbers assume")]
    assert re.search(r"^\| prompt tokens \| 553 \| 8 \|", section, re.M)
    assert "prompt tokens saved per call: 545 (553 -> 8)" in section and "break-even: never" in section
    html = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r.html")])
    assert html.exit_code == 0, html.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section class="block" id="payoff"><h2>Payoff at inference</h2>' in page and '<a href="#payoff">' in page
    assert "<td>prompt tokens</td><td class=\"num\">553</td><td class=\"num\">8</td>" in page
    plain = CliRunner().invoke(cli, ["report", str(CORPUS), "-o", str(tmp_path / "plain.html")])
    assert plain.exit_code == 0 and 'id="payoff"' not in (tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "## Payoff" not in CliRunner().invoke(cli, ["report", str(CORPUS), "--format", "md"]).stdout


def test_the_payoff_counts_its_prompts_with_the_engine_ready_soonest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A few prompts to count: the payoff asks for the small engine (the same tokens), not for a
    tiktoken build of its own beside the table's."""
    from ftkit.tokens import tokenizer

    path = tmp_path / "plain.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": "ok"}]}) + "\n")  # fmt: skip
    table = ftkit.table(path, keys=True)
    expected = get_tokenizer(M7).count("Be brief, kind and exact in every reply.")
    asked: list[str] = []
    real = tokenizer._tokenizer
    monkeypatch.setattr(tokenizer, "_tokenizer", lambda spec, engine: asked.append(engine) or real(spec, engine))
    p = estimate(table, payoff=PayoffRequest(prompt_before="Be brief, kind and exact in every reply.", prompt_after=None)).payoff
    assert p is not None and p.prompt_tokens_before == expected
    assert asked and set(asked) == {"small"}
