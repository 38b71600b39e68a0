"""Build a ``QualityReport`` from the per-record table: stats, recommendation and cost all read
the one table that ``build_table`` made in its single pass; nothing is tokenized again.

The only extra reading is of the few lines shown as examples (their first characters).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, cast

from ftkit import __version__
from ftkit.checks import Selector
from ftkit.findings import SEVERITY_RANK, Finding, Severity
from ftkit.models import file_summary
from ftkit.plan.report_model import (
    DUPLICATE_CODES,
    QUALITY_CODES,
    Distribution,
    Duplicates,
    Example,
    QualityReport,
    RuleFindings,
    Share,
    TokenShares,
    TurnCount,
    Validation,
    Verdict,
)
from ftkit.plan.stats import Bin, Stats, compute_stats
from ftkit.policy.profile import Profile

if TYPE_CHECKING:
    from ftkit.plan.cost import CostEstimate
    from ftkit.plan.payoff_inputs import PayoffRequest
    from ftkit.plan.recommend import Recommendation
    from ftkit.tokens.table import RecordTable

Located = tuple[str, Finding]  # (file name, finding)
Status = Literal["ready", "ready-with-warnings", "not-ready"]

#: Characters of a line shown with an example finding.
SNIPPET_CHARS = 160
#: Bars of the length histogram (at most) and of the turns chart (the last is "this many or more").
LENGTH_BINS = 40
TURN_BARS = 20


def build_report(
    table: RecordTable,
    profile: Profile,
    goal: str = "standard",
    price: Decimal | str | None = None,
    currency: str | None = None,
    selected: Selector | None = None,
    examples: int = 3,
    payoff: PayoffRequest | None = None,
) -> QualityReport:
    """Everything ``ftkit report`` shows, from one ``RecordTable`` (built with ``keys=True`` and
    ``near_duplicates=True``). ``payoff`` adds the inference payoff to the cost (its own section).

    Raises ``ParameterError`` for an unusable ``price``; never prints, never exits.
    """
    from ftkit.checks import RULES, all_rules

    all_rules()
    scan = table.scan
    stats = compute_stats(table)
    violations, over_count = _findings(table, selected or Selector(), examples)
    counts = Counter(f.code for _, f in scan.violations())
    if over_count:
        counts["FT401"] = over_count
    shown = _examples(violations, examples)
    snippets = _snippets(table, [e for group in shown.values() for e in group], profile.data.max_line_bytes)
    groups = {}
    for code, n in counts.items():
        rule = RULES[code]
        severity = cast(Severity, table.severity.get(code, "error"))
        found = [
            Example(path=path, line=f.line, pointer=f.pointer, message=f.message, text=snippets.get((path, f.line)))
            for path, f in shown.get(code, [])
        ]
        groups[code] = RuleFindings(
            code=code,
            name=rule.name,
            severity=severity,
            summary=rule.summary,
            remedy=rule.remedy,
            count=n,
            examples=found,
            more=n - len(found),
        )

    def group(code: str) -> RuleFindings:
        rule = RULES[code]
        return groups.get(code) or RuleFindings(
            code=code,
            name=rule.name,
            severity=cast(Severity, table.severity.get(code, "warning")),
            summary=rule.summary,
            remedy=rule.remedy,
            count=0,
            examples=[],
            more=0,
        )

    platform = sorted(
        (g for c, g in groups.items() if c not in DUPLICATE_CODES + QUALITY_CODES), key=lambda g: (-SEVERITY_RANK[g.severity], g.code)
    )
    by_severity = {s: sum(g.count for g in groups.values() if g.severity == s) for s in ("error", "warning", "info")}
    files = [file_summary(f) for f in scan.files]
    validation = Validation(
        profile=scan.profile,
        files=files,
        records=sum(f.records for f in files),
        valid_records=sum(f.valid_records for f in files),
        by_severity=by_severity,
        rules=platform,
    )
    recommendation, recommendation_note = _recommend(table, profile, goal)
    cost, cost_note = _cost(table, profile, price, currency, payoff)
    return QualityReport(
        tool=f"ftkit {__version__}",
        profile=profile.name,
        model=table.assumptions.model,
        goal=goal,
        verdict=verdict(
            validation,
            sorted(groups.values(), key=lambda g: (-SEVERITY_RANK[g.severity], -g.count, g.code)),
            unusable=max(0, stats.rejected - (validation.records - validation.valid_records)),
        ),
        validation=validation,
        stats=stats,
        distribution=_distribution(table),
        token_shares=_shares(stats, cost, table.assumptions.default_system),
        duplicates=Duplicates(exact=group("FT501"), near=group("FT504")),
        quality=[group(c) for c in QUALITY_CODES],
        recommendation=recommendation,
        recommendation_note=recommendation_note,
        cost=cost,
        cost_note=cost_note,
    )


def verdict(validation: Validation, groups: list[RuleFindings], unusable: int = 0) -> Verdict:
    """Ready or not, and why, in one sentence. ``unusable``: records without a selected error
    that still cannot be read as chat records (their rules were deselected or made warnings)."""
    records, valid = validation.records, validation.valid_records
    if unusable:
        return _verdict(
            "not-ready",
            "Not ready",
            f"{unusable:,} of {records:,} record{_s(records)} cannot be read as chat records (role and content strings) "
            "although the rules that say why are ignored or lowered by the settings; they are left out of every figure below.",
        )
    errors = [g for g in groups if g.severity == "error"]
    warnings = [g for g in groups if g.severity == "warning"]
    if errors or not valid:
        invalid = records - valid
        if invalid:
            head = f"{invalid:,} of {records:,} record{_s(records)} {'have' if invalid != 1 else 'has'} errors"
        elif records:
            head = "the file has errors" if errors else "no record is valid"
        else:
            head = "there are no records"
        why = f" ({_codes(errors)})" if errors else ""
        return _verdict("not-ready", "Not ready", f"{head}{why}; {_repairs(validation, errors)}")
    if warnings:
        n = sum(g.count for g in warnings)
        return _verdict(
            "ready-with-warnings",
            "Ready to upload, with warnings",
            f"all {records:,} record{_s(records)} pass the platform's rules; {n:,} warning{_s(n)} worth a look ({_codes(warnings)}); "
            + _repairs(validation, warnings),
        )
    return _verdict("ready", "Ready to upload", f"all {records:,} record{_s(records)} pass every rule.")


def _repairs(validation: Validation, groups: list[RuleFindings], shown: int = 3) -> str:
    """What to do, from the rules that fired (each rule's remedy) or, when the whole file has a
    recognisable shape, from that: never a blanket "ftkit fix"."""
    shapes = [f.shape.message for f in validation.files if f.shape is not None]
    if shapes:
        return "the file: " + "; ".join(shapes) + "."
    remedies = [f"{g.code}: {g.remedy.rstrip('.')}" for g in groups[:shown] if g.remedy]
    if not remedies:
        return "see the findings below."
    rest = len([g for g in groups if g.remedy]) - len(remedies)
    more = f" (and the remedies of {rest} more rule{_s(rest)} below)" if rest > 0 else ""
    return "what repairs them: " + "; ".join(remedies) + more + "."


def _verdict(status: str, headline: str, reason: str) -> Verdict:
    return Verdict(
        ready=status != "not-ready", status=cast(Status, status), headline=headline, reason=reason, sentence=f"{headline}: {reason}"
    )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _codes(groups: list[RuleFindings], shown: int = 3) -> str:
    text = ", ".join(f"{g.code} {g.name} ×{g.count:,}" for g in groups[:shown])
    rest = len(groups) - shown
    return text + (f" and {rest} more rule{_s(rest)}" if rest > 0 else "")


# --- findings -------------------------------------------------------------------------------------


def _findings(table: RecordTable, selected: Selector, examples: int) -> tuple[list[Located], int]:
    """The scan's findings plus the first FT401 (over Max Tokens) ones, and how many FT401 there are."""
    import polars as pl

    from ftkit.checks.length import over_max_tokens

    found = list(table.scan.violations())
    frame = table.frame
    if frame.is_empty() or not selected("FT401"):
        return found, 0
    over = frame.filter(pl.col("total") > table.assumptions.max_tokens)
    if over.height:  # the messages of the first few, from the rule itself
        for file, line, total in over.sort("file", "line").head(examples).select("file", "line", "total").iter_rows():
            found += [(table.paths[file], f) for f in over_max_tokens([(line, total)], table.assumptions.max_tokens)]
    return found, over.height


def _examples(violations: Iterable[Located], per_rule: int) -> dict[str, list[Located]]:
    out: dict[str, list[Located]] = {}
    for path, f in violations:
        kept = out.setdefault(f.code, [])
        if len(kept) < per_rule:
            kept.append((path, f))
    return out


def _snippets(table: RecordTable, wanted: Iterable[Located], max_line_bytes: int) -> dict[tuple[str, int | None], str]:
    """The first characters of each wanted line, reading each file only up to its last such line."""
    from ftkit.scan.reader import iter_lines

    lines: dict[str, set[int]] = {}
    for path, f in wanted:
        if f.line is not None:
            lines.setdefault(path, set()).add(f.line)
    out: dict[tuple[str, int | None], str] = {}
    for path, numbers in lines.items():
        # a record over several lines (a JSON array's element, a pretty-printed record) is shown
        # from its first lines joined, not by its opening brace alone
        spans = next((f.spans for f in table.scan.files if f.path == path), {})
        ends = {n: spans.get(n, n) for n in numbers}
        last = max(ends.values())
        parts: dict[int, list[bytes]] = {}
        try:
            with open(table.read_paths[table.paths.index(path)], "rb") as stream:
                for n, raw in enumerate(iter_lines(stream, max_line_bytes), start=1):
                    if n in numbers:
                        if ends[n] == n or isinstance(raw, int):
                            out[(path, n)] = _cut(raw)
                        else:
                            parts[n] = [raw.strip()]
                    for first, got in parts.items():
                        if first < n <= ends[first] and isinstance(raw, bytes) and sum(map(len, got)) < SNIPPET_CHARS * 4:
                            got.append(raw.strip())
                    if n >= last:
                        break
        except OSError:
            continue  # the file went away since the scan: examples without text
        for first, got in parts.items():
            out[(path, first)] = _cut(b" ".join(got))
    return out


def _cut(raw: bytes | int) -> str:
    if isinstance(raw, int):
        return f"(a line of {raw:,} bytes)"
    text = raw[: SNIPPET_CHARS * 4].removeprefix(b"\xef\xbb\xbf").rstrip(b"\r").decode("utf-8", errors="replace")
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


# --- distributions and shares ---------------------------------------------------------------------


def _nice_width(span: int, bins: int) -> int:
    raw = max(1, math.ceil(span / bins))
    scale = 10 ** (len(str(raw)) - 1)
    return next(step * scale for step in (1, 2, 5, 10) if step * scale >= raw)


def _distribution(table: RecordTable) -> Distribution:
    import polars as pl

    frame = table.frame
    if frame.is_empty():
        return Distribution(lengths=[], turns=[])
    lo_value, hi_value = int(frame["total"].min()), int(frame["total"].max())  # type: ignore[arg-type]  # polars types min/max of a column as any scalar
    width = _nice_width(hi_value - lo_value + 1, LENGTH_BINS)
    lo = lo_value // width * width
    n_bins = (hi_value - lo) // width + 1
    counts = dict(frame.select(((pl.col("total") - lo) // width).alias("b")).group_by("b").len().iter_rows())
    lengths = [Bin(lo=lo + i * width, hi=lo + (i + 1) * width - 1, count=int(counts.get(i, 0))) for i in range(n_bins)]
    per_turns = dict(frame.group_by("turns").len().iter_rows())
    top = max(per_turns)
    turns = [TurnCount(turns=t, records=int(per_turns.get(t, 0))) for t in range(min(per_turns), min(top, TURN_BARS - 1) + 1)]
    if top >= TURN_BARS:
        turns.append(TurnCount(turns=TURN_BARS, records=sum(int(c) for t, c in per_turns.items() if t >= TURN_BARS), or_more=True))
    return Distribution(lengths=lengths, turns=turns)


def _shares(stats: Stats, cost: CostEstimate | None, default_system: bool) -> TokenShares:
    total = stats.tokens.total
    role = stats.tokens.content_by_role
    template = total - role.system - role.user - role.assistant
    defaulted = stats.system_prompt.records_with_system < stats.records and default_system
    parts = [
        ("system prompts", role.system),
        ("user messages", role.user),
        ("assistant replies (trained on)", role.assistant),
        ("chat template" + (" and default system prompt" if defaulted else ""), template),
    ]
    shares = [Share(part=name, tokens=n, share=round(n / total, 4) if total else 0.0) for name, n in parts]
    sp = stats.system_prompt
    if not sp.records_with_system:
        sentence = "No record has a system prompt of its own."
    else:
        sentence = (
            f"System prompts are {sp.share:.1%} of all tokens ({sp.tokens:,} of {total:,}), "
            f"{sp.distinct:,} distinct on {sp.records_with_system:,} record{_s(sp.records_with_system)}"
        )
        if sp.top_prompt_records > 1:
            sentence += f"; the most common one is on {sp.top_prompt_records:,} records and is paid for on every one, every epoch"
        if cost is not None and cost.billed_tokens:
            sentence += f" (about {round(sp.share * cost.billed_tokens):,} of the {cost.billed_tokens:,} billed tokens)"
        sentence += "."
    return TokenShares(total=total, parts=shares, system_sentence=sentence)


# --- recommendation and cost ----------------------------------------------------------------------


def _recommend(table: RecordTable, profile: Profile, goal: str) -> tuple[Recommendation | None, str | None]:
    from ftkit.errors import DataError
    from ftkit.plan.recommend import recommend

    try:
        return recommend(table, profile, goal), None
    except DataError as exc:
        return None, str(exc)


def _cost(
    table: RecordTable, profile: Profile, price: Decimal | str | None, currency: str | None, payoff: PayoffRequest | None = None
) -> tuple[CostEstimate | None, str | None]:
    from ftkit.plan.cost import estimate

    if table.frame.is_empty():
        return None, "no valid record to cost: fix the errors above first"
    limit = table.assumptions.max_tokens
    return estimate(
        table, profile=profile, model=table.assumptions.model, max_tokens=limit, price=price, currency=currency, payoff=payoff
    ), None
