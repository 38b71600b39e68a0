"""``ftkit show`` as text: the templated record with its trainable spans marked, the tokens of
each message, and where Max Tokens cuts. A pure renderer: every figure and every piece of text
comes from the ``RecordView``.

Each line of the templated text is printed after a ``| `` gutter, so that no content can pass
for a line of ftkit's own; within it, everything from data goes through ``safe()``: line breaks
of the text stay line breaks, every other control character shows as its escape (``\\x09``).
Trainable spans are in colour on a terminal and between ``[[`` and ``]]`` otherwise; tokens past
Max Tokens are dimmed, and a line of its own says where the cut falls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftkit.render.safe import safe

if TYPE_CHECKING:
    from ftkit.plan.show import RecordView

GUTTER = "| "
OPEN, CLOSE = "[[", "]]"
_GREEN, _DIM, _RED, _RESET = "\x1b[32;1m", "\x1b[2m", "\x1b[31m", "\x1b[0m"


def _body(view: RecordView, colour: bool) -> list[str]:
    """The templated text, marked, as output lines; the cut on a line of its own."""
    out: list[str] = []
    line: str | None = None  # the output line being written (None: none started)
    cut_shown = False
    for seg in view.segments:
        if not seg.kept and not cut_shown:
            cut_shown = True
            if line is not None:  # the cut falls inside a line: the rest goes on after the cut line
                out.append(GUTTER + line)
                line = None
            out.append(_cut_line(view, colour))
        for i, piece in enumerate(seg.text.split("\n")):
            if i:
                out.append(GUTTER + (line or ""))
                line = None
            if piece:
                text = safe(piece)
                if colour:
                    style = (_GREEN if seg.trainable else "") + ("" if seg.kept else _DIM)
                    text = f"{style}{text}{_RESET}" if style else text
                elif seg.trainable:
                    text = OPEN + text + CLOSE
                line = (line or "") + text
    if line is not None:  # text after the last line break (ChatML ends each message with one)
        out.append(GUTTER + line)
    return [row.rstrip() if row == GUTTER else row for row in out]


def _cut_line(view: RecordView, colour: bool) -> str:
    past = view.total - (view.cut_at or 0)
    if view.cut_at == 0:
        text = f'-- Max Tokens {view.max_tokens:,}: the whole record ({view.total:,} tokens) is left out (truncation "drop") --'
    else:
        text = f"-- Max Tokens {view.max_tokens:,} cuts here: the {past:,} tokens below are not trained on --"
    return f"{_RED}{text}{_RESET}" if colour else text


def _messages(view: RecordView) -> list[str]:
    head = f"  {'message':<9} {'role':<10} {'start':>7} {'tokens':>7} {'content':>8} {'template':>9} {'trainable':>10} {'kept':>7}"
    rows = [head]
    for m in view.messages:
        name = "default" if m.message is None else str(m.message)
        rows.append(
            f"  {name:<9} {safe(m.role)[:10]:<10} {m.start:>7,} {m.tokens:>7,} {m.content_tokens:>8,} {m.template_tokens:>9,} "
            f"{m.trainable:>10,} {m.trainable_kept:>7,}"
        )
    rows.append(f"  {'all':<9} {'':<10} {'':>7} {view.total:>7,} {'':>8} {'':>9} {view.trainable:>10,} {view.trainable_kept:>7,}")
    return rows


def _verdict(view: RecordView) -> str:
    limit = f'Max Tokens {view.max_tokens:,} (truncation "{view.truncation}")'
    if view.cut_at is None:
        return f"{limit}: the record is {view.total:,} tokens; nothing is cut, all {view.trainable:,} trainable tokens are kept."
    lost = view.trainable - view.trainable_kept
    return (f"{limit}: the record is {view.total:,} tokens, {view.total - view.max_tokens:,} over; "
            f"{view.trainable_kept:,} of its {view.trainable:,} trainable tokens are kept, {lost:,} lost.")  # fmt: skip


def render_show_text(view: RecordView, colour: bool = False) -> str:
    """The record as the model sees it, for people."""
    how = "trainable tokens in green" if colour else f"trainable tokens between {OPEN} and {CLOSE}"
    default = next((m for m in view.messages if m.message is None), None)
    out = [
        f"{safe(view.path)}:{view.line} as {safe(view.model)} sees it (chat template {safe(view.template)}, tokenizer {safe(view.tokenizer)})",
        f"the templated text exactly as the tokenizer receives it, each line after {GUTTER.strip()!r}; {how}"
        + (f"; the first message is the template's default system prompt ({default.tokens:,} tokens)" if default else ""),
        "",
        *_body(view, colour),
        "",
        "tokens per message (start: position in the templated sequence; kept: trainable tokens within Max Tokens):",
        *_messages(view),
        "",
        _verdict(view),
    ]
    if view.findings:
        out += ["", "findings:"] + [f"  {f.code} {f.severity} [{f.name}]{f' at {safe(f.pointer)}' if f.pointer else ''}: {safe(f.message)}"
                                    for f in view.findings]  # fmt: skip
    out += ["", "assumptions:"] + [f"  - {safe(a)}" for a in view.assumptions]
    return "\n".join(out)
