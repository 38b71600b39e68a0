"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no
external URL. A pure renderer: every figure comes from the ``QualityReport``; all text is escaped."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from html import escape

from ftkit.plan.params import fmt_number
from ftkit.plan.report_model import PrivacyKind, QualityReport, RuleFindings
from ftkit.render.plan import kept_text, tokenizer_text
from ftkit.render.report import charts
from ftkit.render.report.style import CSS

_SECTIONS = (
    ("validation", "Validation"),
    ("tokens", "Token statistics"),
    ("shares", "Token shares"),
    ("duplicates", "Duplicates"),
    ("overlap", "Evaluation overlap"),
    ("quality", "Quality"),
    ("privacy", "Privacy"),
    ("recommendation", "Recommendation"),
    ("cost", "Cost"),
    ("payoff", "Payoff"),  # only when asked for (--prompt-before)
    ("assumptions", "Assumptions"),
)


def _shown(r: QualityReport) -> list[tuple[str, str]]:
    """The sections this report has: payoff only when asked for, overlap only with --against."""
    has_payoff = r.cost is not None and r.cost.payoff is not None
    hidden = {"payoff"} if not has_payoff else set()
    if r.overlap is None:
        hidden.add("overlap")
    return [(key, title) for key, title in _SECTIONS if key not in hidden]


def e(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: int | float) -> str:
    return f"{value:,}"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _table(head: list[str], rows: list[list[str]], numeric: AbstractSet[int] = frozenset(), wrap: AbstractSet[int] = frozenset()) -> str:
    """A table (cells already escaped) that scrolls sideways when it is wider than the screen."""

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ' class="wrap"' if i in wrap else ""

    th = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="table-wrap"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _sev(severity: str, count: int = 1) -> str:
    return f'<span class="sev {e(severity) if count else "none"}">{e(severity) if count else "none found"}</span>'


def _rule(group: RuleFindings, open_: bool = False) -> str:
    """One rule: count, its documentation, and example lines."""
    found = f"{_n(group.count)} finding{'s' if group.count != 1 else ''}"
    parts = [
        f'<details class="rule" id="rule-{e(group.code)}"{" open" if open_ else ""}><summary>{e(group.code)} {e(group.name)} '
        f'{_sev(group.severity, group.count)} <span class="count">{found}</span></summary>',
        f'<p class="doc">{e(group.summary)}</p>',
    ]
    if group.remedy and group.count:
        parts.append(f'<p class="doc remedy">Remedy: {e(group.remedy)}</p>')
    for ex in group.examples:
        where = e(ex.path) + (f":{ex.line}" if ex.line is not None else "") + (f" at <code>{e(ex.pointer)}</code>" if ex.pointer else "")
        text = f'<pre class="line">{e(ex.text)}</pre>' if ex.text else ""
        parts.append(f'<div class="example"><div class="where">{where}</div><div class="msg">{e(ex.message)}</div>{text}</div>')
    if group.more:
        parts.append(f'<p class="more">… and {_n(group.more)} more (<code>ftkit validate</code> lists every one).</p>')
    parts.append("</details>")
    return "".join(parts)


def _header(r: QualityReport) -> str:
    files = ", ".join(f.path for f in r.validation.files) or "(no file)"
    v, s = r.validation, r.stats
    cards = [
        (_n(v.records), "records"),
        (_n(v.valid_records), "valid records"),
        (_n(v.by_severity["error"]), "errors"),
        (_n(v.by_severity["warning"]), "warnings"),
        (_n(s.tokens.total), "tokens (templated)"),
        (_n(s.tokens.trainable), "trainable tokens"),
        *(
            [(_n(s.tokens.trainable_kept), f"trainable within Max Tokens {_n(s.over_max_tokens.limit)}")]
            if s.tokens.trainable_kept < s.tokens.trainable
            else []
        ),
    ]
    if s.lengths:
        cards.append((_n(s.lengths.p95), "p95 tokens per record"))
    if r.cost is not None:
        cards.append((_n(r.cost.billed_tokens), f"billed tokens ({r.cost.epochs} epochs)"))
        cards.append(
            (f"{r.cost.cost} {r.cost.currency}", "training cost")
            if r.cost.cost is not None
            else ("unknown", "training cost: price not published (see Cost)")
        )
    card_html = "".join(
        f'<div class="card"><span class="num">{e(num)}</span><span class="label">{e(label)}</span></div>' for num, label in cards
    )
    toc = "".join(f'<a href="#{key}">{e(title)}</a>' for key, title in _shown(r))
    return (
        f"<header><h1>Data-quality report</h1>"
        f'<p class="meta">{e(files)} · profile {e(r.profile)} · model {e(r.model)} · goal {e(r.goal)}</p></header>'
        f'<div class="verdict {e(r.verdict.status)}" id="verdict"><strong>{e(r.verdict.headline)}</strong>{e(r.verdict.reason[:1].upper() + r.verdict.reason[1:])}</div>'
        f'<div class="cards">{card_html}</div><nav class="toc">{toc}</nav>'
    )


def _validation(r: QualityReport) -> str:
    v = r.validation
    files = _table(
        ["file", "records", "valid", "with errors"],
        [[e(f.path), _n(f.records), _n(f.valid_records), _n(f.records - f.valid_records)] for f in v.files],
        {1, 2, 3},
        {0},
    )
    files += "".join(f'<p class="shape"><strong>The file {e(f.path)}:</strong> {e(f.shape.message)}.</p>' for f in v.files if f.shape)
    sev = v.by_severity
    intro = (
        f"<p>{_n(v.records)} records, {_n(v.valid_records)} valid; {_count(sev['error'], 'error')}, {_count(sev['warning'], 'warning')}, "
        f"{_n(sev['info'])} info in all (duplicates and quality findings have their own sections below).</p>"
    )
    if not v.rules:
        return intro + files + '<p class="nothing">No finding from the platform\'s rules.</p>'
    summary = _table(
        ["code", "rule", "severity", "findings"],
        [[f'<a href="#rule-{e(g.code)}">{e(g.code)}</a>', e(g.name), _sev(g.severity), _n(g.count)] for g in v.rules],
        {3},
    )
    return intro + files + summary + "".join(_rule(g, open_=g.severity == "error") for g in v.rules)


def _tokens(r: QualityReport) -> str:
    s = r.stats
    if not s.lengths or not s.turns:
        return "<p>No valid record to measure.</p>"
    ln, over = s.lengths, s.over_max_tokens
    lengths = _table(
        ["min", "mean", "p50", "p90", "p95", "p99", "max"],
        [[_n(ln.min), _n(ln.mean), _n(ln.p50), _n(ln.p90), _n(ln.p95), _n(ln.p99), _n(ln.max)]],
        set(range(7)),
    )
    if over.records:
        cut = (
            f"<p><strong>{_n(over.records)} record{'s' if over.records != 1 else ''} over Max Tokens {_n(over.limit)}</strong>: "
            f"{_n(over.tokens_cut)} tokens would be cut (longest at lines {e(', '.join(map(str, over.lines[:10])))}).</p>"
        )
    else:
        cut = f'<p class="nothing">No record is over Max Tokens ({_n(over.limit)}).</p>'
    hist = charts.length_histogram(r.distribution.lengths, over.limit, ln.p95)
    turns = charts.turns_chart(r.distribution.turns)
    where = (
        f"the dashed line is Max Tokens ({_n(over.limit)})"
        if charts.limit_in_view(r.distribution.lengths, over.limit)
        else f"Max Tokens ({_n(over.limit)}) lies far to the right of the longest record: the arrow at the right edge points to it"
    )
    return (
        f"<p>{_n(s.records)} valid records, {_n(s.tokens.total)} tokens with the chat template, {_n(s.tokens.trainable)} of them "
        f"trainable (assistant). Turns per record: min {s.turns.min}, mean {s.turns.mean}, max {s.turns.max}.</p>"
        f"{lengths}{cut}<p>{e(kept_text(s))}</p>"
        f'<div class="charts"><figure>{hist}<figcaption>Tokens per record; {where}.</figcaption></figure>'
        f"<figure>{turns}<figcaption>Assistant replies per record.</figcaption></figure></div>"
    )


def _shares(r: QualityReport) -> str:
    t = r.token_shares
    if not t.total:
        return "<p>No tokens to share out.</p>"
    rows = [
        [f'<span class="swatch" style="background:{colour}"></span>{e(p.part)}', _n(p.tokens), f"{p.share:.1%}"]
        for p, colour in zip(t.parts, charts.PARTS)
    ]
    return f"<p>{e(t.system_sentence)}</p><figure>{charts.shares_chart(t.parts)}</figure>" + _table(
        ["part", "tokens", "share"], rows + [["<strong>all</strong>", f"<strong>{_n(t.total)}</strong>", "100%"]], {1, 2}
    )


def _duplicates(r: QualityReport) -> str:
    d = r.duplicates
    return (
        f"<p>{_count(d.exact.count, 'exact duplicate')} (byte for byte) and {_count(d.near.count, 'near-duplicate')} (the same text but for a few words, spacing or punctuation; <code>ftkit split --group-by near</code> keeps each group on one side). "
        "Copies weigh an example twice and can leak from training into validation.</p>"
        + _rule(d.exact, open_=bool(d.exact.count))
        + _rule(d.near, open_=bool(d.near.count))
    )


def _overlap(r: QualityReport) -> str:
    o = r.overlap
    if o is None:
        return ""
    files = ", ".join(f"{e(f.path)} ({_count(f.records, 'record')})" for f in o.files)
    return (
        f"<p>Compared with {files}: {_n(o.records)} of {_n(r.validation.records)} records copy an evaluation record or share a run "
        f"of {o.ngram} words with one. An example seen in training makes its evaluation score meaningless.</p>"
        + _rule(o.exact, open_=bool(o.exact.count))
        + _rule(o.ngrams, open_=bool(o.ngrams.count))
    )


def _quality(r: QualityReport) -> str:
    rows = [[e(g.code), e(g.name), _sev(g.severity, g.count), _n(g.count), e(g.summary)] for g in r.quality]
    return (
        "<p>Checks beyond the platform's rules (warnings; <code>ftkit validate</code> reports them too).</p>"
        + _table(["code", "rule", "severity", "findings", "what it means"], rows, {3}, {4})
        + "".join(_rule(g, open_=True) for g in r.quality if g.count)
    )


def _privacy(r: QualityReport) -> str:
    p = r.privacy

    def lines(k: PrivacyKind) -> str:
        text = "; ".join(f"{path}: {', '.join(map(str, numbers))}" for path, numbers in k.lines.items())
        return e(text + (f" and {_n(k.more_lines)} more" if k.more_lines else "")) or "—"

    rows = [[e(k.code), e(k.label), _sev(k.severity, k.count), _n(k.count), _n(k.records), lines(k)] for k in p.kinds]
    if p.findings:
        intro = (f"{_count(p.findings, 'finding')} on {_count(p.records, 'record')}. Values are masked; example lines show each one "
                 "replaced by its placeholder, as <code>ftkit fix --redact</code> writes them.")  # fmt: skip
    else:
        intro = '<span class="nothing">None of the kinds below was found in the contents.</span>'
    return (
        f"<p>{intro}</p>"
        + _table(["code", "kind", "severity", "findings", "records", "lines"], rows, {3, 4}, {5})
        + "".join(_rule(k, open_=True) for k in p.kinds if k.count)
    )


def _recommendation(r: QualityReport) -> str:
    rec = r.recommendation
    if rec is None:
        return f'<p class="note">No recommendation: {e(r.recommendation_note)}</p>'
    diff = f" (differs in {e('; '.join(rec.scheme_differences))})" if rec.scheme_differences else " (identical)"
    rows = [[e(a.label), f"<code>{e(name)}</code>", e(fmt_number(a.value)), e(a.reason)] for name, a in rec.parameters.items()]
    out = (
        f"<p>Goal <strong>{e(rec.goal)}</strong>: nearest documented scheme <strong>{e(rec.scheme_name)}</strong>{diff}. "
        f"{_n(rec.facts.train_records)} training and {_n(rec.facts.validation_records)} validation records.</p>"
        + _table(["parameter", "name", "value", "why"], rows, {2}, {3})
    )
    if rec.warnings:
        out += '<h3>Warnings</h3><ul class="plain">' + "".join(f"<li>{e(w)}</li>" for w in rec.warnings) + "</ul>"
    out += '<h3>Sources</h3><ul class="plain">' + "".join(f"<li><code>{e(k)}</code>: {e(v)}</li>" for k, v in rec.sources.items()) + "</ul>"
    return out


def _cost(r: QualityReport) -> str:
    c = r.cost
    if c is None:
        return f'<p class="note">No cost estimate: {e(r.cost_note)}</p>'
    price = f"{c.price_per_million} {c.currency} per million tokens" if c.price_per_million is not None else "not published"
    cost = f"<strong>{e(c.cost)} {e(c.currency)}</strong>" if c.cost is not None else f"unknown: {e(c.price_note)}"
    rows = [
        ["model", e(c.model)],
        ["training records", f"{_n(c.train_records)} ({_n(c.validation_records)} to validation, ratio {c.val_ratio:g})"],
        ["epochs", str(c.epochs)],
        ["Max Tokens", f"{_n(c.max_tokens)} ({_n(c.truncated_records)} training records truncated)"],
        ["train tokens per epoch", _n(c.train_tokens)],
        ["billed tokens", f"<strong>{_n(c.billed_tokens)}</strong> (= {c.epochs} × {_n(c.train_tokens)})"],
        ["validation tokens", f"{_n(c.validation_tokens)} (one pass; whether billed is not documented)"],
        ["price", e(price)],
        ["cost", cost],
    ]
    out = _table(["", ""], [[f"<strong>{k}</strong>", v] for k, v in rows], wrap={1})
    if c.self_hosted:
        out += "<h3>Self-hosted estimate</h3>" + _table(
            ["GPU", "GPU-hours", "price per hour", "as of", "cost"],
            [
                [e(h.gpu), e(h.gpu_hours), f"{e(h.price_per_gpu_hour)} {e(h.currency)}", e(h.as_of), f"{e(h.cost)} {e(h.currency)}"]
                for h in c.self_hosted
            ],
            {1, 2, 4},
        )
    return out + '<h3>Assumptions</h3><ul class="plain">' + "".join(f"<li>{e(a)}</li>" for a in c.assumptions) + "</ul>"


def _payoff(r: QualityReport) -> str:
    p = r.cost.payoff if r.cost is not None else None
    if p is None:
        return ""
    from ftkit.render import payoff

    intro = (
        f"<p>What fine-tuning <code>{e(p.model)}</code> saves when the tuned model is called with the shorter prompt: "
        "one call is the system prompt, one user message and one reply.</p>"
    )
    table = _table(["per call", "before", "after", "what it is"], [[e(x) for x in row] for row in payoff.rows(p)], {1, 2}, {3})
    answers = '<ul class="plain">' + "".join(f"<li>{e(line)}</li>" for line in payoff.summary(p)) + "</ul>"
    return intro + table + answers + '<h3>Assumptions</h3><ul class="plain">' + "".join(f"<li>{e(a)}</li>" for a in p.assumptions) + "</ul>"


def render_html(r: QualityReport) -> str:
    """The whole page."""
    bodies = {
        "validation": _validation(r),
        "tokens": _tokens(r),
        "shares": _shares(r),
        "duplicates": _duplicates(r),
        "overlap": _overlap(r),
        "quality": _quality(r),
        "privacy": _privacy(r),
        "recommendation": _recommendation(r),
        "cost": _cost(r),
        "payoff": _payoff(r),
        "assumptions": '<ul class="plain">'
        + "".join(f"<li>{e(a)}</li>" for a in [*r.stats.assumptions, tokenizer_text(r.stats.tokenizer)])
        + "</ul>",
    }
    titles = dict(_SECTIONS) | {
        "validation": "Validation findings by rule",
        "shares": "Token shares by role",
        "duplicates": "Duplicates and near-duplicates",
        "overlap": "Overlap with evaluation data",
        "quality": "Quality findings",
        "privacy": "Personal data and secrets",
        "recommendation": "Recommended LoRA parameters",
        "cost": "Cost estimate",
        "payoff": "Payoff at inference",
        "assumptions": "What the token numbers assume",
    }
    sections = "".join(f'<section class="block" id="{key}"><h2>{e(titles[key])}</h2>{bodies[key]}</section>' for key, _ in _shown(r))
    title = "ftkit report: " + ", ".join(f.path for f in r.validation.files)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        # Belt and braces: the browser refuses any fetch at all, so the page works offline or not at all.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        f"{_header(r)}{sections}"
        f"<footer>Made by {e(r.tool)} (report format {e(r.version)}). This page is self-contained: no script, no network.</footer>"
        "</body></html>\n"
    )
