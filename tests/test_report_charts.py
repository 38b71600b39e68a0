"""The report's charts (hand-written SVG, ftkit/render/report/charts.py): well-formed XML, the
labels and bars the data asks for, escaped text, the same bytes for the same data, 1-2-5 ticks.
What they look like is checked in a real browser by test_report_browser.py."""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from ftkit.cli import cli
from ftkit.plan.report_model import Share, TurnCount
from ftkit.plan.stats import Bin
from ftkit.render.report import charts

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg" and root.get("class") == "chart" and root.get("role") == "img"
    assert root.get("viewBox") and root.get("width") is None and root.get("height") is None  # scales to its box
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]


def bins(lo: int, width: int, counts: list[int]) -> list[Bin]:
    return [Bin(lo=lo + i * width, hi=lo + (i + 1) * width - 1, count=n) for i, n in enumerate(counts)]


def test_the_report_charts_are_svg_with_their_labels(tmp_path: Path) -> None:
    lines = [json.dumps({"messages": [{"role": "user", "content": f"Question {i}: " + "why " * i},
                                      {"role": "assistant", "content": f"Because {i}."}]}) for i in range(30)]  # fmt: skip
    source = tmp_path / "data.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = CliRunner().invoke(cli, ["report", str(source), "--format", "html"]).stdout
    data = json.loads(CliRunner().invoke(cli, ["report", str(source), "--format", "json"]).stdout)
    hist, turns, shares = (parse(svg) for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S))
    words = texts(hist)
    assert "records" in words and "tokens per record (chat template included)" in words
    # the records are short: Max Tokens (4,096) is far to the right, so an arrow points to it
    assert "Max Tokens 4,096 →" in words and "Max Tokens 4,096, far to the right: no record reaches it" in words
    assert f"p95 {data['stats']['lengths']['p95']:,}" in words
    assert len(bars(hist)) == len(data["distribution"]["lengths"])
    assert len(bars(turns)) == len(data["distribution"]["turns"]) and "assistant replies per record" in texts(turns)
    assert len(list(shares.iter(f"{NS}title"))) == len(data["token_shares"]["parts"])


def test_max_tokens_in_view_is_a_dashed_line() -> None:
    root = parse(charts.length_histogram(bins(1000, 200, [5, 9, 14, 9, 5, 2]), 2800, 1900))
    words = texts(root)
    assert "Max Tokens 2,800" in words and "p95 1,900" in words and not any("→" in w for w in words)
    dashed = [line for line in root.iter(f"{NS}line") if line.get("stroke") == charts.LIMIT]
    assert len(dashed) == 2 and all(line.get("stroke-dasharray") for line in dashed)  # the line and its legend sample
    assert len(bars(root)) == 6
    assert {"1,000", "1,500", "2,000", "2,500", "0", "5", "10"} <= set(words)  # thousands separators, 1-2-5 ticks


def test_seven_digit_counts_and_many_turns() -> None:
    root = parse(charts.length_histogram(bins(12, 9, [1234567, 2345678, 999999, 1]), 32768, None))
    assert {"2,000,000", "500,000", "Max Tokens 32,768 →"} <= set(texts(root))
    almost = parse(charts.turns_chart([TurnCount(turns=1, records=999_999)]))
    assert "1,000,000" in texts(almost)  # the top tick, wider than the count: the margin is sized from it
    many = [TurnCount(turns=t, records=10**6 // t) for t in range(1, 25)] + [TurnCount(turns=25, records=9, or_more=True)]
    turns = parse(charts.turns_chart(many))
    labels = [w for w in texts(turns) if re.fullmatch(r"\d+\+?", w) and "," not in w]
    assert len(bars(turns)) == 25 and "1,000,000" in texts(turns) and 2 <= len([w for w in labels if int(w.rstrip("+")) > 0]) <= 15


def test_data_text_is_escaped() -> None:
    evil = "<script>alert('x')</script> & co"
    svg = charts.shares_chart([Share(part=evil, tokens=3, share=0.75), Share(part="user", tokens=1, share=0.25)])
    assert "<script>" not in svg and "&amp; co" in svg
    root = parse(svg)
    assert "".join(next(root.iter(f"{NS}title")).itertext()).startswith(evil)  # the browser shows the text as it is
    assert texts(root) == ["75%", "25%"]


def test_empty_and_lone_data_draw() -> None:
    for svg in (charts.length_histogram([], 4096, None), charts.turns_chart([]), charts.shares_chart([]),
                charts.length_histogram(bins(100, 1, [1]), 4096, None), charts.turns_chart([TurnCount(turns=1, records=1)])):  # fmt: skip
        parse(svg)


def test_same_data_same_bytes() -> None:
    def draw() -> str:
        return charts.length_histogram(bins(7, 13, [3, 1, 4, 1, 5, 9, 2, 6]), 100, 60) + charts.turns_chart([TurnCount(turns=2, records=3)])

    assert draw() == draw()


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(2, 10))
def test_nice_ticks_are_a_1_2_5_step_apart(lo: int, span: int, most: int) -> None:
    hi = lo + span
    ticks = charts.nice_ticks(lo, hi, most)
    assert ticks and lo <= ticks[0] and ticks[-1] <= hi
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) <= 1  # evenly spaced
    if steps:
        step = steps.pop()
        assert int(str(step).rstrip("0")) in (1, 2, 5) and ticks[0] % step == 0
        assert len(ticks) <= most + 1  # at most ``most`` intervals
        assert step == 1 or count_multiples(smaller(step), lo, hi) > most + 1  # with the smallest such step


def smaller(step: int) -> int:
    """The 1-2-5 step before ``step``."""
    digits = str(step)
    return {"1": 5 * 10 ** (len(digits) - 2), "2": 10 ** (len(digits) - 1), "5": 2 * 10 ** (len(digits) - 1)}[digits[0]]


def count_multiples(step: int, lo: int, hi: int) -> int:
    return hi // step - (lo - 1) // step
