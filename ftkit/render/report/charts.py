"""The report's charts, written as SVG by hand and inlined in the page: no script, no font file,
no network, no drawing library.

Units are points (72 to the inch, as the figure sizes were first chosen in inches); the ``<svg>``
has a viewBox and no size, so it scales to its box (``svg.chart`` in style.py). Text stays text in
the page's sans-serif fonts, so any script (Chinese included) shows. Numbers are written rounded
to two decimals: the same data gives the same bytes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftkit.plan.report_model import Share, TurnCount
    from ftkit.plan.stats import Bin

#: Colours shared with the page's CSS (style.py).
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BAR, LIMIT, P95 = "#3b82c4", "#c62828", "#8e6c00"
PARTS = ("#7b61b0", "#3b82c4", "#2e9d6a", "#b0b7bf")

FONT = 10  # points: tick labels and axis labels; the legend and annotations are 9
TICK = 3.5  # tick mark length, outward
HEADROOM = 1.05  # the tallest bar stops short of the top, as in a plotting library's default


def _f(x: float) -> str:
    """A coordinate as short, stable text: two decimals at most, no "-0"."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(x: float, y: float, s: str, *, size: float = FONT, fill: str = INK, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" fill="{fill}" text-anchor="{anchor}"{extra}>'
            f"{escape(s)}</text>")  # fmt: skip


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 0.8, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{colour}" stroke-width="{_f(width)}"{dashed}/>'


def _rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "", title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{fill}"{extra}>{tip}</rect>'


def to_svg(width: float, height: float, body: Sequence[str], label: str) -> str:
    """The drawing as an ``<svg>`` element to inline: a white card of ``width`` x ``height`` points,
    no size attributes (it scales to its box), described for screen readers by ``label``."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label="{escape(label)}" '
        f'class="chart" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>"
    )


def nice_ticks(lo: int, hi: int, most: int = 5) -> list[int]:
    """Integer ticks in [lo, hi], a 1-2-5 step apart (1, 2, 5, 10, 20, 50, ...): the smallest such
    step that leaves at most ``most + 1`` ticks (``most`` intervals), or the last one that leaves any."""
    last = range(lo, hi + 1)  # step 1
    for step in (mult * 10**power for power in itertools.count() for mult in (1, 2, 5)):
        first = -(-lo // step) * step  # lo rounded up to a multiple of the step
        if first > hi:
            break
        last = range(first, hi + 1, step)
        if len(last) <= most + 1:
            break
    return list(last)


@dataclass(frozen=True)
class _Axes:
    """The plotting box (points, y down) and the data range it shows (x: lo..hi, y: 0..top)."""

    left: float
    top: float
    right: float
    bottom: float
    x_lo: float
    x_hi: float
    y_top: float

    def x(self, value: float) -> float:
        return self.left + (value - self.x_lo) / (self.x_hi - self.x_lo) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - value / self.y_top * (self.bottom - self.top)


DIGIT = 5.6  # the width of a digit at FONT, about: room for labels is estimated (no font metrics here)


def _y_ticks(largest: int) -> list[int]:
    return nice_ticks(0, int(max(largest, 1) * HEADROOM), 5)


def _left_margin(largest: int) -> float:
    """Room for the y tick labels of counts up to ``largest`` (the widest: "1,000,000" for 999,999)
    and the axis label."""
    return 30 + DIGIT * len(f"{_y_ticks(largest)[-1]:,}")


def _frame(ax: _Axes, largest: int, x_ticks: list[tuple[float, str]], x_label: str) -> tuple[list[str], list[str]]:
    """The parts drawn under the bars (grid) and over them (spines, ticks, labels) of a bar chart
    of counts up to ``largest``: left and bottom spines, light horizontal grid lines."""
    under, over = [], []
    for v in _y_ticks(largest):
        y = ax.y(v)
        if v:
            under.append(_line(ax.left, y, ax.right, y, GRID))
        over.append(_line(ax.left - TICK, y, ax.left, y, MUTED))
        over.append(_text(ax.left - TICK - 3, y + FONT * 0.35, f"{v:,}", fill=MUTED, anchor="end"))
    for x, label in x_ticks:
        over.append(_line(x, ax.bottom, x, ax.bottom + TICK, MUTED))
        over.append(_text(x, ax.bottom + TICK + 3 + FONT * 0.8, label, fill=MUTED, anchor="middle"))
    over.append(_line(ax.left, ax.top, ax.left, ax.bottom, MUTED))
    over.append(_line(ax.left, ax.bottom, ax.right, ax.bottom, MUTED))
    centre_x, centre_y = (ax.left + ax.right) / 2, (ax.top + ax.bottom) / 2
    over.append(_text(centre_x, ax.bottom + TICK + 3 + FONT * 2.2, x_label, anchor="middle"))
    label_x = ax.left - TICK - 6 - DIGIT * len(f"{_y_ticks(largest)[-1]:,}")  # just left of the widest tick label
    over.append(_text(label_x, centre_y, "records", anchor="middle", extra=f' transform="rotate(-90 {_f(label_x)} {_f(centre_y)})"'))
    return under, over


def limit_in_view(bins: list[Bin], max_tokens: int) -> bool:
    """Whether Max Tokens is drawn to scale as a line; otherwise an arrow at the right edge
    points to it (drawn to scale, the data would shrink to a sliver)."""
    if not bins:
        return True
    lo, hi = bins[0].lo, bins[-1].hi + 1
    return max_tokens <= lo + 1.6 * (hi - lo)


def _triangle(x: float, y: float, size: float) -> str:
    """A right-pointing marker (">") centred on x, y."""
    h = size / 2
    points = f"{_f(x - h * 0.87)},{_f(y - h)} {_f(x + h * 0.87)},{_f(y)} {_f(x - h * 0.87)},{_f(y + h)}"
    return f'<polygon points="{points}" fill="{LIMIT}"/>'


P95_DASH, LIMIT_DASH = "1.4 2.3", "5.9 2.6"
HALO = ' stroke="white" stroke-width="3" paint-order="stroke"'  # readable over a bar or the p95 line


def _legend(x: float, y: float, entries: list[tuple[str, str]]) -> list[str]:
    """Entries side by side from ``x`` on the baseline ``y``: (kind, text), kind "p95", "limit" or
    "arrow". Text widths are estimated (no font metrics without a browser), generously."""
    parts = []
    for kind, text in entries:
        mid = y - 3
        if kind == "arrow":
            parts.append(_triangle(x + 9, mid, 11))
        else:
            colour, width, dash = (P95, 1.4, P95_DASH) if kind == "p95" else (LIMIT, 1.6, LIMIT_DASH)
            parts.append(_line(x, mid, x + 18, mid, colour, width, dash))
        parts.append(_text(x + 25, y, text, size=9))
        x += 25 + 5.3 * len(text) + 18
    return parts


def length_histogram(bins: list[Bin], max_tokens: int, p95: int | None) -> str:
    """Records per templated length, with Max Tokens as a dashed vertical line, or, when it is
    far to the right of the longest record, an arrow at the right edge pointing to it."""
    width, height = 547, 209
    largest = max((b.count for b in bins), default=1)
    lo, hi = (bins[0].lo, bins[-1].hi + 1) if bins else (0, 1)
    in_view = limit_in_view(bins, max_tokens)
    x_hi = max(hi, max_tokens) + (hi - lo) * 0.04 if in_view else hi
    # the top margin holds the legend (Max Tokens, always; p95 when known), one row above the axes
    ax = _Axes(_left_margin(largest), 29, width - 11, height - 36, lo, x_hi, max(largest, 1) * HEADROOM)
    room = (ax.right - ax.left) / (DIGIT * len(f"{math.floor(x_hi):,}") + 24)  # labels this wide fit so many times
    ticks = [(ax.x(v), f"{v:,}") for v in nice_ticks(lo, math.floor(x_hi), max(2, min(8, int(room))))]
    ticks = [(x, label) for x, label in ticks if x + DIGIT / 2 * len(label) <= width]  # not cut at the right edge
    under, over = _frame(ax, largest, ticks, "tokens per record (chat template included)")
    bars = [
        _rect(ax.x(b.lo), ax.y(b.count), ax.x(b.hi + 1) - ax.x(b.lo), ax.bottom - ax.y(b.count), BAR,
              ' class="bar" stroke="white" stroke-width="0.6"', f"{b.lo:,}–{b.hi:,} tokens: {b.count:,} records")
        for b in bins
    ]  # fmt: skip
    marks, legend = [], []
    if p95 is not None:
        marks.append(_line(ax.x(p95 + 0.5), ax.top, ax.x(p95 + 0.5), ax.bottom, P95, 1.4, P95_DASH))
        legend.append(("p95", f"p95 {p95:,}"))
    if in_view:
        marks.append(_line(ax.x(max_tokens), ax.top, ax.x(max_tokens), ax.bottom, LIMIT, 1.6, LIMIT_DASH))
        legend.append(("limit", f"Max Tokens {max_tokens:,}"))
    else:  # drawn to scale, the data would shrink to a sliver: an arrow at the edge points to it
        mid = (ax.top + ax.bottom) / 2
        marks.append(_triangle(ax.right, mid, 11))
        marks.append(_text(ax.right - 10, mid - 10, f"Max Tokens {max_tokens:,} →", size=9, fill=LIMIT, anchor="end", extra=HALO))
        legend.append(("arrow", f"Max Tokens {max_tokens:,}, far to the right: no record reaches it"))
    body = [*under, *bars, *marks, *over, *_legend(ax.left + 4, ax.top - 9, legend)]
    return to_svg(width, height, body, "Histogram of tokens per record with Max Tokens marked")


def turns_chart(turns: list[TurnCount]) -> str:
    """Records per number of assistant replies."""
    width, height = 331, 209
    largest = max((t.records for t in turns), default=1)
    slots = max(len(turns), 6)  # a lone bar stays a bar, not a wall
    ax = _Axes(_left_margin(largest), 7, width - 11, height - 36, -0.6, slots - 0.4, max(largest, 1) * HEADROOM)
    labels = [f"{t.turns}+" if t.or_more else str(t.turns) for t in turns]
    step = max(1, math.ceil(len(turns) / 10))  # at most ten labels
    ticks = [(ax.x(i), labels[i]) for i in range(0, len(turns), step)]
    under, over = _frame(ax, largest, ticks, "assistant replies per record")
    bars = [
        _rect(ax.x(i - 0.35), ax.y(t.records), ax.x(i + 0.35) - ax.x(i - 0.35), ax.bottom - ax.y(t.records), BAR,
              ' class="bar"', f"{labels[i]} replies: {t.records:,} records")
        for i, t in enumerate(turns)
    ]  # fmt: skip
    return to_svg(width, height, [*under, *bars, *over], "Bar chart of assistant replies per record")


def shares_chart(parts: list[Share]) -> str:
    """One stacked bar: where the templated tokens go (the table under it names the colours)."""
    width, height, pad = 547, 40, 1.5
    total = max(1.0, sum(p.share for p in parts))
    scale = (width - 2 * pad) / total
    body, left = [], pad
    for part, colour in zip(parts, PARTS):
        w = part.share * scale
        body.append(_rect(left, pad, w, height - 2 * pad, colour, title=f"{part.part}: {part.share:.1%} ({part.tokens:,} tokens)"))
        if part.share >= 0.07:
            body.append(_text(left + w / 2, height / 2 + 3.2, f"{part.share:.0%}", size=9, fill="white", anchor="middle",
                              extra=' font-weight="bold"'))  # fmt: skip
        left += w
    return to_svg(width, height, body, "Stacked bar of token shares by role")
