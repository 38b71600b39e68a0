"""The inference payoff as rows and sentences, shared by the text, Markdown and HTML renderers.
Pure formatting of ``ftkit.plan.payoff.Payoff``: the strings are raw (each renderer escapes
them its own way: ``safe`` for text and Markdown, ``html.escape`` for HTML)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ftkit.plan.payoff import Payoff


class Row(NamedTuple):
    label: str
    before: str
    after: str
    note: str


def money(value: Decimal | None, currency: str) -> str:
    return f"{format(value, 'f')} {currency}" if value is not None else "not known"


def rows(p: Payoff) -> list[Row]:
    """One average call before and after fine-tuning, then N calls, with what each figure is."""
    n = f"{p.calls:,}"
    price = [money(v, p.currency) for v in (p.price_before_per_million, p.price_after_per_million)]
    return [
        Row("prompt tokens", f"{p.prompt_tokens_before:,}", f"{p.prompt_tokens_after:,}",
            "content tokens of the prompt text alone: the guide's count"),
        Row("system message, templated", f"{p.prompt_tokens_before_templated:,}", f"{p.prompt_tokens_after_templated:,}",
            "with the chat template's tokens"),
        Row("user message", f"{p.user_tokens_per_call:,}", f"{p.user_tokens_per_call:,}",
            f"content tokens: the file's mean {p.user_tokens_mean:g}, rounded"),
        Row("input tokens per call", f"{p.input_tokens_before_per_call:,}", f"{p.input_tokens_after_per_call:,}",
            "templated: system message, user message, reply header"),
        Row("output tokens per call", f"{p.output_tokens_per_call:,}", f"{p.output_tokens_per_call:,}", p.output_tokens_source),
        Row("billed tokens per call", f"{p.billed_tokens_before_per_call:,}", f"{p.billed_tokens_after_per_call:,}", "input + output"),
        Row("price per million tokens", price[0], price[1], f"as of {p.as_of}, {p.prices_age} old" if p.as_of else "given"),
        Row("cost per call", money(p.cost_before_per_call, p.currency), money(p.cost_after_per_call, p.currency), ""),
        Row(f"cost of {n} calls", money(p.cost_before, p.currency), money(p.cost_after, p.currency),
            "calls x billed tokens per call x price / 10^6, exact"),
    ]  # fmt: skip


def summary(p: Payoff) -> list[str]:
    """The answers: tokens saved, the saving, the break-even; then where the prompt and prices come from."""
    saving = money(p.saving, p.currency)
    sign = " (negative: the fine-tuned model costs more per call)" if p.saving is not None and p.saving < 0 else ""
    return [
        f"prompt tokens saved per call: {p.tokens_saved_per_call:,} ({p.prompt_tokens_before:,} -> {p.prompt_tokens_after:,}); "
        f"input tokens saved per call: {p.input_tokens_saved_per_call:,}",
        f"saving over {p.calls:,} calls: {saving}{sign}",
        f"break-even: {p.break_even_note}",
        f"prompt after: {p.prompt_after_source}",
        f"price before: {p.price_before_source}",
        f"price after: {p.price_after_source}",
    ]
