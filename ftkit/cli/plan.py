"""``ftkit recommend`` and ``ftkit cost``: plan a fine-tuning job from the per-record table."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, cli, common_options, emit, jobs_option, quiet_option, settings_context
from ftkit.cli.progress import Display
from ftkit.errors import ParameterError
from ftkit.policy import goal_names
from ftkit.render.safe import model_json

if TYPE_CHECKING:
    from ftkit.plan.payoff_inputs import PayoffRequest


def _pairs(args: Sequence[str]) -> dict[str, str]:
    out = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--check expects KEY=VALUE arguments (e.g. learning_rate=0.0001), got {arg!r}")
        out[key.strip()] = value.strip()
    return out


def _params_file(path: str) -> dict[str, Any]:
    """Parameters from a JSON or TOML file: a flat table, or ``ftkit recommend --format json`` output."""
    import json
    import tomllib
    from pathlib import Path

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ParameterError(f"cannot read --params {path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        data = data["parameters"]
    if not isinstance(data, dict):
        raise ParameterError(f"--params {path}: expected a table of parameter = value, got {type(data).__name__}")
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in data.items()}


def payoff_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The inference-payoff options of ``cost`` and ``report``."""
    options = [
        click.option("--prompt-before", metavar="TEXT|@FILE",
                     help="System prompt the base model needs (@FILE: the text of a file): adds the inference payoff."),
        click.option("--prompt-after", metavar="TEXT|@FILE",
                     help="Prompt of the fine-tuned model [default: the training file's most common system prompt, if any]."),
        click.option("--calls", type=click.IntRange(min=0), help="Calls costed before and after [default: 1,000,000]."),
        click.option("--output-tokens", type=click.IntRange(min=0),
                     help="Reply tokens billed per call [default: the file's mean reply plus its end token]."),
        click.option("--inference-price", metavar="BEFORE,AFTER",
                     help="Inference prices per million tokens of the base and the fine-tuned model, in --currency "
                          "[default: rules/prices.toml; an empty side keeps it]."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def payoff_of(prompt_before: str | None, prompt_after: str | None, calls: int | None, output_tokens: int | None,
              inference_price: str | None) -> PayoffRequest | None:  # fmt: skip
    """The payoff the options ask for (prompt files read now, before the data), or None."""
    from ftkit.plan.payoff_inputs import payoff_request, prompt_arg

    return payoff_request(
        None if prompt_before is None else prompt_arg(prompt_before),
        None if prompt_after is None else prompt_arg(prompt_after),
        calls,
        output_tokens,
        inference_price,
    )


@cli.command()
@click.argument("args", nargs=-1, metavar="PATH... | --check KEY=VALUE...")
@click.option("--model", help="Base model (a chat model of the profile) [default: the profile's default].")
@click.option(
    "--goal",
    type=click.Choice(goal_names()),
    default="standard",
    show_default=True,
    help="quality = Effect Priority, fast = Lightweight Fast.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--check", is_flag=True, help="Check KEY=VALUE parameters against the profile's ranges instead (no PATH).")
@click.option(
    "--params", "params_file", type=click.Path(dir_okay=False), help="JSON or TOML file of parameters to check (implies --check)."
)
@common_options
@jobs_option
@quiet_option
def recommend(args: tuple[str, ...], model: str | None, goal: str, fmt: str, check: bool, params_file: str | None, jobs: int,
              quiet: bool, **options: object) -> None:  # fmt: skip
    """Recommend LoRA parameters for PATH, each with the data fact behind it.

    With --check (or --params FILE), check parameters you chose instead: exit 1 when a value is
    outside the platform's range, 2 for an unknown parameter.
    """
    from ftkit.api import token_table
    from ftkit.plan.params import check_parameters
    from ftkit.plan.recommend import recommend as run
    from ftkit.render.plan import render_check_text, render_recommendation_text
    from ftkit.scan.inputs import open_inputs

    ctx = settings_context(options, model=model)
    if check or params_file:
        values: dict[str, Any] = _params_file(params_file) if params_file else {}
        values.update(_pairs(args))
        if not values:
            raise ParameterError("--check needs KEY=VALUE arguments or --params FILE")
        result = check_parameters(values, ctx.profile)
        emit(model_json(result) if fmt == "json" else render_check_text(result))
        sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)
    if not args:
        raise ParameterError("recommend needs a PATH (or --check KEY=VALUE ...)")
    with open_inputs(list(args)) as inputs, Display.for_command("recommend", quiet) as display:
        table = token_table(ctx, inputs, keys=True, jobs=jobs, progress=display.progress)  # keys: the same split as split and cost
    rec = run(table, ctx.profile, goal)
    emit(model_json(rec) if fmt == "json" else render_recommendation_text(rec, table.paths))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--model", help="Base model (a chat model of the profile) [default: the profile's default].")
@click.option("--epochs", type=int, help="Number of epochs [default: the profile's suggested 3].")
@click.option("--max-tokens", type=int, help="Max Tokens; longer records are counted truncated [default: the profile's].")
@click.option("--price", help="Training price per million tokens (SiliconFlow's console shows it; not published).")
@click.option("--currency", help="Currency of --price [default: CNY].")
@click.option("--val-ratio", help="Validation split ratio, as `ftkit split` does it; 0 = all training [default: the profile's 0.1].")
@click.option("--seed", default="ftkit", show_default=True, help="Split seed (the same as `ftkit split --seed`).")
@click.option("--compare", is_flag=True, help="Add providers whose training prices are published, each with its date.")
@payoff_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@common_options
@jobs_option
@quiet_option
def cost(paths: tuple[str, ...], model: str | None, epochs: int | None, max_tokens: int | None, price: str | None,
         currency: str | None, val_ratio: str | None, seed: str, compare: bool, prompt_before: str | None,
         prompt_after: str | None, calls: int | None, output_tokens: int | None, inference_price: str | None, fmt: str,
         jobs: int, quiet: bool, **options: object) -> None:  # fmt: skip
    """Estimate billed training tokens (and cost, with --price) for PATH.

    With --prompt-before, also the payoff at inference: what the fine-tuned model's shorter
    prompt saves per call, the cost of --calls calls before and after, and the break-even
    number of calls against the training cost (with --price).
    """
    from ftkit.api import token_table
    from ftkit.errors import DataError
    from ftkit.plan.cost import estimate
    from ftkit.plan.split import check_seed
    from ftkit.render.plan import render_cost_text
    from ftkit.scan.inputs import open_inputs

    check_seed(seed)
    ctx = settings_context(options, model=model, max_tokens=max_tokens)
    payoff = payoff_of(prompt_before, prompt_after, calls, output_tokens, inference_price)
    with open_inputs(list(paths)) as inputs, Display.for_command("cost", quiet) as display:
        table = token_table(ctx, inputs, keys=True, seed=seed, jobs=jobs, progress=display.progress)
    if not table.frame.height:
        raise DataError(f"{', '.join(table.paths)}: no valid record to cost: fix the errors `ftkit validate` reports first")
    est = estimate(table, profile=ctx.profile, model=table.assumptions.model, epochs=epochs, max_tokens=ctx.settings.max_tokens,
                   price=price, currency=currency, val_ratio=val_ratio, compare=compare, payoff=payoff)  # fmt: skip
    emit(model_json(est) if fmt == "json" else render_cost_text(est, table.paths))
