"""The report's charts: drawn by matplotlib at build time (Agg, no pyplot, no global state) and
inlined as SVG text, so the page needs no script, no font file and no network.

Text stays text (``svg.fonttype = "none"``): the browser draws it with the page's fonts, so any
script (Chinese included) shows, and the file stays small. matplotlib is imported here only.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftkit.plan.report_model import Share, TurnCount
    from ftkit.plan.stats import Bin

#: Colours shared with the page's CSS (style.py).
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BAR, LIMIT, P95 = "#3b82c4", "#c62828", "#8e6c00"
PARTS = ("#7b61b0", "#3b82c4", "#2e9d6a", "#b0b7bf")

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "ftkit-report",  # stable element ids: the same data gives the same bytes
    "font.family": "sans-serif",
    "font.size": 10,
    "text.color": INK,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": GRID,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
}


def warm() -> None:
    """Import matplotlib and draw one empty SVG (its font set-up), ahead of the real charts."""
    with _style():
        to_svg(_figure(1, 1), "warm-up")
        _thousands(_figure(1, 1).add_subplot())


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC), warnings.catch_warnings():  # type: ignore[arg-type]  # the stubs type rc keys as one Literal of every name
        warnings.simplefilter("ignore")  # e.g. "Glyph missing from font": the browser draws the text
        yield


def _figure(width: float, height: float, left: float = 0.1, bottom: float = 0.1, top: float = 0.1, right: float = 0.15) -> Any:
    """A figure of ``width`` x ``height`` inches whose axes leave these margins (inches) for tick
    labels, axis labels and the legend. Fixed margins, not a layout engine: constrained layout
    draws every chart twice, half the report's drawing time."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)
    return fig


def _left_margin(largest: float) -> float:
    """Room for the y tick labels of counts up to ``largest`` ("12,345") and the axis label."""
    return 0.42 + 0.075 * len(f"{largest:,.0f}")


def to_svg(fig: Any, label: str) -> str:
    """The figure as an ``<svg>`` element to inline: no XML prolog, no metadata, scales to its box."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    from html import escape

    return re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"', rf'<svg\1 role="img" aria-label="{escape(label)}" class="chart"', svg, count=1
    ).strip()


def _thousands(ax: Any, x: bool = True) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if x:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))


def limit_in_view(bins: list[Bin], max_tokens: int) -> bool:
    """Whether Max Tokens is drawn to scale as a line; otherwise an arrow at the right edge
    points to it (drawn to scale, the data would shrink to a sliver)."""
    if not bins:
        return True
    lo, hi = bins[0].lo, bins[-1].hi + 1
    return max_tokens <= lo + 1.6 * (hi - lo)


def length_histogram(bins: list[Bin], max_tokens: int, p95: int | None) -> str:
    """Records per templated length, with Max Tokens as a dashed vertical line, or, when it is
    far to the right of the longest record, an arrow at the right edge pointing to it."""
    with _style():
        # the top margin holds the legend (Max Tokens, always; p95 when known), one row above the axes
        fig = _figure(7.6, 2.9, left=_left_margin(max((b.count for b in bins), default=1)), bottom=0.5, top=0.4)
        ax = fig.add_subplot()
        ax.bar(
            [b.lo for b in bins],
            [b.count for b in bins],
            width=[b.hi - b.lo + 1 for b in bins],
            align="edge",
            color=BAR,
            edgecolor="white",
            linewidth=0.6,
        )
        lo, hi = bins[0].lo, bins[-1].hi + 1
        if p95 is not None:
            ax.axvline(p95 + 0.5, color=P95, linestyle=":", linewidth=1.4, label=f"p95 {p95:,}")
        if limit_in_view(bins, max_tokens):
            ax.axvline(max_tokens, color=LIMIT, linestyle="--", linewidth=1.6, label=f"Max Tokens {max_tokens:,}")
            ax.set_xlim(lo, max(hi, max_tokens) + (hi - lo) * 0.04)
        else:  # drawn to scale, the data would shrink to a sliver: an arrow at the edge points to it
            ax.set_xlim(lo, hi)
            ax.plot([1.0], [0.5], marker=">", markersize=11, color=LIMIT, transform=ax.transAxes, clip_on=False, linestyle="none",
                    label=f"Max Tokens {max_tokens:,}, far to the right: no record reaches it")  # fmt: skip
            ax.annotate(f"Max Tokens {max_tokens:,} →", xy=(1.0, 0.5), xycoords="axes fraction", xytext=(-10, 10),
                        textcoords="offset points", ha="right", va="bottom", color=LIMIT, fontsize=9)  # fmt: skip
        ax.set_xlabel("tokens per record (chat template included)")
        ax.set_ylabel("records")
        _thousands(ax)
        if ax.get_legend_handles_labels()[0]:
            box = ax.get_position()
            fig.legend(frameon=False, loc="lower left", bbox_to_anchor=(box.x0, box.y1), ncols=2, fontsize=9, borderaxespad=0.1)
        return to_svg(fig, "Histogram of tokens per record with Max Tokens marked")


def turns_chart(turns: list[TurnCount]) -> str:
    """Records per number of assistant replies."""
    with _style():
        fig = _figure(4.6, 2.9, left=_left_margin(max((t.records for t in turns), default=1)), bottom=0.5)
        ax = fig.add_subplot()
        labels = [f"{t.turns}+" if t.or_more else str(t.turns) for t in turns]
        ax.bar(range(len(turns)), [t.records for t in turns], color=BAR, width=0.7)
        ax.set_xlim(-0.6, max(len(turns), 6) - 0.4)  # a lone bar stays a bar, not a wall
        step = max(1, len(turns) // 10)
        ax.set_xticks(range(0, len(turns), step), labels[::step])
        ax.set_xlabel("assistant replies per record")
        ax.set_ylabel("records")
        _thousands(ax, x=False)
        return to_svg(fig, "Bar chart of assistant replies per record")


def shares_chart(parts: list[Share]) -> str:
    """One stacked bar: where the templated tokens go (the table under it names the colours)."""
    with _style():
        fig = _figure(7.6, 0.55, left=0.02, bottom=0.02, top=0.02, right=0.02)
        ax = fig.add_subplot()
        left = 0.0
        for part, colour in zip(parts, PARTS):
            ax.barh([0], [part.share], left=left, color=colour, height=1.0)
            if part.share >= 0.07:
                ax.text(
                    left + part.share / 2, 0, f"{part.share:.0%}", ha="center", va="center", color="white", fontsize=9, fontweight="bold"
                )
            left += part.share
        ax.set_xlim(0, max(1.0, left))
        ax.set_ylim(-0.5, 0.5)
        ax.set_yticks([])
        ax.set_xticks([])
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        return to_svg(fig, "Stacked bar of token shares by role")
