"""The report as Markdown (GitHub-flavoured tables), for pull requests and CI summaries.

A pure renderer, deterministic: the same data gives the same bytes (no date, paths as given)."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from ftkit.plan.params import fmt_number
from ftkit.plan.report_model import QualityReport, RuleFindings
from ftkit.render.plan import kept_text, tokenizer_text
from ftkit.render.safe import safe


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _n(value: int | float) -> str:
    return f"{value:,}"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # what could open raw HTML in CommonMark
_ENTITY = re.compile(r"&(?=#?\w+;)")


def prose(text: object) -> str:
    """Text from data as Markdown prose: line breaks as spaces, control characters escaped, and
    anything that could open raw HTML written as text (``<img onerror=...>`` shows; it does not
    run). ``a < b`` and ``<|im_end|>`` stay as they are."""
    flat = safe(re.sub(r"\s*[\r\n]+\s*", " ", str(text)))
    return _TAG.sub("&lt;", _ENTITY.sub("&amp;", flat))


def cell(text: object) -> str:
    """Text safe inside a table cell: as ``prose``, with pipes and backslashes escaped."""
    return prose(text).replace("\\", "\\\\").replace("|", "\\|")


def code(text: str) -> str:
    """An inline code span that holds any text: the fence is longer than any run of backticks in it."""
    text = safe(re.sub(r"[\r\n]+", " ", text))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table(head: list[str], rows: list[list[str]], right: AbstractSet[int] = frozenset()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(head))]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |", *("| " + " | ".join(row) + " |" for row in rows), ""]


def _rule(g: RuleFindings) -> list[str]:
    out = [f"### {g.code} {g.name} ({g.severity}, {_n(g.count)} finding{'s' if g.count != 1 else ''})", "", g.summary, ""]
    if g.remedy and g.count:
        out += [f"Remedy: {g.remedy}", ""]
    for ex in g.examples:
        where = prose(ex.path) + (f":{ex.line}" if ex.line is not None else "") + (f" at {code(ex.pointer)}" if ex.pointer else "")
        out.append(f"- {where}: {cell(ex.message)}")
        if ex.text:
            out.append(f"  {code(ex.text)}")
    if g.more:
        out.append(f"- … and {_n(g.more)} more (`ftkit validate` lists every one)")
    return [*out, ""]


def _validation(r: QualityReport) -> list[str]:
    v = r.validation
    sev = v.by_severity
    out = [
        "## Validation findings by rule",
        "",
        f"{_n(v.records)} records, {_n(v.valid_records)} valid; {_count(sev['error'], 'error')}, {_count(sev['warning'], 'warning')}, "
        f"{_n(sev['info'])} info in all (duplicates and quality findings have their own sections).",
        "",
    ]
    out += _table(
        ["file", "records", "valid", "with errors"],
        [[cell(f.path), _n(f.records), _n(f.valid_records), _n(f.records - f.valid_records)] for f in v.files],
        {1, 2, 3},
    )
    out += [f"**The file {prose(f.path)}:** {prose(f.shape.message)}." for f in v.files if f.shape is not None]
    if any(f.shape is not None for f in v.files):
        out.append("")
    if not v.rules:
        return [*out, "No finding from the platform's rules.", ""]
    out += _table(["code", "rule", "severity", "findings"], [[g.code, g.name, g.severity, _n(g.count)] for g in v.rules], {3})
    for g in v.rules:
        out += _rule(g)
    return out


def _tokens(r: QualityReport) -> list[str]:
    s = r.stats
    out = ["## Token statistics", ""]
    if not s.lengths or not s.turns:
        return [*out, "No valid record to measure.", ""]
    ln, over = s.lengths, s.over_max_tokens
    out += [
        f"{_n(s.records)} valid records, {_n(s.tokens.total)} tokens with the chat template, {_n(s.tokens.trainable)} of them "
        f"trainable (assistant). Turns per record: min {s.turns.min}, mean {s.turns.mean}, max {s.turns.max}.",
        "",
    ]
    out += _table(
        ["min", "mean", "p50", "p90", "p95", "p99", "max"],
        [[_n(ln.min), _n(ln.mean), _n(ln.p50), _n(ln.p90), _n(ln.p95), _n(ln.p99), _n(ln.max)]],
        set(range(7)),
    )
    if over.records:
        out += [
            f"**{_n(over.records)} records over Max Tokens {_n(over.limit)}**: {_n(over.tokens_cut)} tokens would be cut "
            f"(longest at lines {', '.join(map(str, over.lines[:10]))}).",
            "",
        ]
    else:
        out += [f"No record is over Max Tokens ({_n(over.limit)}).", ""]
    out += [kept_text(s), ""]
    peak = max((b.count for b in r.distribution.lengths), default=0) or 1
    out += _table(
        ["tokens per record", "records", ""],
        [
            [_n(b.lo) if b.lo == b.hi else f"{_n(b.lo)}-{_n(b.hi)}", _n(b.count), "█" * round(30 * b.count / peak)]
            for b in r.distribution.lengths
        ],
        {1},
    )
    out += _table(
        ["assistant replies", "records"], [[f"{t.turns}+" if t.or_more else str(t.turns), _n(t.records)] for t in r.distribution.turns], {1}
    )
    return out


def _shares(r: QualityReport) -> list[str]:
    t = r.token_shares
    out = ["## Token shares by role", "", t.system_sentence, ""]
    return out + _table(
        ["part", "tokens", "share"],
        [[p.part, _n(p.tokens), f"{p.share:.1%}"] for p in t.parts] + [["**all**", f"**{_n(t.total)}**", "100%"]],
        {1, 2},
    )


def _duplicates(r: QualityReport) -> list[str]:
    d = r.duplicates
    out = [
        "## Duplicates and near-duplicates",
        "",
        f"{_n(d.exact.count)} exact duplicate{_s(d.exact.count)} (byte for byte) and {_n(d.near.count)} near-duplicate{_s(d.near.count)} "
        "(the same text but for a few words, spacing or punctuation; `ftkit split --group-by near` keeps each group on one side).",
        "",
    ]
    return out + _rule(d.exact) + _rule(d.near)


def _overlap(r: QualityReport) -> list[str]:
    o = r.overlap
    if o is None:  # only with --against
        return []
    files = ", ".join(f"{cell(f.path)} ({_count(f.records, 'record')})" for f in o.files)
    out = [
        "## Overlap with evaluation data",
        "",
        f"Compared with {files}: {_n(o.records)} of {_n(r.validation.records)} records copy an evaluation record or share a run "
        f"of {o.ngram} words with one. An example seen in training makes its evaluation score meaningless.",
        "",
    ]
    return out + _rule(o.exact) + _rule(o.ngrams)


def _quality(r: QualityReport) -> list[str]:
    out = ["## Quality findings", "", "Checks beyond the platform's rules (warnings; `ftkit validate` reports them too).", ""]
    out += _table(["code", "rule", "findings", "what it means"], [[g.code, g.name, _n(g.count), cell(g.summary)] for g in r.quality], {2})
    for g in r.quality:
        if g.count:
            out += _rule(g)
    return out


def _lines(lines: dict[str, list[int]], more: int) -> str:
    text = "; ".join(f"{path}: {', '.join(map(str, numbers))}" for path, numbers in lines.items())
    return text + (f" and {_n(more)} more" if more else "")


def _privacy(r: QualityReport) -> list[str]:
    p = r.privacy
    if p.findings:
        intro = (f"{_count(p.findings, 'finding')} on {_count(p.records, 'record')}. Values are masked; example lines show each one "
                 "replaced by its placeholder, as `ftkit fix --redact` writes them.")  # fmt: skip
    else:
        intro = "None of the kinds below was found in the contents."
    out = ["## Personal data and secrets", "", intro, ""]
    out += _table(
        ["code", "kind", "findings", "records", "lines"],
        [[k.code, k.label, _n(k.count), _n(k.records), cell(_lines(k.lines, k.more_lines)) or "—"] for k in p.kinds],
        {2, 3},
    )
    for k in p.kinds:
        if k.count:
            out += _rule(k)
    return out


def _recommendation(r: QualityReport) -> list[str]:
    rec = r.recommendation
    out = ["## Recommended LoRA parameters", ""]
    if rec is None:
        return [*out, f"No recommendation: {r.recommendation_note}", ""]
    diff = f" (differs in {'; '.join(rec.scheme_differences)})" if rec.scheme_differences else " (identical)"
    out += [
        f"Goal **{rec.goal}**: nearest documented scheme **{rec.scheme_name}**{diff}. "
        f"{_n(rec.facts.train_records)} training and {_n(rec.facts.validation_records)} validation records.",
        "",
    ]
    out += _table(
        ["parameter", "value", "why"],
        [[f"{a.label} ({code(name)})", fmt_number(a.value), cell(a.reason)] for name, a in rec.parameters.items()],
        {1},
    )
    if rec.warnings:
        out += ["Warnings:", "", *(f"- {w}" for w in rec.warnings), ""]
    return out + ["Sources:", "", *(f"- {code(k)}: {v}" for k, v in rec.sources.items()), ""]


def _cost(r: QualityReport) -> list[str]:
    c = r.cost
    out = ["## Cost estimate", ""]
    if c is None:
        return [*out, f"No cost estimate: {r.cost_note}", ""]
    price = f"{c.price_per_million} {c.currency} per million tokens" if c.price_per_million is not None else "not published"
    cost = f"**{c.cost} {c.currency}**" if c.cost is not None else f"unknown: {c.price_note}"
    rows = [
        ["model", c.model],
        ["training records", f"{_n(c.train_records)} ({_n(c.validation_records)} to validation, ratio {c.val_ratio:g})"],
        ["epochs", str(c.epochs)],
        ["Max Tokens", f"{_n(c.max_tokens)} ({_n(c.truncated_records)} training records truncated)"],
        ["train tokens per epoch", _n(c.train_tokens)],
        ["billed tokens", f"**{_n(c.billed_tokens)}** (= {c.epochs} × {_n(c.train_tokens)})"],
        ["validation tokens", f"{_n(c.validation_tokens)} (one pass; whether billed is not documented)"],
        ["price", price],
        ["cost", cost],
    ]
    out += _table(["", ""], [[k, cell(v)] for k, v in rows])
    if c.self_hosted:
        out += ["Self-hosted estimate:", ""]
        out += _table(
            ["GPU", "GPU-hours", "price per hour", "as of", "cost"],
            [[h.gpu, str(h.gpu_hours), f"{h.price_per_gpu_hour} {h.currency}", h.as_of, f"{h.cost} {h.currency}"] for h in c.self_hosted],
            {1, 2, 4},
        )
    return out + ["Assumptions:", "", *(f"- {a}" for a in c.assumptions), ""]


def _payoff(r: QualityReport) -> list[str]:
    """Only when the payoff was asked for (--prompt-before): reports without it are unchanged."""
    p = r.cost.payoff if r.cost is not None else None
    if p is None:
        return []
    from ftkit.render import payoff

    out = [
        "## Payoff at inference",
        "",
        f"What fine-tuning {code(safe(p.model))} saves when the tuned model is called with the shorter prompt: one call is "
        "the system prompt, one user message and one reply.",
        "",
    ]
    out += _table(
        ["per call", "before", "after", "what it is"],
        [[cell(safe(x)) for x in row] for row in payoff.rows(p)],
        {1, 2},
    )
    out += [f"- {cell(safe(line))}" for line in payoff.summary(p)]
    return [*out, "", "Assumptions:", "", *(f"- {cell(safe(a))}" for a in p.assumptions), ""]


def render_markdown(r: QualityReport) -> str:
    """The whole report as Markdown, ending with one newline."""
    files = ", ".join(prose(f.path) for f in r.validation.files) or "(no file)"
    out = [
        "# Data-quality report",
        "",
        f"{files} · profile {prose(r.profile)} · model {prose(r.model)} · goal {r.goal}",
        "",
        f"> **{r.verdict.headline}:** {r.verdict.reason}",
        "",
    ]
    for part in (_validation, _tokens, _shares, _duplicates, _overlap, _quality, _privacy, _recommendation, _cost, _payoff):
        out += part(r)
    out += [
        "## What the token numbers assume",
        "",
        *(f"- {prose(a)}" for a in r.stats.assumptions),
        f"- {prose(tokenizer_text(r.stats.tokenizer))}",
        "",
        f"Made by {r.tool} (report format {r.version}).",
    ]
    return "\n".join(out) + "\n"
