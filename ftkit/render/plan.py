"""Text for people: stats, split, recommend, cost and parameter checks. Pure renderers: every
figure comes from the result object; strings from data are escaped (``ftkit.render.safe``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ftkit.render.safe import safe

if TYPE_CHECKING:
    from ftkit.plan.cost import CostEstimate
    from ftkit.plan.params import CheckResult
    from ftkit.plan.payoff import Payoff
    from ftkit.plan.recommend import Recommendation
    from ftkit.plan.split import SplitResult
    from ftkit.plan.stats import Stats, TokenizerData

#: Hex characters of a digest shown to people (the JSON has all 64).
DIGEST_CHARS = 12


def render_stats_text(stats: Stats, width: int = 40) -> str:
    """``ftkit stats`` for people: totals, distribution, histogram, truncation, assumptions."""
    t = stats.tokens
    out = [
        f"Records: {stats.records:,} counted" + (f", {stats.rejected:,} left out for errors (see ftkit validate)" if stats.rejected else "")
    ]
    out.append(
        f"Tokens: {t.total:,} total (templated), {t.trainable:,} trainable (assistant), {t.trainable_kept:,} trainable within Max Tokens"
    )
    role = t.content_by_role
    out.append(f"Content tokens by role: system {role.system:,}, user {role.user:,}, assistant {role.assistant:,}")
    if stats.lengths:
        ln = stats.lengths
        out.append(
            f"Tokens per record: min {ln.min:,}, mean {ln.mean:,}, p50 {ln.p50:,}, p90 {ln.p90:,}, p95 {ln.p95:,}, p99 {ln.p99:,}, max {ln.max:,}"
        )
    if stats.turns:
        out.append(f"Turns per record: min {stats.turns.min}, mean {stats.turns.mean}, max {stats.turns.max}")
    if stats.histogram:
        out.append("")
        out.append("Tokens per record (histogram):")
        peak = max(b.count for b in stats.histogram) or 1
        for b in stats.histogram:
            bar = "#" * round(width * b.count / peak)
            out.append(f"  {b.lo:>7,}-{b.hi:<7,} {b.count:>8,} {bar}")
    over = stats.over_max_tokens
    out.append("")
    if over.records:
        shown = ", ".join(map(str, over.lines[:10])) + (" ..." if over.records > 10 else "")
        out.append(
            f"Over Max Tokens ({over.limit:,}): {over.records:,} records, {over.tokens_cut:,} tokens would be cut (longest at lines {shown})"
        )
    else:
        out.append(f"Over Max Tokens ({over.limit:,}): none")
    for loss, what in ((over.reply_cut, "reply cut (FT402)"), (over.reply_lost, "reply lost entirely, trains on nothing (FT403)")):
        if loss.records:
            shown = ", ".join(map(str, loss.lines[:10])) + (" ..." if loss.records > 10 else "")
            out.append(f"  {what}: {loss.records:,} records, {loss.trainable_lost:,} trainable tokens lost (lines {shown})")
    sp = stats.system_prompt
    if sp.records_with_system:
        repeat = (
            f"; the most common prompt is on {sp.top_prompt_records:,} records and is paid for on every one"
            if sp.top_prompt_records > 1
            else ""
        )
        out.append(
            f"System prompts: {sp.tokens:,} tokens, {sp.share:.1%} of all tokens, {sp.distinct:,} distinct on {sp.records_with_system:,} records{repeat}"
        )
    out.append("")
    out.append("Assumptions:")
    out.extend(f"  - {safe(a)}" for a in stats.assumptions)
    out.append(f"  - {safe(tokenizer_text(stats.tokenizer))}")
    return "\n".join(out)


def kept_text(stats: Stats) -> str:
    """Trainable tokens kept vs lost at Max Tokens, in one sentence (numbers only, nothing to escape)."""
    t, over = stats.tokens, stats.over_max_tokens
    head = f"Trainable tokens within Max Tokens {over.limit:,}"
    if t.trainable_kept >= t.trainable:
        return f"{head}: all {t.trainable:,} kept; no reply is cut."
    share = f" ({t.trainable_kept / t.trainable:.1%})" if t.trainable else ""
    parts = []
    for loss, what, code in (
        (over.reply_cut, "its reply cut", "FT402"),
        (over.reply_lost, "its reply lost entirely, training on nothing", "FT403"),
    ):
        if loss.records:
            lines = ", ".join(map(str, loss.lines[:10])) + (" ..." if loss.records > 10 else "")
            parts.append(f"{loss.records:,} record{'s' if loss.records != 1 else ''} with {what} ({code}, {loss.trainable_lost:,} tokens; "
                         f"line{'s' if loss.records != 1 else ''} {lines})")  # fmt: skip
    return f"{head}: {t.trainable_kept:,} of {t.trainable:,} kept{share}, {t.trainable - t.trainable_kept:,} lost: {'; '.join(parts)}."


def tokenizer_text(t: TokenizerData) -> str:
    """The tokenizer data as one sentence: which, from which package and version, its digest.
    Not escaped: each renderer escapes it for its output."""
    origin = f" from {t.package} {t.version or '(version unknown)'}" if t.package else ""
    details = [t.file] if t.file and t.file != t.name else []
    if t.kind == "tokenizer.json":
        details.append("tokenizer.json given")
    if t.vocab is not None:
        details.append(f"{t.vocab:,} {'ranks' if t.kind.startswith('tiktoken') else 'vocabulary entries'}")
    if t.sha256:
        details.append(f"sha256 {t.sha256[:DIGEST_CHARS]}" + (", as pinned" if t.kind == "tiktoken-file" else ""))
    return f"tokenizer data: {t.name}{origin}" + (f" ({', '.join(details)})" if details else "")


def render_split(result: SplitResult) -> str:
    """The text summary of a ``SplitResult``."""
    how = f"ratio {result.ratio:g}" if result.ratio is not None else f"count {result.count}"
    extra = "".join(f", {name} {value}" for name, value in (("group-by", result.group_by), ("stratify", result.stratify)) if value)
    out = [f"split {safe(result.input)} (seed {safe(repr(result.seed))}, {how}, target {result.target:,} validation records{extra})"]
    rows = [("train", result.train), ("validation", result.validation)] + ([("rejected", result.rejected)] if result.rejected else [])
    width = max(len(safe(f.path)) for _, f in rows)
    for name, f in rows:
        tokens = f"{f.tokens:>12,} tokens" if f.tokens is not None else ""
        out.append(f"  {name:<10}  {safe(f.path):<{width}}  {f.records:>9,} {'records' if name != 'rejected' else 'lines  '}{tokens}")
    out.append(f"records on both sides: {result.leaked_records:,} (expected 0)")
    if result.shared_first_user and result.group_by != "first-user":
        out.append(
            f"note: {result.shared_first_user:,} validation records open with a user message that also opens a training record; --group-by first-user keeps them together"
        )
    return "\n".join(out)


def render_check_text(result: CheckResult) -> str:
    lines = [f"{'ok ' if c.ok else 'ERR'}  {c.message}" for c in result.checks]
    bad = sum(not c.ok for c in result.checks)
    lines.append(
        f"{len(result.checks)} parameter{'s' if len(result.checks) != 1 else ''} checked against profile "
        f"{result.profile}: {'all within range' if not bad else f'{bad} out of range'}"
    )
    return "\n".join(lines)


def render_recommendation_text(rec: Recommendation, paths: Sequence[str]) -> str:
    f = rec.facts
    head = ", ".join(map(safe, paths))
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
    lines += ["", "assumptions:"] + [f"  - {safe(a)}" for a in rec.assumptions]
    return "\n".join(lines)


def _value(value: float) -> str:
    return str(value) if isinstance(value, int) else format(value, "g") if value >= 0.001 else format(value, "f").rstrip("0")


def render_cost_text(est: CostEstimate, paths: Sequence[str]) -> str:
    cost = f"{est.cost} {est.currency}" if est.cost is not None else f"unknown: {est.price_note}"
    lines = [
        f"{', '.join(map(safe, paths))}: model {est.model}",
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
            lines.append(
                f"  {row.provider} {row.model}: {row.price_per_million} {row.currency}/M (as of {row.as_of}) -> "
                f"{row.cost} {row.currency}{f'  [{row.note}]' if row.note else ''}"
            )
        if not est.compare:
            lines.append("  (none for this model size)")
    if est.self_hosted:
        lines += ["", "self-hosted estimate:"]
        for h in est.self_hosted:
            lines.append(
                f"  {h.gpu}: {h.gpu_hours} GPU-hours x {h.price_per_gpu_hour} {h.currency}/h (as of {h.as_of}) -> {h.cost} {h.currency}"
            )
    lines += ["", "assumptions:"] + [f"  - {safe(a)}" for a in est.assumptions]
    if est.payoff is not None:
        lines += ["", *render_payoff_text(est.payoff)]
    return "\n".join(lines)


def render_payoff_text(p: Payoff) -> list[str]:
    """The inference payoff: a table of one call before and after, then the answers."""
    from ftkit.render import payoff

    rows = payoff.rows(p)
    w0 = max(len(r.label) for r in rows)
    w1, w2 = (max(len("before"), *(len(safe(getattr(r, side))) for r in rows)) for side in ("before", "after"))
    out = [f"inference payoff of fine-tuning {safe(p.model)} (one call = system prompt + one user message + one reply):",
           f"  {'':<{w0}}  {'before':>{w1}}  {'after':>{w2}}"]  # fmt: skip
    for r in rows:
        out.append(f"  {r.label:<{w0}}  {safe(r.before):>{w1}}  {safe(r.after):>{w2}}" + (f"  ({safe(r.note)})" if r.note else ""))
    out += [""] + [f"  {safe(line)}" for line in payoff.summary(p)]
    return out + ["", "payoff assumptions:"] + [f"  - {safe(a)}" for a in p.assumptions]
