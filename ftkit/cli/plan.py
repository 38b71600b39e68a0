"""``ftkit recommend`` and ``ftkit cost``: plan a fine-tuning job from the per-record table.

The renderers here are pure: they format a Recommendation, CheckResult or CostEstimate and
compute nothing.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, UsageProblem, _settings, cli

if TYPE_CHECKING:
    from ftkit.plan.cost import CostEstimate
    from ftkit.policy.profile import Profile
    from ftkit.plan.params import CheckResult
    from ftkit.plan.recommend import Recommendation
    from ftkit.tokens.table import RecordTable

GOALS = ("standard", "quality", "fast")


def _profile(name: str | None) -> Profile:
    from ftkit.policy.profile import ProfileError, load_profile

    try:
        return load_profile(name or _settings(None).profile)
    except ProfileError as exc:
        raise UsageProblem(str(exc)) from None


def _table(paths: Sequence[str], prof: Profile, model: str | None, keys: bool = False, seed: str = "ftkit") -> RecordTable:
    from ftkit.scan.engine import ValidationError
    from ftkit.tokens.table import build_table
    from ftkit.tokens.tokenizer import TokenizerUnavailable

    chat = prof.models.get("chat", [])
    if model is not None and chat and model not in chat:
        raise UsageProblem(f"--model {model!r} is not a chat model profile {prof.name!r} can fine-tune; expected one of: {', '.join(chat)}")
    settings = _settings(None)  # [tool.ftkit] select/ignore decide which records count, as in validate
    try:
        return build_table(list(paths), profile=prof, model=model, keys=keys, seed=seed, dataset_rules=False,
                           select=tuple(settings.select), ignore=tuple(settings.ignore))
    except (ValidationError, TokenizerUnavailable, ValueError) as exc:
        raise UsageProblem(str(exc)) from None


# --- recommend ------------------------------------------------------------------------------------


def _pairs(args: Sequence[str]) -> dict[str, str]:
    out = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key.strip():
            raise UsageProblem(f"--check expects KEY=VALUE arguments (e.g. learning_rate=0.0001), got {arg!r}")
        out[key.strip()] = value.strip()
    return out


def _params_file(path: str) -> dict[str, Any]:
    """Parameters from a JSON or TOML file: a flat table, or ``ftkit recommend --format json`` output."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise UsageProblem(f"cannot read --params {path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        data = data["parameters"]
    if not isinstance(data, dict):
        raise UsageProblem(f"--params {path}: expected a table of parameter = value, got {type(data).__name__}")
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in data.items()}


def render_check_text(result: CheckResult) -> str:
    lines = [f"{'ok ' if c.ok else 'ERR'}  {c.message}" for c in result.checks]
    bad = sum(not c.ok for c in result.checks)
    lines.append(f"{len(result.checks)} parameter{'s' if len(result.checks) != 1 else ''} checked against profile "
                 f"{result.profile}: {'all within range' if not bad else f'{bad} out of range'}")
    return "\n".join(lines)


def render_recommendation_text(rec: Recommendation, paths: Sequence[str]) -> str:
    f = rec.facts
    head = ", ".join(paths)
    lines = [
        f"{head}: {f.records:,} records ({f.train_records:,} training, {f.validation_records:,} validation), goal {rec.goal}",
        f"nearest documented scheme: {rec.scheme_name}"
        + (f" (differs in {'; '.join(rec.scheme_differences)})" if rec.scheme_differences else " (identical)"),
        "",
    ]
    cells = [(a.label, f"{name} = {_value(a.value)}", a.reason) for name, a in rec.parameters.items()]
    w1, w2 = max(len(c[0]) for c in cells), max(len(c[1]) for c in cells)
    lines += [f"  {label:<{w1}}  {setting:<{w2}}  {reason}" for label, setting, reason in cells]
    if rec.warnings:
        lines += ["", "warnings:"] + [f"  - {w}" for w in rec.warnings]
    lines += ["", "sources:"] + [f"  {k}: {v}" for k, v in rec.sources.items()]
    lines += ["", "assumptions:"] + [f"  - {a}" for a in rec.assumptions]
    return "\n".join(lines)


def _value(value: float) -> str:
    return str(value) if isinstance(value, int) else format(value, "g") if value >= 0.001 else format(value, "f").rstrip("0")


@cli.command()
@click.argument("args", nargs=-1, metavar="PATH... | --check KEY=VALUE...")
@click.option("--model", help="Base model (a chat model of the profile) [default: the profile's default].")
@click.option("--goal", type=click.Choice(GOALS), default="standard", show_default=True,
              help="quality = Effect Priority, fast = Lightweight Fast.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--check", is_flag=True, help="Check KEY=VALUE parameters against the profile's ranges instead (no PATH).")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), help="JSON or TOML file of parameters to check (implies --check).")
@click.option("--profile", help="Platform profile name or path [default: siliconflow].")
def recommend(args: tuple[str, ...], model: str | None, goal: str, fmt: str, check: bool, params_file: str | None,
              profile: str | None) -> None:
    """Recommend LoRA parameters for PATH, each with the data fact behind it.

    With --check (or --params FILE), check parameters you chose instead: exit 1 when a value is
    outside the platform's range, 2 for an unknown parameter.
    """
    from ftkit.plan.params import ParameterError, check_parameters
    from ftkit.plan.recommend import RecommendError
    from ftkit.plan.recommend import recommend as run

    prof = _profile(profile)
    if check or params_file:
        values: dict[str, Any] = _params_file(params_file) if params_file else {}
        values.update(_pairs(args))
        if not values:
            raise UsageProblem("--check needs KEY=VALUE arguments or --params FILE")
        try:
            result = check_parameters(values, prof)
        except ParameterError as exc:
            raise UsageProblem(str(exc)) from None
        click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_check_text(result))
        sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)
    if not args:
        raise UsageProblem("recommend needs a PATH (or --check KEY=VALUE ...)")
    table = _table(args, prof, model, keys=True)  # keys: the same validation split as split and cost
    try:
        rec = run(table, prof, goal)  # type: ignore[arg-type]
    except RecommendError as exc:
        click.echo(f"ftkit: {', '.join(table.paths) or ', '.join(args)}: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(rec.model_dump_json(indent=2) if fmt == "json" else render_recommendation_text(rec, table.paths))


# --- cost -----------------------------------------------------------------------------------------


def render_cost_text(est: CostEstimate, paths: Sequence[str]) -> str:
    cost = f"{est.cost} {est.currency}" if est.cost is not None else f"unknown: {est.price_note}"
    lines = [
        f"{', '.join(paths)}: model {est.model}",
        f"  training records    {est.train_records:,} ({est.validation_records:,} to validation, ratio {est.val_ratio:g})",
        f"  epochs              {est.epochs}",
        f"  Max Tokens          {est.max_tokens:,} ({est.truncated_records:,} training records truncated)",
        f"  train tokens/epoch  {est.train_tokens:,}",
        f"  billed tokens       {est.billed_tokens:,} (= {est.epochs} x {est.train_tokens:,})",
        f"  validation tokens   {est.validation_tokens:,} (one pass; whether billed is not documented)",
        f"  price               {f'{est.price_per_million} {est.currency} per million tokens' if est.price_per_million is not None else 'not published'}",
        f"  cost                {cost}",
    ]
    if est.compare is not None:
        lines += ["", "published training prices, same billed tokens:"]
        for row in est.compare:
            lines.append(f"  {row.provider} {row.model}: {row.price_per_million} {row.currency}/M (as of {row.as_of}) -> "
                         f"{row.cost} {row.currency}{f'  [{row.note}]' if row.note else ''}")
        if not est.compare:
            lines.append("  (none for this model size)")
    if est.self_hosted:
        lines += ["", "self-hosted estimate:"]
        for h in est.self_hosted:
            lines.append(f"  {h.gpu}: {h.gpu_hours} GPU-hours x {h.price_per_gpu_hour} {h.currency}/h (as of {h.as_of}) -> {h.cost} {h.currency}")
    lines += ["", "assumptions:"] + [f"  - {a}" for a in est.assumptions]
    return "\n".join(lines)


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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--profile", help="Platform profile name or path [default: siliconflow].")
def cost(paths: tuple[str, ...], model: str | None, epochs: int | None, max_tokens: int | None, price: str | None,
         currency: str | None, val_ratio: str | None, seed: str, compare: bool, fmt: str, profile: str | None) -> None:
    """Estimate billed training tokens (and cost, with --price) for PATH."""
    from ftkit.plan.cost import CostError, estimate

    prof = _profile(profile)
    if len(seed.encode("utf-8")) > 64:
        raise UsageProblem("--seed is longer than 64 bytes (the hash key's limit); use a shorter seed")
    table = _table(paths, prof, model, keys=True, seed=seed)
    if not table.frame.height:
        click.echo(f"ftkit: {', '.join(table.paths) or ', '.join(paths)}: no valid record to cost: fix the errors `ftkit validate` reports first", err=True)
        sys.exit(EXIT_FINDINGS)
    try:
        est = estimate(table, profile=prof, model=model, epochs=epochs, max_tokens=max_tokens, price=price,
                       currency=currency, val_ratio=val_ratio, compare=compare)
    except CostError as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(est.model_dump_json(indent=2) if fmt == "json" else render_cost_text(est, table.paths))
