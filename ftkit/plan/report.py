"""Build a ``QualityReport`` from the per-record table: stats, recommendation and cost all read
the one table that ``build_table`` made in its single pass; nothing is tokenized again.

The only extra reading is of the few lines shown as examples (their first characters).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, cast

from ftkit import __version__
from ftkit.checks import Selector
from ftkit.findings import SEVERITY_RANK, Scan, Severity
from ftkit.models import file_summary
from ftkit.plan.report_examples import Located, examples_by_rule, snippets_of
from ftkit.plan.report_model import (
    DUPLICATE_CODES,
    OVERLAP_CODES,
    PRIVACY_CODES,
    QUALITY_CODES,
    Distribution,
    Duplicates,
    EvaluationFile,
    Example,
    Overlap,
    Privacy,
    PrivacyKind,
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
    from ftkit.scan.overlap import Overlaps
    from ftkit.tokens.table import RecordTable

Status = Literal["ready", "ready-with-warnings", "not-ready"]

#: Characters of a line shown with an example finding.
#: Bars of the length histogram (at most) and of the turns chart (the last is "this many or more").
LENGTH_BINS = 40
TURN_BARS = 20
#: Lines listed per kind of personal data (the rest are counted).
PRIVACY_LINES = 50


def build_report(
    table: RecordTable,
    profile: Profile,
    goal: str = "standard",
    price: Decimal | str | None = None,
    currency: str | None = None,
    selected: Selector | None = None,
    examples: int = 3,
    payoff: PayoffRequest | None = None,
    overlaps: Overlaps | None = None,
) -> QualityReport:
    """Everything ``ftkit report`` shows, from one ``RecordTable`` (built with ``keys=True`` and
    ``near_duplicates=True``). ``payoff`` adds the inference payoff to the cost (its own section);
    ``overlaps`` (``--against``: its FT503 and FT508 findings already in the table's scan) adds
    the overlap section.

    Raises ``ParameterError`` for an unusable ``price``; never prints, never exits.
    """
    from ftkit.checks import RULES, all_rules

    all_rules()
    scan = table.scan
    stats = compute_stats(table)
    violations, length_counts = _findings(table, selected or Selector(), examples)
    counts = Counter(f.code for _, f in scan.violations())
    counts.update(length_counts)
    shown = examples_by_rule(violations, examples)
    # A line with personal data or a secret is shown with them replaced by placeholders.
    private = {(path, f.line) for path, f in scan.violations() if f.code in PRIVACY_CODES}
    snippets = snippets_of(table, [e for group in shown.values() for e in group], profile.data.max_line_bytes, private)
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
        (g for c, g in groups.items() if c not in DUPLICATE_CODES + QUALITY_CODES + OVERLAP_CODES + PRIVACY_CODES),
        key=lambda g: (-SEVERITY_RANK[g.severity], g.code),
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
        overlap=_overlap(scan, overlaps, group) if overlaps is not None else None,
        privacy=_privacy(scan.violations(), [group(c) for c in PRIVACY_CODES]),
        recommendation=recommendation,
        recommendation_note=recommendation_note,
        cost=cost,
        cost_note=cost_note,
    )


def _overlap(scan: Scan, overlaps: Overlaps, group: Callable[[str], RuleFindings]) -> Overlap:
    lines = {(path, f.line) for path, f in scan.violations() if f.code in OVERLAP_CODES}
    return Overlap(
        files=[EvaluationFile(path=f.path, records=f.records) for f in overlaps.files],
        ngram=overlaps.ngram,
        records=len(lines),
        exact=group("FT503"),
        ngrams=group("FT508"),
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


def _privacy(violations: Iterable[Located], groups: list[RuleFindings]) -> Privacy:
    """The Privacy section: every FT6xx kind with its count, lines and (masked) examples."""
    from ftkit.policy.privacy import load_privacy

    rules = load_privacy()
    lines: dict[str, dict[str, set[int]]] = {code: {} for code in PRIVACY_CODES}
    for path, f in violations:
        if f.code in lines and f.line is not None:
            lines[f.code].setdefault(path, set()).add(f.line)
    kinds: list[PrivacyKind] = []
    every: set[tuple[str, int]] = set()
    for g in groups:
        name = rules.kind_of(g.code) or g.code
        kind = rules.kinds[name]
        on = lines[g.code]
        every.update((path, n) for path, found in on.items() for n in found)
        listed: dict[str, list[int]] = {}
        room = PRIVACY_LINES
        for path, found in on.items():
            if room > 0:
                listed[path] = sorted(found)[:room]
                room -= len(listed[path])
        records = sum(len(found) for found in on.values())
        kinds.append(PrivacyKind(**g.model_dump(), kind=name, label=kind.label, placeholder=kind.placeholder, records=records,
                                 lines=listed, more_lines=records - sum(len(v) for v in listed.values())))  # fmt: skip
    return Privacy(findings=sum(k.count for k in kinds), records=len(every), kinds=kinds)


def _findings(table: RecordTable, selected: Selector, examples: int) -> tuple[list[Located], dict[str, int]]:
    """The scan's findings plus the first FT401-FT403 ones (Max Tokens), and how many of each."""
    from ftkit.plan.cuts import length_counts, length_findings

    found = list(table.scan.violations())
    found += [(table.paths[file], f) for file, f in length_findings(table, selected, first=examples)]  # the rules' own messages
    return found, length_counts(table, selected)


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
