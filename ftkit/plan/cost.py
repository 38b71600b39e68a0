"""``ftkit cost``: what a fine-tuning job will bill, from the per-record token table.

Billed training tokens = epochs x sum over TRAINING records of min(templated tokens, Max Tokens).
SiliconFlow does not document how it counts, so every estimate states this as an assumption.
Money arithmetic is exact: prices are ``Decimal`` and ``cost = billed_tokens x price / 10**6`` is
computed in a context that traps any rounding (``ftkit.plan.money``).
The prices and constants come from ``rules/prices.toml``; this module holds no figure of its own.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from ftkit.errors import ParameterError
from ftkit.plan.choose import parse_ratio, ratio_text, validation_mask
from ftkit.plan.money import Money, exact_cost, parse_price
from ftkit.plan.payoff import Payoff, compute_payoff
from ftkit.plan.payoff_inputs import PayoffRequest
from ftkit.policy.prices import PriceTable, load_prices
from ftkit.policy.profile import Profile, as_profile
from ftkit.tokens.table import column_sum

if TYPE_CHECKING:
    import polars as pl

    from ftkit.tokens.table import RecordTable

#: Self-hosted figures are estimates of estimates: kept to this many decimal places.
ESTIMATE_PLACES = Decimal("0.000001")


# --- the estimate ---------------------------------------------------------------------------------


class CompareRow(BaseModel):
    provider: str
    model: str
    price_per_million: Money
    currency: str
    as_of: str
    cost: Money
    source: str
    note: str = ""


class SelfHostedRow(BaseModel):
    gpu: str
    params_b: Money
    peak_tflops: Money
    utilisation: Money
    gpu_hours: Money = Field(description=f"rounded to {ESTIMATE_PLACES} h")
    price_per_gpu_hour: Money
    currency: str
    as_of: str
    cost: Money
    source: str


class CostEstimate(BaseModel):
    """What ``ftkit.cost.estimate`` returns; ``ftkit cost --format json`` prints it."""

    version: str = "1"
    model: str
    epochs: int
    max_tokens: int
    val_ratio: float
    train_records: int
    validation_records: int
    train_tokens: int = Field(description="one epoch: sum of min(templated tokens, max_tokens) over training records")
    truncated_records: int = Field(description="training records longer than max_tokens")
    billed_tokens: int = Field(description="epochs x train_tokens")
    validation_tokens: int = Field(description="one pass over validation records, truncated at max_tokens")
    price_per_million: Money | None
    currency: str
    cost: Money | None = Field(description="billed_tokens x price_per_million / 10**6, exact; null without a price")
    price_note: str
    compare: list[CompareRow] | None = None
    self_hosted: list[SelfHostedRow] = Field(default_factory=list)
    assumptions: list[str]
    payoff: Payoff | None = Field(None, description="inference payoff of the shorter prompt; null unless asked (--prompt-before)")


def _frame_and_context(source: RecordTable | pl.DataFrame) -> tuple[pl.DataFrame, str | None, list[str]]:
    from ftkit.tokens.table import RecordTable

    if isinstance(source, RecordTable):
        lines = source.assumptions.lines(max_tokens=False)  # the estimate states its own Max Tokens
        rejected = source.rejected_count
        if rejected:
            lines.insert(0, f"{rejected:,} records with errors are left out (as `ftkit split --drop-invalid` would); run `ftkit validate`")
        return _usable(source), source.assumptions.model, lines
    return source, None, []


def _usable(table: RecordTable) -> pl.DataFrame:
    """The table's records minus any line with an error-level finding (as ``ftkit split`` drops them)."""
    import polars as pl

    scan = table.scan
    errors = {(path, f.line) for path, f in scan.violations() if f.line is not None and scan.severity_of(f.code) == "error"}
    frame = table.frame
    if not errors or not frame.height:
        return frame
    index = {path: i for i, path in enumerate(table.paths)}
    bad = pl.DataFrame(
        {"file": [index.get(p, -1) for p, _ in errors], "line": [line for _, line in errors]},
        schema={"file": frame.schema["file"], "line": frame.schema["line"]},
    )
    kept = frame.join(bad, on=["file", "line"], how="anti")
    # the same frame when nothing went (the errors were on lines the table never had): the
    # report's recommendation and cost then share one validation split (choose.validation_mask)
    return frame if kept.height == frame.height else kept


def estimate(
    source: RecordTable | pl.DataFrame,
    *,
    profile: str | Profile = "siliconflow",
    model: str | None = None,
    epochs: int | None = None,
    max_tokens: int | None = None,
    price: Decimal | str | int | float | None = None,
    currency: str | None = None,
    val_ratio: float | str | Decimal | Fraction | None = None,
    compare: bool = False,
    prices: PriceTable | None = None,
    payoff: PayoffRequest | None = None,
) -> CostEstimate:
    """Estimate the billed tokens (and cost, given a price) of training on ``source``.

    ``source`` is a ``RecordTable`` built with ``keys=True`` or a frame with ``total`` and (when
    ``val_ratio`` > 0) ``key`` columns. Defaults: the profile's suggested epochs, its Max Tokens
    ceiling and its validation ratio. ``payoff`` (``ftkit.plan.payoff.payoff_request``) adds
    what the shorter prompt saves at inference and the break-even against this cost. Never
    prints; raises ``ParameterError`` on unusable inputs.
    """
    import polars as pl

    from ftkit.plan.params import check_parameters

    prof = as_profile(profile)
    table = prices or load_prices()
    frame, table_model, lines = _frame_and_context(source)
    model_name = model or table_model or prof.tokens.default_model
    epochs = int(prof.parameters["epochs"].suggested) if epochs is None else epochs
    max_tokens = prof.tokens.max_tokens if max_tokens is None else max_tokens
    checked = check_parameters({"epochs": epochs, "max_tokens": max_tokens}, prof)
    if not checked.ok:
        raise ParameterError("; ".join(c.message for c in checked.checks if not c.ok))
    ratio = parse_ratio(prof.split.get("validation_ratio", 0) if val_ratio is None else val_ratio)

    n = frame.height
    mask = validation_mask(frame, ratio)
    clipped = frame["total"].clip(upper_bound=max_tokens) if n else pl.Series("total", [], dtype=pl.Int64)
    train_clipped, val_clipped = clipped.filter(~mask), clipped.filter(mask)
    train_tokens = column_sum(train_clipped)
    validation_tokens = column_sum(val_clipped)
    truncated = int((frame["total"].filter(~mask) > max_tokens).sum()) if n else 0
    billed = epochs * train_tokens

    price_value = None if price is None else parse_price(price)
    cur = currency or table.platform.currency
    cost = None if price_value is None else exact_cost(billed, price_value)
    if price_value is None:
        price_note = f"{table.platform.provider} does not publish its training price: {table.platform.where}; pass it with --price"
    else:
        price_note = f"given: {format(price_value, 'f')} {cur} {table.platform.unit}"

    size = table.models.get(model_name)
    params_b = size.params_b if size else None
    rows = None
    if compare:
        rows = [
            CompareRow(
                provider=e.provider,
                model=e.model,
                price_per_million=e.price,
                currency=e.currency,
                as_of=e.as_of,
                cost=exact_cost(billed, e.price),
                source=e.source,
                note=e.note,
            )
            for e in table.training
            if e.applies_to(params_b)
        ]
    hosted = _self_hosted(billed, params_b, table) if params_b is not None else []

    n_train, n_val = int((~mask).sum()) if n else 0, int(mask.sum()) if n else 0
    split_line = (
        f"validation split simulated as on the platform with `ftkit split`'s assignment (file order, keyed hash, kept within one record of the ratio): "
        f"ratio {ratio_text(ratio)} sends {n_val:,} of {n:,} records to validation"
        if ratio
        else "val-ratio 0: the whole file is training data"
    )
    assumptions = [
        "billed training tokens = epochs x sum over training records of min(templated tokens, Max Tokens): "
        "SiliconFlow does not document how it counts (roles, template tokens, truncation); this is ftkit's assumption",
        f"Max Tokens {max_tokens}: longer records are assumed truncated to it ({truncated} training records are)",
        split_line,
        "validation tokens: one pass over the validation records, truncated at Max Tokens; whether they are billed is not documented",
        *lines,
    ]
    if rows is not None:
        assumptions.append(
            "compare: the same billed tokens at each provider's published price; providers count tokens "
            "with their own tokenizers and rules (some also bill validation tokens)"
        )
    if hosted and size is not None:
        sh = table.self_hosted
        assumptions += [
            f"self-hosted: GPU-hours = {sh.flops_per_param_token} x {params_b}B parameters ({size.source}) x billed tokens "
            f"/ ({sh.utilisation} x GPU peak FLOP/s) / 3600, times an on-demand GPU-hour price",
            f"{sh.flops_per_param_token} FLOPs per parameter per token: {sh.flops_source}",
            f"utilisation {sh.utilisation}: {sh.utilisation_source}",
        ]
    elif params_b is None:
        assumptions.append(f"self-hosted: no parameter count for {model_name} in rules/prices.toml")
    paid = None
    if payoff is not None:
        paid = compute_payoff(source, frame, payoff, model=model_name, prices=table, training_cost=cost,
                              training_currency=cur, max_line_bytes=prof.data.max_line_bytes)  # fmt: skip
    return CostEstimate(
        model=model_name,
        epochs=epochs,
        max_tokens=max_tokens,
        val_ratio=float(ratio),
        train_records=n_train,
        validation_records=n_val,
        train_tokens=train_tokens,
        truncated_records=truncated,
        billed_tokens=billed,
        validation_tokens=validation_tokens,
        price_per_million=price_value,
        currency=cur,
        cost=cost,
        price_note=price_note,
        compare=rows,
        self_hosted=hosted,
        assumptions=assumptions,
        payoff=paid,
    )


def _self_hosted(billed: int, params_b: Decimal, table: PriceTable) -> list[SelfHostedRow]:
    sh = table.self_hosted
    flops = Fraction(sh.flops_per_param_token) * Fraction(params_b) * 10**9 * billed
    rows = []
    for gpu in table.gpus:
        seconds = flops / (Fraction(sh.utilisation) * Fraction(gpu.peak_tflops) * 10**12)
        hours = seconds / 3600
        cost = hours * Fraction(gpu.price_per_hour)
        rows.append(
            SelfHostedRow(
                gpu=gpu.name,
                params_b=params_b,
                peak_tflops=gpu.peak_tflops,
                utilisation=sh.utilisation,
                gpu_hours=_round(hours),
                price_per_gpu_hour=gpu.price_per_hour,
                currency=gpu.currency,
                as_of=gpu.as_of,
                cost=_round(cost),
                source=f"{gpu.peak_source}; price: {gpu.price_source}",
            )
        )
    return rows


def _round(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)  # default context: 28 digits
    return exact.quantize(ESTIMATE_PLACES, rounding=decimal.ROUND_HALF_UP)
