"""``ftkit recommend``: LoRA parameters from the per-record token table, each with its reason.

The rule is data (``rules/recommend.toml``: bands with rationale and source); this module only does
the arithmetic, clamps every value to the profile's ranges and names the data fact behind it.
``check_parameters`` validates parameters a user chose against the same ranges.
The library never prints and never exits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from ftkit.errors import DataError, ParameterError
from ftkit.plan.choose import parse_ratio, validation_count, validation_mask
from ftkit.plan.cuts import Cuts, cuts, keep_every_reply
from ftkit.plan.params import fmt_number as _fmt
from ftkit.plan.params import range_text as _range_text
from ftkit.policy.profile import ParameterRange, Profile, as_profile
from ftkit.policy.recommend_rules import EpochsRule, RecommendRules, load_rules
from ftkit.tokens.table import column_sum

if TYPE_CHECKING:
    import polars as pl

    from ftkit.tokens.table import RecordTable

#: The parameters, in the order the platform's form lists them.
PARAMETERS = ("learning_rate", "epochs", "batch_size", "max_tokens", "lora_rank", "lora_alpha", "lora_dropout")
#: Scheme fields compared to find the nearest documented scheme (max_tokens is not in the schemes).
_SCHEME_FIELDS = ("learning_rate", "epochs", "batch_size", "lora_rank", "lora_alpha", "lora_dropout")


# --- results --------------------------------------------------------------------------------------


class Advice(BaseModel):
    label: str = Field(description="the platform's name for the parameter")
    value: int | float
    reason: str = Field(description="one line naming the data fact behind the value")
    source: str = Field(description="key of the rule file's [sources] table")


class DataFacts(BaseModel):
    records: int = Field(description="valid records in the table")
    train_records: int = Field(description="records left for training after the platform's validation split")
    validation_records: int
    trainable_tokens: int = Field(description="assistant tokens (plus end tokens) of all valid records")
    p95: int
    p99: int
    max: int
    rejected: int = Field(description="records left out because of error-level findings")
    truncated: int = Field(0, description="records longer than the recommended max_tokens")
    tokens_cut: int = Field(0, description="templated tokens (one epoch, all records) training never sees at the recommended max_tokens")
    tokens_saved: int = Field(0, description="templated tokens (one epoch, all records) fewer than at the platform's ceiling")
    replies_cut: int = Field(0, description="records whose reply the recommended max_tokens cuts (FT402 at that value)")
    reply_cut_lines: list[int] = Field(default_factory=list, description="their lines, in file order (up to 20)")
    replies_lost: int = Field(0, description="records that keep no trainable token: they train on nothing (FT403 at that value)")
    reply_lost_lines: list[int] = Field(default_factory=list, description="their lines, in file order (up to 20)")
    truncation: str = Field("right", description='the truncation assumed (profile [tokens] truncation): "right" or "drop"')


class Recommendation(BaseModel):
    """What ``ftkit.recommend.recommend`` returns; ``ftkit recommend --format json`` prints it."""

    version: str = "1"
    goal: str = Field(description="a goal of the rules' [goals] table: standard, quality or fast")
    profile: str
    scheme: str = Field(description="key of the nearest documented scheme")
    scheme_name: str
    scheme_differences: list[str] = Field(description="where the recommendation departs from that scheme")
    parameters: dict[str, Advice]
    warnings: list[str]
    facts: DataFacts
    sources: dict[str, str]
    assumptions: list[str]


# --- arithmetic -----------------------------------------------------------------------------------


def openai_epochs(n: int, rule: EpochsRule) -> int:
    """OpenAI's default epochs for ``n`` training examples (before the platform's clamp)."""
    epochs = rule.base
    if n * epochs < rule.min_examples_seen:
        return min(rule.max_small, rule.min_examples_seen // n)
    if n * epochs > rule.max_examples_seen:
        return max(rule.min_large, rule.max_examples_seen // n)
    return epochs


def scale_for_goal(value: int, ratio: Fraction) -> int:
    """Scale by a scheme ratio, rounding away from the standard value (up above 1, down below)."""
    scaled = value * ratio
    return max(1, math.ceil(scaled) if ratio >= 1 else math.floor(scaled))


def nearest_rank(sorted_values: pl.Series, percent: int) -> int:
    """Nearest-rank percentile of an ascending series (integer arithmetic, as ``ftkit stats``)."""
    n = sorted_values.len()
    return int(sorted_values[max(0, -(-percent * n // 100) - 1)])


def _clamp(value: float, rng: ParameterRange) -> tuple[float, bool]:
    low, high = rng.min, rng.max
    if rng.integer:
        low, high = math.ceil(low), math.floor(high)
    clamped = min(max(value, low), high)
    return (int(clamped) if rng.integer else clamped), clamped != value


def _band_text(below: int | None, bounds: list[int | None]) -> str:
    """'< 1,000' for a bounded band, '>= 1,000' for the open last band."""
    if below is not None:
        return f"< {below:,}"
    finite = [b for b in bounds if b is not None]
    return f">= {max(finite):,}" if finite else "any size"


def _pct(part: int, whole: int) -> str:
    share = 100 * part / whole
    return f"{share:.0f}%" if share >= 1 else ("<0.1%" if share < 0.1 else f"{share:.1f}%")


def _source(table: pl.DataFrame | RecordTable, profile: Profile) -> tuple[pl.DataFrame, int, list[str], str]:
    from ftkit.tokens.table import RecordTable, truncation_text

    if isinstance(table, RecordTable):
        # The table's Max Tokens is the ceiling, not the recommended value: leave it out.
        truncation = table.assumptions.truncation
        lines = [*table.assumptions.lines(max_tokens=False), truncation_text(truncation)]
        return table.frame, table.rejected_count, lines, truncation
    return table, 0, [], profile.tokens.truncation


# --- the recommendation ---------------------------------------------------------------------------


def recommend(
    table: RecordTable | pl.DataFrame,
    profile: str | Profile = "siliconflow",
    goal: str = "standard",
    rules: RecommendRules | None = None,
) -> Recommendation:
    """Recommend the seven LoRA parameters for ``table`` (a RecordTable or its frame).

    The frame needs ``total`` (templated tokens) and ``trainable`` columns, one row per record.
    Raises ``DataError`` for an empty table and ``ParameterError`` for an unknown goal.
    """
    prof = as_profile(profile)
    rule = rules or load_rules()
    if goal not in rule.goals:
        raise ParameterError(f"unknown goal {goal!r}; expected one of {', '.join(rule.goals)}")
    frame, rejected, table_assumptions, truncation = _source(table, prof)
    n = frame.height
    if n == 0:
        raise DataError("no valid record to recommend from: fix the errors `ftkit validate` reports first")

    ratio = parse_ratio(prof.split.get("validation_ratio", 0))
    # the records the platform-like split really sends to validation when the table has the split
    # keys (as `ftkit split` and `ftkit cost` would), else the target count
    n_val = int(validation_mask(frame, ratio).sum()) if "key" in frame.columns else validation_count(n, ratio)
    n_train = n - n_val
    totals = frame["total"].sort()
    p95, p99, longest = nearest_rank(totals, 95), nearest_rank(totals, 99), int(totals[-1])
    trainable = column_sum(frame["trainable"])
    facts = DataFacts(
        records=n,
        train_records=n_train,
        validation_records=n_val,
        trainable_tokens=trainable,
        p95=p95,
        p99=p99,
        max=longest,
        rejected=rejected,
    )

    goal_rule = rule.goals[goal]
    scheme, standard = prof.schemes[goal_rule.scheme], prof.schemes[rule.goals["standard"].scheme]
    ranges = prof.parameters
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    sources: dict[str, str] = {}

    def put(name: str, raw: float, reason: str, source: str) -> None:
        value, clamped = _clamp(raw, ranges[name])
        if clamped:
            reason += f"; {_fmt(raw)} clamped to the platform's range {_range_text(ranges[name])}"
        values[name], reasons[name], sources[name] = value, reason, source

    train_desc = f"{n_train:,} training records" + (f" ({n:,} minus {n_val:,} for validation)" if n_val else "")
    # Epochs: OpenAI's rule on the training records, clamped, then scaled for the goal by the
    # ratio of the platform's own schemes.
    er = rule.epochs
    base = openai_epochs(n_train, er)
    seen = n_train * er.base
    if seen < er.min_examples_seen:
        fact = f"{train_desc} x {er.base} = {seen:,} < {er.min_examples_seen:,} examples seen: {er.why} gives min({er.max_small}, floor({er.min_examples_seen:,}/{n_train:,})) = {base}"
    elif seen > er.max_examples_seen:
        fact = f"{train_desc} x {er.base} = {seen:,} > {er.max_examples_seen:,} examples seen: {er.why} gives max({er.min_large}, floor({er.max_examples_seen:,}/{n_train:,})) = {base}"
    else:
        fact = f"{train_desc} x {er.base} = {seen:,} examples seen, within {er.min_examples_seen:,}-{er.max_examples_seen:,}: {er.why} keeps {base}"
    base_clamped, clamped = _clamp(base, ranges["epochs"])
    if clamped:
        fact += f", clamped to {base_clamped} (platform range {_range_text(ranges['epochs'])})"
    epochs_ratio = Fraction(scheme.epochs, standard.epochs)
    epochs = scale_for_goal(int(base_clamped), epochs_ratio)
    if epochs_ratio != 1:
        fact += f"; x {epochs_ratio} for {scheme.name} ({standard.epochs} -> {scheme.epochs} in the schemes) = {epochs}"
    put("epochs", epochs, fact, er.source)

    # Batch size: halve from the standard until an epoch has enough steps.
    br = rule.batch_size
    batch = br.start
    while batch > 1 and math.ceil(n_train / batch) < br.min_steps_per_epoch:
        batch //= 2
    steps = math.ceil(n_train / batch)
    if batch < br.start:
        fact = f"{n_train:,} training records: batch {br.start} would give {math.ceil(n_train / br.start)} steps per epoch, batch {batch} gives {steps}"
    else:
        fact = f"{n_train:,} training records: batch {batch} gives {steps:,} steps per epoch (>= {br.min_steps_per_epoch})"
    put("batch_size", batch, f"{fact}; {br.why}", br.source)

    # Max tokens: cover the goal's percentile, rounded up, capped at the ceiling.
    mr = rule.max_tokens
    cover = {"p95": p95, "p99": p99, "max": longest}[goal_rule.cover]
    cover_name = {"p95": "p95 of templated lengths", "p99": "p99 of templated lengths", "max": "longest templated record"}[goal_rule.cover]
    ceiling = min(prof.tokens.max_tokens, int(ranges["max_tokens"].max))
    covered = max(mr.floor, -(-cover // mr.multiple) * mr.multiple)
    fact = f"{cover_name} is {cover:,} tokens -> {covered:,}, {mr.why}"
    keep = keep_every_reply(frame, truncation)  # the smallest value at which no reply is lost entirely
    if goal_rule.keep_replies and covered < keep:
        raised = max(mr.floor, -(-keep // mr.multiple) * mr.multiple)
        fact += f"; {mr.keep_replies_why}: -> {min(raised, ceiling):,}"
        covered = raised
    if covered > ceiling:
        fact += f"; capped at the platform's ceiling {ceiling:,}"
        covered = ceiling
    cut, at_ceiling = cuts(frame, covered, truncation), cuts(frame, ceiling, truncation)
    fact += "; " + _cut_text(cut, at_ceiling.trained_tokens, ceiling)
    put("max_tokens", covered, fact, mr.source)

    # Rank: band by trainable tokens, scaled for the goal.
    rr = rule.lora_rank
    band = next(b for b in rr.band if b.below_trainable_tokens is None or trainable < b.below_trainable_tokens)
    rank_ratio = Fraction(scheme.lora_rank, standard.lora_rank)
    rank = scale_for_goal(band.rank, rank_ratio)
    fact = f"{trainable:,} trainable tokens ({_band_text(band.below_trainable_tokens, [b.below_trainable_tokens for b in rr.band])}): {band.why} -> rank {band.rank}"
    if rank_ratio != 1:
        fact += f"; x {rank_ratio} for {scheme.name} ({standard.lora_rank} -> {scheme.lora_rank} in the schemes) = {rank}"
    put("lora_rank", rank, fact, rr.source)

    # Alpha: the platform's ratio to the (clamped) rank.
    ar = rule.lora_alpha
    rank_value = int(values["lora_rank"])
    put("lora_alpha", ar.per_rank * rank_value, f"{ar.per_rank} x rank {rank_value}: {ar.why}", ar.source)

    # Dropout: by the number of training examples.
    dr = rule.lora_dropout
    dband = next(b for b in dr.band if b.below_examples is None or n_train < b.below_examples)
    put(
        "lora_dropout",
        dband.dropout,
        f"{n_train:,} training records ({_band_text(dband.below_examples, [b.below_examples for b in dr.band])}): {dband.why}",
        dr.source,
    )

    # Learning rate: not data-dependent for LoRA at the platform's alpha/rank ratio.
    lr = rule.learning_rate
    put("learning_rate", lr.value, f"LoRA rank {rank_value}, alpha {int(values['lora_alpha'])}: {lr.why}", lr.source)

    parameters = {
        name: Advice(label=ranges[name].label, value=values[name], reason=reasons[name], source=sources[name]) for name in PARAMETERS
    }
    key, differences = nearest_scheme(values, prof, prefer=goal_rule.scheme)
    facts.truncated, facts.tokens_cut, facts.tokens_saved = cut.records, cut.tokens_cut, at_ceiling.trained_tokens - cut.trained_tokens
    facts.replies_cut, facts.reply_cut_lines = cut.replies_cut, cut.reply_cut_lines
    facts.replies_lost, facts.reply_lost_lines, facts.truncation = cut.replies_lost, cut.reply_lost_lines, truncation
    replies = _reply_warnings(cut, goal, goal_rule.keep_replies, keep, ceiling)
    warnings = _warnings(facts, int(values["max_tokens"]), base, prof, rule, ratio, replies)
    used = sorted({a.source for a in parameters.values()})
    return Recommendation(
        goal=goal,
        profile=prof.name,
        scheme=key,
        scheme_name=prof.schemes[key].name,
        scheme_differences=differences,
        parameters=parameters,
        warnings=warnings,
        facts=facts,
        sources={k: rule.sources.get(k, k) for k in used},
        assumptions=[
            f"the platform's automatic validation split ({_fmt(float(ratio))}) is assumed: {n_val:,} of {n:,} records go to validation",
            *table_assumptions,
        ],
    )


def nearest_scheme(values: Mapping[str, float], profile: Profile, prefer: str = "standard") -> tuple[str, list[str]]:
    """The documented scheme closest to ``values`` (sum of |log ratio|) and how they differ."""

    def distance(key: str) -> float:
        scheme = profile.schemes[key]
        return sum(abs(math.log(max(float(values[f]), 1e-12) / max(float(getattr(scheme, f)), 1e-12))) for f in _SCHEME_FIELDS)

    order = sorted(profile.schemes, key=lambda k: (round(distance(k), 9), k != prefer, k != "standard", k))
    best = profile.schemes[order[0]]
    differences = [
        f"{name} {_fmt(values[name])} (scheme: {_fmt(getattr(best, name))})"
        for name in _SCHEME_FIELDS
        if not math.isclose(float(values[name]), float(getattr(best, name)))
    ]
    return order[0], differences


def _lines(lines: list[int], count: int, shown: int = 10) -> str:
    return ", ".join(map(str, lines[:shown])) + (" ..." if count > shown else "")


def _cut_text(cut: Cuts, trained_at_ceiling: int, ceiling: int) -> str:
    """What Max Tokens ``cut.limit`` cuts, for the reason: records, replies, tokens saved."""
    if not cut.records:
        return "cuts no record"
    verb = "leaves out" if cut.truncation == "drop" else "cuts"
    replies = f"{cut.replies_cut:,} repl{'y' if cut.replies_cut == 1 else 'ies'} cut" if cut.replies_cut else "no reply cut"
    replies += f", {cut.replies_lost:,} lost entirely" if cut.replies_lost else ", none lost entirely"
    saved = trained_at_ceiling - cut.trained_tokens
    share = f" ({_pct(saved, trained_at_ceiling)})" if trained_at_ceiling else ""
    return (f"{verb} {cut.records:,} record{'s' if cut.records != 1 else ''} ({replies}), saving {saved:,} of the "
            f"{trained_at_ceiling:,} templated tokens per epoch at {ceiling:,}{share}")  # fmt: skip


def _reply_warnings(cut: Cuts, goal: str, keep_replies: bool, keep: int, ceiling: int) -> list[str]:
    """Records that train on nothing at the chosen Max Tokens: allowed for the fast goal only."""
    if not cut.replies_lost:
        return []
    lines = _lines(cut.reply_lost_lines, cut.replies_lost)
    lost = f"{cut.replies_lost:,} record{'s' if cut.replies_lost != 1 else ''} lose{'s' if cut.replies_lost == 1 else ''} the whole reply"
    if keep_replies:  # even the ceiling is too short for them
        return [f"{lost} even at the platform's ceiling {ceiling:,} (lines {lines}): they train on nothing (FT403); shorten them"]
    fix = f"; Max Tokens {keep:,} would keep every reply" if keep <= ceiling else ""
    return [f"goal {goal}: Max Tokens {cut.limit:,} is chosen for cost, and {lost} (lines {lines}): they train on nothing (FT403){fix}"]


def _warnings(facts: DataFacts, max_tokens: int, raw_epochs: int, profile: Profile, rule: RecommendRules, ratio: Fraction,
              replies: list[str]) -> list[str]:  # fmt: skip
    out = []
    for band in rule.warnings.examples:
        if facts.train_records < band.below:
            out.append(band.message.format(n=f"{facts.train_records:,}"))
            break
    epochs_max = profile.parameters["epochs"].max
    if raw_epochs > epochs_max:
        out.append(
            f"the epochs rule asks for {raw_epochs} epochs for {facts.train_records:,} training records; "
            f"the platform allows at most {_fmt(epochs_max)}: more data would help"
        )
    if facts.max > max_tokens:
        over = facts.truncated
        lead = f"p99 is {facts.p99:,} tokens" if facts.p99 > max_tokens else f"the longest record is {facts.max:,} tokens"
        verb = "left out" if facts.truncation == "drop" else "truncated"
        parts = []
        if facts.replies_cut:
            parts.append(f"{facts.replies_cut:,} lose the end of their reply (lines {_lines(facts.reply_cut_lines, facts.replies_cut)})")
        if facts.replies_lost:
            parts.append(f"{facts.replies_lost:,} their whole reply (lines {_lines(facts.reply_lost_lines, facts.replies_lost)})")
        cut = "; ".join(parts) if parts else "no reply is cut"
        out.append(f"{lead}: {_pct(over, facts.records)} of records ({over:,}) will be {verb} at {max_tokens:,}; {cut}")
    out += replies
    if ratio and facts.validation_records == 0:
        out.append(f"{facts.records} record: too few for the platform's automatic validation split; nothing to validate on")
    if facts.rejected:
        out.append(f"{facts.rejected:,} records with errors were left out; run `ftkit validate` to see them")
    return out
