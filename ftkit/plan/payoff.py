"""The payoff of fine-tuning at inference: what a shorter prompt saves per call, and after how
many calls the saving covers the training bill, if it ever does.

A call is one request to the model: the system prompt, one user message, one reply. Its user
message and reply are the training file's average ones (total user and assistant content tokens
over all user/assistant pairs, rounded to whole tokens), or ``output_tokens`` for the reply. Billed
tokens per call = the templated input (system message, user message, the reply's header) plus the
reply and its end token, the way the model sees them. Money is exact (``exact_cost``):
``cost = calls x billed tokens per call x price / 10**6``, ``saving = cost_before - cost_after``
and ``break_even = ceil(training cost / saving per call)`` when that saving is positive. Prices
come from ``rules/prices.toml`` (with their date and source) or are given; none is invented.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from ftkit.errors import ParameterError
from ftkit.plan.money import EXACT, Money, exact_cost
from ftkit.plan.payoff_inputs import PayoffRequest, most_common_system_prompt
from ftkit.policy.prices import InferencePrice, PriceTable
from ftkit.tokens.table import column_sum

if TYPE_CHECKING:
    import polars as pl

    from ftkit.tokens.table import RecordTable
    from ftkit.tokens.template import ChatTemplate
    from ftkit.tokens.tokenizer import Tokenizer

#: Characters of a prompt quoted in the output.
PREVIEW_CHARS = 40


class Payoff(BaseModel):
    """``CostEstimate.payoff``: one average call before and after fine-tuning, N calls, break-even."""

    model: str
    prompt_tokens_before: int = Field(description="content tokens of the prompt before fine-tuning, alone (the guide's count)")
    prompt_tokens_after: int = Field(description="content tokens of the prompt after fine-tuning, alone")
    tokens_saved_per_call: int = Field(description="prompt_tokens_before - prompt_tokens_after")
    prompt_tokens_before_templated: int = Field(
        description="the system message with the chat template (the template's default one when the prompt is empty)"
    )
    prompt_tokens_after_templated: int
    prompt_after_source: str = Field(description="where the prompt after comes from")
    user_tokens_per_call: int = Field(description="content tokens of the user message of an average call")
    user_tokens_mean: float = Field(description="the file's mean user message, before rounding")
    output_tokens_per_call: int = Field(description="reply tokens billed per call: content plus end token, or output_tokens as given")
    output_tokens_source: str
    input_tokens_before_per_call: int = Field(description="templated: system message + user message + the reply's header")
    input_tokens_after_per_call: int
    input_tokens_saved_per_call: int
    billed_tokens_before_per_call: int = Field(description="input + output tokens of one call")
    billed_tokens_after_per_call: int
    calls: int
    price_before_per_million: Money | None = Field(description="base model, input = output price; null when not known")
    price_after_per_million: Money | None = Field(description="fine-tuned (LoRA) model; null when not known")
    price_before_source: str
    price_after_source: str
    currency: str
    as_of: str | None = Field(description="date of the oldest price taken from rules/prices.toml; null when both were given")
    prices_age: str | None = Field(description="how old as_of is on `today`, counted from the start of its period")
    today: str
    cost_before_per_call: Money | None
    cost_after_per_call: Money | None
    saving_per_call: Money | None
    cost_before: Money | None = Field(description="calls x billed_tokens_before_per_call x price_before / 10**6, exact")
    cost_after: Money | None
    saving: Money | None = Field(description="cost_before - cost_after, exact; negative when the tuned model costs more")
    training_cost: Money | None = Field(description="the estimate's cost (needs --price)")
    break_even_calls: int | None = Field(description="smallest N with N x saving_per_call >= training_cost; null when there is none")
    break_even_note: str = Field(description="the break-even in one sentence, or why there is none")
    assumptions: list[str]


# --- arithmetic -----------------------------------------------------------------------------------


def break_even(training_cost: Decimal, saving_per_call: Decimal) -> int | None:
    """The smallest N >= 0 with N x saving_per_call >= training_cost; None when a call saves nothing."""
    if saving_per_call <= 0:
        return None
    return max(0, math.ceil(Fraction(training_cost) / Fraction(saving_per_call)))


def price_age(as_of: str, today: date) -> str | None:
    """How long before ``today`` the period ``as_of`` (YYYY, YYYY-MM or YYYY-MM-DD) began."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", as_of.strip())
    if not m:
        return None
    start = date(int(m[1]), int(m[2] or 1), int(m[3] or 1))
    months = max(0, (today.year - start.year) * 12 + today.month - start.month - (today.day < start.day))
    if months == 0:
        return "less than a month"
    years, rest = divmod(months, 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    parts += [f"{rest} month{'s' if rest != 1 else ''}"] if rest else []
    return " ".join(parts)


def _round(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))  # half up


def _money(value: Decimal) -> str:
    return format(value, "f")


# --- the payoff -----------------------------------------------------------------------------------


def compute_payoff(
    source: RecordTable | pl.DataFrame,
    frame: pl.DataFrame,
    request: PayoffRequest,
    *,
    model: str,
    prices: PriceTable,
    training_cost: Decimal | None,
    training_currency: str,
    max_line_bytes: int,
) -> Payoff:
    """The payoff of ``request`` on ``frame`` (the usable records of ``source``)."""
    from ftkit.plan.table import choose_engine
    from ftkit.tokens.table import RecordTable
    from ftkit.tokens.template import ChatTemplate
    from ftkit.tokens.tokenizer import get_tokenizer

    engine = choose_engine(0)  # a few prompts to count: the engine ready soonest (the same tokens)
    if isinstance(source, RecordTable):
        a = source.assumptions
        tok, template = get_tokenizer(a.tokenizer, engine), ChatTemplate.from_spec(a.template, default_system=a.default_system)
    else:
        tok, template = get_tokenizer(model, engine), ChatTemplate.from_spec(model)
    notes: list[str] = []
    missing = sorted({"user", "assistant", "turns"} - set(frame.columns))
    if missing:
        raise ParameterError(f"the payoff needs the token table's {', '.join(missing)} column(s) (ftkit.table gives them)")

    if request.prompt_after is not None:
        after_text, after_source = request.prompt_after, "given (--prompt-after)"
    else:
        found = most_common_system_prompt(source, frame, max_line_bytes)
        if found is None:
            after_text, after_source = "", "none: the training file has no system prompt, so the tuned model is called without one"
        else:
            after_text, on = found
            after_source = f"the training file's most common system prompt {_preview(after_text)!r} (on {on:,} of {frame.height:,} records)"

    turns = column_sum(frame["turns"]) if frame.height else 0
    user_mean = Fraction(column_sum(frame["user"]), turns) if turns else Fraction(0)
    reply_mean = Fraction(column_sum(frame["assistant"]), turns) if turns else Fraction(0)
    suffix = tok.count(template.trainable_suffix) if template.trainable_suffix else 0
    if request.output_tokens is not None:
        output, output_source = request.output_tokens, "given (--output-tokens)"
    else:
        output = _round(reply_mean) + suffix
        output_source = (
            f"the file's mean reply, {float(reply_mean):.2f} content tokens rounded, plus {suffix} end token{'s' if suffix != 1 else ''}"
        )
    user = _round(user_mean)
    if not turns:
        notes.append("no usable user/assistant pair in the file: the user message (and the reply, unless given) count 0 tokens")

    before_t, after_t = _system_tokens(request.prompt_before, tok, template), _system_tokens(after_text, tok, template)
    rest = user + template.overhead(tok, "user") + _reply_header(tok, template)
    in_before, in_after = before_t + rest, after_t + rest
    billed_before, billed_after = in_before + output, in_after + output
    content_before, content_after = tok.count(request.prompt_before), tok.count(after_text)

    base, lora = prices.inference.base_price(model), prices.inference.lora_price(model)
    p_before, src_before, from_before = _price(request.price_before, base, "base", model, training_currency)
    p_after, src_after, from_after = _price(request.price_after, lora, "fine-tuned (LoRA)", model, training_currency)
    taken = [p for p in (from_before, from_after) if p is not None]
    currency = taken[0].currency if taken else training_currency
    given = request.price_before is not None or request.price_after is not None  # given prices are in training_currency
    if len({p.currency for p in taken}) > 1 or (given and taken and currency != training_currency):
        raise ParameterError(
            f"inference prices in different currencies ({', '.join(sorted({p.currency for p in taken} | {training_currency}))}): "
            "give both with --inference-price BEFORE,AFTER in one currency"
        )
    today = request.today or date.today()
    as_of = min((p.as_of for p in taken), default=None)
    age = price_age(as_of, today) if as_of is not None else None

    n = request.calls
    per_before = exact_cost(billed_before, p_before) if p_before is not None else None
    per_after = exact_cost(billed_after, p_after) if p_after is not None else None
    cost_before = exact_cost(n * billed_before, p_before) if p_before is not None else None
    cost_after = exact_cost(n * billed_after, p_after) if p_after is not None else None
    saving_per_call = EXACT.subtract(per_before, per_after) if per_before is not None and per_after is not None else None
    saving = EXACT.subtract(cost_before, cost_after) if cost_before is not None and cost_after is not None else None
    same_currency = currency == training_currency
    cost = training_cost if same_currency else None
    found_n = break_even(cost, saving_per_call) if cost is not None and saving_per_call is not None else None
    note = _break_even_note(found_n, saving_per_call, per_before, per_after, training_cost, same_currency, currency,
                            training_currency, model, p_before is None, p_after is None)  # fmt: skip

    assumptions = [
        "prompt tokens are the content tokens of the prompt text alone, without the user message or chat-template tokens, "
        "as SiliconFlow's fine-tuning guide counts its 553 -> 8 "
        f"({content_before:,} before, {content_after:,} after, {content_before - content_after:,} saved per call)",
        "a call = the system prompt, one user message and one reply, without earlier turns as history; the user message is the "
        f"file's mean ({float(user_mean):.2f} content tokens, rounded to {user}) and is the same before and after, as is the reply",
        f"billed tokens per call = templated input (system message, user message with its {template.overhead(tok, 'user')} template "
        f"tokens, the {_reply_header(tok, template)}-token reply header) + output ({output_source})",
        f"{prices.inference.provider or 'the platform'} bills {prices.inference.billing}" if prices.inference.billing
        else "input and output tokens are billed at one price per million tokens",
        "the fine-tuned model is assumed to answer as well with the short prompt as the base model with the long one",
    ]  # fmt: skip
    if template.default_system and template.system_prompt and not (request.prompt_before and after_text):
        assumptions.append(
            f"an empty prompt means no system message: the chat template then adds its default system prompt ({tok.count(template.head([]))} tokens)"
        )
    if as_of is not None:
        assumptions.append(
            f"inference prices as of {as_of}: {age or 'age unknown'} old on {today.isoformat()} (counted from the start of {as_of}); "
            "check the current price page or pass --inference-price BEFORE,AFTER"
        )
    for v in prices.inference.variants(model):
        assumptions.append(f"{v.variant} ({v.note or 'a variant of the base model'}) costs {_money(v.price)} {v.currency} {v.unit} "
                           f"as of {v.as_of}: pass --inference-price {_money(v.price)}, to use it")  # fmt: skip
    assumptions += notes
    return Payoff(
        model=model,
        prompt_tokens_before=content_before,
        prompt_tokens_after=content_after,
        tokens_saved_per_call=content_before - content_after,
        prompt_tokens_before_templated=before_t,
        prompt_tokens_after_templated=after_t,
        prompt_after_source=after_source,
        user_tokens_per_call=user,
        user_tokens_mean=round(float(user_mean), 2),
        output_tokens_per_call=output,
        output_tokens_source=output_source,
        input_tokens_before_per_call=in_before,
        input_tokens_after_per_call=in_after,
        input_tokens_saved_per_call=in_before - in_after,
        billed_tokens_before_per_call=billed_before,
        billed_tokens_after_per_call=billed_after,
        calls=n,
        price_before_per_million=p_before,
        price_after_per_million=p_after,
        price_before_source=src_before,
        price_after_source=src_after,
        currency=currency,
        as_of=as_of,
        prices_age=age,
        today=today.isoformat(),
        cost_before_per_call=per_before,
        cost_after_per_call=per_after,
        saving_per_call=saving_per_call,
        cost_before=cost_before,
        cost_after=cost_after,
        saving=saving,
        training_cost=cost,  # null when it is in another currency (the note says so)
        break_even_calls=found_n,
        break_even_note=note,
        assumptions=assumptions,
    )


def _system_tokens(text: str, tok: Tokenizer, template: ChatTemplate) -> int:
    """The system message as the model sees it; no prompt: the template's default one, if any."""
    return tok.count(template.render("system", text)) if text else tok.count(template.head([]))


def _reply_header(tok: Tokenizer, template: ChatTemplate) -> int:
    """Tokens that open the reply (ChatML ``<|im_start|>assistant\\n``): part of the input."""
    return tok.count(template.message.partition("{content}")[0].replace("{role}", "assistant"))


def _price(given: Decimal | None, known: InferencePrice | None, kind: str, model: str,
           currency: str) -> tuple[Decimal | None, str, InferencePrice | None]:  # fmt: skip
    if given is not None:
        return given, f"given (--inference-price), {currency}", None
    if known is None:
        return None, f"not known: rules/prices.toml has no published {kind} inference price for {model}", None
    note = f"; {known.note}" if known.note else ""
    return known.price, f"{kind} model, as of {known.as_of}{note} ({known.source})", known


def _break_even_note(n: int | None, saving: Decimal | None, before: Decimal | None, after: Decimal | None,
                     training: Decimal | None, same_currency: bool, currency: str, training_currency: str, model: str,
                     no_before: bool, no_after: bool) -> str:  # fmt: skip
    if saving is None or before is None or after is None:
        which = " and ".join(w for w, missing in (("base", no_before), ("fine-tuned (LoRA)", no_after)) if missing)
        return f"no break-even: the {which} inference price of {model} is not known; pass --inference-price BEFORE,AFTER"
    per = f"a call costs {_money(before)} {currency} before fine-tuning and {_money(after)} {currency} after"
    if saving < 0:
        return f"never: {per}, so every call adds {_money(-saving)} {currency} to the training bill instead of paying it back"
    if saving == 0:
        return f"never: {per}, so no call pays anything back"
    if training is None:
        return f"{per} (a saving of {_money(saving)} {currency}); break-even = training cost / saving per call, but the training price is not published: pass --price"
    if not same_currency:
        return f"no break-even: the training cost is in {training_currency} and the inference prices are in {currency}"
    assert n is not None
    total = EXACT.multiply(Decimal(n), saving).normalize(EXACT)
    return (f"after {n:,} calls: {n:,} x {_money(saving)} = {_money(total)} {currency} saved covers the training cost of "
            f"{_money(training)} {currency}" + (f"; {n - 1:,} calls would not" if n else ""))  # fmt: skip


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
