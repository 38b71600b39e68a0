"""ftkit.plan.cost and `ftkit cost`: exact money, monotone cost, the same split as `ftkit split`, the
price table's provenance, golden outputs and CLI exit codes."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit import ParameterError as CostError
from ftkit.cli import cli
from ftkit.plan.choose import choose_validation, validation_count, validation_mask
from ftkit.plan.cost import estimate, exact_cost
from ftkit.policy.prices import load_prices
from support import DATA as SHARED_DATA
from support import GOLDEN, GOLDEN_INPUTS, assert_golden

DATA, FILES = SHARED_DATA, GOLDEN_INPUTS
JSON_KEYS = {"epochs", "max_tokens", "train_records", "train_tokens", "billed_tokens", "validation_tokens",
             "price_per_million", "currency", "cost", "assumptions"}

totals = st.lists(st.integers(0, 20_000), min_size=1, max_size=300)
prices = st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False, allow_infinity=False)
ratios = st.sampled_from(["0", "0.05", "0.1", "0.2", "0.5"])


def frame_of(values: list[int]) -> pl.DataFrame:
    n = len(values)
    return pl.DataFrame({"line": list(range(1, n + 1)), "total": values,
                         "key": [(i * 0x9E3779B97F4A7C15) % (1 << 63) for i in range(n)]},
                        schema={"line": pl.Int64, "total": pl.Int64, "key": pl.Int64})


# --- properties -----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(values=totals, price=prices, epochs=st.integers(1, 10), max_tokens=st.integers(0, 4096), ratio=ratios)
@example(values=[10**9] * 3, price=Decimal("9999.999999"), epochs=10, max_tokens=4096, ratio="0")
def test_cost_is_billed_tokens_times_price_exactly(values: list[int], price: Decimal, epochs: int, max_tokens: int,
                                                   ratio: str) -> None:
    est = estimate(frame_of(values), epochs=epochs, max_tokens=max_tokens, price=price, val_ratio=ratio)
    assert est.cost is not None and Fraction(est.cost) == Fraction(est.billed_tokens) * Fraction(price) / 10**6
    assert est.billed_tokens == epochs * est.train_tokens
    assert est.train_records + est.validation_records == len(values)
    assert est.train_tokens + est.validation_tokens == sum(min(v, max_tokens) for v in values)


@settings(max_examples=150, deadline=None)
@given(values=totals, extra=st.data(), price=prices, epochs=st.integers(1, 9), max_tokens=st.integers(0, 4095), ratio=ratios)
def test_cost_never_falls_when_tokens_or_epochs_rise(values: list[int], extra: st.DataObject, price: Decimal, epochs: int,
                                                     max_tokens: int, ratio: str) -> None:
    base = estimate(frame_of(values), epochs=epochs, max_tokens=max_tokens, price=price, val_ratio=ratio)
    more = [v + extra.draw(st.integers(0, 5_000)) for v in values]  # same records (same keys), more tokens each
    assert estimate(frame_of(more), epochs=epochs, max_tokens=max_tokens, price=price, val_ratio=ratio).cost >= base.cost
    assert estimate(frame_of(values), epochs=epochs + 1, max_tokens=max_tokens, price=price, val_ratio=ratio).cost >= base.cost
    assert estimate(frame_of(values), epochs=epochs, max_tokens=max_tokens + 1, price=price, val_ratio=ratio).cost >= base.cost
    higher = price + Decimal("0.000001")
    assert estimate(frame_of(values), epochs=epochs, max_tokens=max_tokens, price=higher, val_ratio=ratio).cost >= base.cost


def test_exact_cost_never_rounds() -> None:
    assert exact_cost(3, Decimal("0.000001")) == Decimal("3E-12")
    assert format(exact_cost(25_299, Decimal("4.5")), "f") == "0.1138455"
    assert exact_cost(0, Decimal("3.00")) == 0


# --- the split ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "ratio", "count"), [(0, "0.1", 0), (1, "0.1", 0), (2, "0.1", 1), (10, "0.1", 1),
                                                   (15, "0.1", 2), (178, "0.1", 18), (100, "0", 0), (10, "0.99", 9)])
def test_validation_count(n: int, ratio: str, count: int) -> None:
    assert validation_count(n, ratio) == count


def test_validation_mask_is_split_and_deterministic() -> None:
    frame = frame_of(list(range(50)))
    mask = validation_mask(frame, 0.1)
    assert int(mask.sum()) == 5 and mask.equals(validation_mask(frame, 0.1))
    assert mask.equals(choose_validation(frame, Fraction(1, 10)))  # the split's own assignment
    assert mask.head(30).equals(validation_mask(frame.head(30), 0.1))  # decided in file order
    with pytest.raises(CostError, match="key column"):
        validation_mask(frame.drop("key"), 0.1)
    for bad in ("1", "-0.1", "ten"):
        with pytest.raises(CostError):
            validation_count(10, bad)


@pytest.mark.parametrize("name", sorted(FILES))
def test_same_assignment_as_ftkit_split(name: str, tmp_path: Path) -> None:
    result = ftkit.split(FILES[name], tmp_path)
    est = estimate(ftkit.table(FILES[name], keys=True))
    assert (est.train_records, est.validation_records) == (result.train.records, result.validation.records)
    assert (est.train_tokens, est.validation_tokens) == (result.train.tokens, result.validation.tokens)


# --- the price table ------------------------------------------------------------------------------


def test_price_table_provenance() -> None:
    table = load_prices()
    assert table.platform.provider == "SiliconFlow" and "Fine-tuning Training Price" in table.platform.where
    assert all(e.provider != "SiliconFlow" for e in table.training)  # no invented SiliconFlow price
    for e in table.training:
        assert e.as_of and e.source and e.currency and e.unit == "per million tokens" and e.price > 0
    for gpu in table.gpus:
        assert gpu.as_of and gpu.price_source and gpu.peak_source and gpu.peak_tflops > 0
    assert set(table.models) >= {"Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-72B-Instruct"}


def test_compare_rows_follow_the_model_size() -> None:
    small = estimate(frame_of([1000] * 10), compare=True, val_ratio=0, model="Qwen/Qwen2.5-7B-Instruct")
    large = estimate(frame_of([1000] * 10), compare=True, val_ratio=0, model="Qwen/Qwen2.5-72B-Instruct")
    assert "base models up to 16B (LoRA SFT)" in [r.model for r in small.compare or []]
    assert "base models 16.1B-80B (LoRA SFT)" in [r.model for r in large.compare or []]
    for row in small.compare or []:
        assert Fraction(row.cost) == Fraction(small.billed_tokens) * Fraction(row.price_per_million) / 10**6
    assert large.self_hosted[0].gpu_hours > small.self_hosted[0].gpu_hours


def test_no_price_means_null_cost_and_where_to_look() -> None:
    est = estimate(frame_of([100, 200]), val_ratio=0)
    assert est.cost is None and est.price_per_million is None
    assert "Fine-tuning Training Price" in est.price_note
    assert json.loads(est.model_dump_json())["cost"] is None


def test_inputs_outside_the_profile_are_refused() -> None:
    with pytest.raises(CostError, match="allowed range 1-10"):
        estimate(frame_of([1]), epochs=11)
    with pytest.raises(CostError, match="allowed range 0-4,096"):
        estimate(frame_of([1]), max_tokens=5000)
    with pytest.raises(CostError, match="not a number"):
        estimate(frame_of([1]), price="cheap")
    with pytest.raises(CostError, match=">= 0"):
        estimate(frame_of([1]), price="-1")


# --- golden outputs -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_golden_costs(name: str) -> None:
    est = estimate(ftkit.table(FILES[name], keys=True), price="4.5", compare=True)
    got = json.loads(est.model_dump_json())
    assert_golden(GOLDEN / f"cost_{name}.json", got)


def test_golden_figures_by_hand() -> None:
    """shishuoxinyu: 9,346 templated tokens in 178 records; 17 records (884 tokens) to validation
    (0.1 x 178 = 17.8: the split sends floor or ceil of it)."""
    est = estimate(ftkit.table(FILES["shishuoxinyu"], keys=True), price="4.5")
    assert (est.train_records, est.train_tokens, est.validation_tokens) == (161, 8462, 884)
    assert est.train_tokens + est.validation_tokens == 9346
    assert est.billed_tokens == 3 * 8462 == 25386
    assert est.cost == Decimal("0.114237")  # 25,386 x 4.5 / 10^6
    h100 = est.self_hosted[0]  # 6 x 7.61e9 x 25,386 / (0.4 x 989e12) / 3600 = 0.000814 h, x 3.99 = 0.003247
    assert (h100.gpu_hours, h100.cost) == (Decimal("0.000814"), Decimal("0.003247"))
    whole = estimate(ftkit.table(FILES["shishuoxinyu"], keys=True), val_ratio=0)
    assert (whole.train_records, whole.train_tokens, whole.validation_tokens) == (178, 9346, 0)


# --- the command line -----------------------------------------------------------------------------


def test_cli_cost() -> None:
    runner = CliRunner()
    path = str(FILES["small_coqa_10"])
    out = runner.invoke(cli, ["cost", path, "--format", "json", "--compare"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) >= JSON_KEYS and data["cost"] is None and data["compare"]
    priced = runner.invoke(cli, ["cost", path, "--price", "2", "--val-ratio", "0", "--epochs", "2", "--format", "json"])
    data = json.loads(priced.output)
    assert (data["train_records"], data["billed_tokens"], data["cost"]) == (10, 2 * 6937, "0.027748")
    text = runner.invoke(cli, ["cost", path])
    assert text.exit_code == 0 and "Fine-tuning Training Price" in text.output


@pytest.mark.parametrize("args", [["--epochs", "11"], ["--max-tokens", "9000"], ["--val-ratio", "1"],
                                  ["--val-ratio", "x"], ["--price", "abc"], ["--price", "-3"],
                                  ["--model", "Qwen/Qwen3-8B"]])
def test_cli_cost_usage_errors(args: list[str]) -> None:
    out = CliRunner().invoke(cli, ["cost", str(FILES["small_coqa_10"]), *args])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1


def test_cli_cost_missing_file_and_no_records(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["cost", str(tmp_path / "none.jsonl")]).exit_code == 2
    assert CliRunner().invoke(cli, ["cost"]).exit_code == 2
    empty = tmp_path / "bad.jsonl"
    empty.write_text('{"messages": []}\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["cost", str(empty)])
    assert out.exit_code == 1 and "no valid record" in out.output
