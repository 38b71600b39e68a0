"""The dataset facts kept small (ftkit.scan.dataset, ftkit.scan.dedup): what short hashes propose
is decided on the records' bytes, and the compact columns give back exactly what they were given."""

from __future__ import annotations

import json
import statistics
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.scan import dedup, parallel
from ftkit.scan.dedup import Lines


def record(user: str, reply: str, **extra: object) -> str:
    return json.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}], **extra})


def found(path: Path, code: str, **options: object) -> list[tuple[int | None, str]]:
    report = ftkit.validate(path, **options)  # type: ignore[arg-type]  # keyword options of validate
    return [(v.line, v.message) for v in report.violations if v.code == code]


def test_same_messages_in_other_bytes_are_not_copies(tmp_path: Path) -> None:
    # every line has the same context and reply (so the same short hashes); only line 4 is a copy
    lines = [record("Hi", "Hello"), record("Hi", "Hello", id=1), record("Hi", "Hello").replace(": ", ":"), record("Hi", "Hello")]
    path = tmp_path / "same.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert [line for line, _ in found(path, "FT501")] == [4]
    assert "line 1" in found(path, "FT501")[0][1]
    assert found(path, "FT505") == []


def test_copies_are_compared_as_the_reader_gives_them(tmp_path: Path) -> None:
    # a BOM and CRs are not part of a record; a record over several lines is its lines joined
    pretty = json.dumps(json.loads(record("Q", "A")), indent=1)
    text = "\ufeff" + record("Hi", "Hello") + "\r\n" + pretty + "\n" + record("Hi", "Hello") + "\n" + pretty + "\r\n" + record("Q", "A") + "\n"
    path = tmp_path / "reader.jsonl"
    path.write_bytes(text.encode())
    span = pretty.count("\n") + 1
    second = 2 + span
    copies = found(path, "FT501", ignore="FT008")  # a record over several lines has no dataset facts otherwise
    assert [line for line, _ in copies] == [second, second + 1]
    assert "line 1" in copies[0][1] and "line 2" in copies[1][1]


def test_copies_in_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "array.json"
    path.write_text("[\n" + ",\n".join([record("a", "b"), record("c", "d"), record("a", "b")]) + "\n]\n")
    copies = found(path, "FT501")
    assert [line for line, _ in copies] == [4] and "line 2" in copies[0][1]


def test_conflicting_answers_and_copies_across_the_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [record(f"q{i % 7}", f"a{i % 3}") for i in range(60)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    one, two = ftkit.validate(path, jobs=1), ftkit.validate(path, jobs=2)
    assert one == two
    monkeypatch.setattr(dedup, "NUMPY_FROM", 0)  # the numpy paths find the same
    assert ftkit.validate(path, jobs=2) == one
    first: dict[str, str] = {}
    conflicting = [i + 1 for i in range(60) if first.setdefault(f"q{i % 7}", f"a{i % 3}") != f"a{i % 3}"]
    assert [v.line for v in one.violations if v.code == "FT505"] == conflicting
    assert [v.line for v in one.violations if v.code == "FT501"] == list(range(22, 61))


def test_long_replies_keep_their_exact_length(tmp_path: Path) -> None:
    lengths = [70_000 + 37 * i for i in range(21)] + [5_000 + i for i in range(8)] + [65_535, 68_000]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(record(f"q{i}", "x" * n) + "\n" for i, n in enumerate(lengths)))
    median = statistics.median(lengths)
    short = found(path, "FT506")
    assert [line for line, _ in short] == [22 + i for i in range(8)]
    assert f"({median:g})" in short[0][1] and "is 5000 characters" in short[0][1]


keys = st.lists(st.integers(-(1 << 63), (1 << 63) - 1) | st.sampled_from([0, 1, -1, 1 << 62, -(1 << 62)]), max_size=80)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=keys)
def test_repeated_rows_numpy_and_dict_agree(values: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    column = array("q", values)
    expected = [row for row, key in enumerate(values) if values.count(key) > 1]
    assert dedup.repeated_rows(column) == expected
    monkeypatch.setattr(dedup, "NUMPY_FROM", 0)
    assert dedup.repeated_rows(column) == expected
    monkeypatch.undo()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lengths=st.lists(st.integers(0, 200_000), min_size=1, max_size=60), limit=st.floats(0, 100_000))
def test_median_and_below_with_long_values(lengths: list[int], limit: float, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = array("H", [min(n, 0xFFFF) for n in lengths])
    long = {row: n for row, n in enumerate(lengths) if n >= 0xFFFF}
    for numpy in (False, True):
        if numpy:
            monkeypatch.setattr(dedup, "NUMPY_FROM", 0)
        assert dedup.median(stored, long) == statistics.median(lengths)
        if limit <= 0xFFFF:
            assert dedup.below(stored, limit) == [row for row, n in enumerate(lengths) if n < limit]
    monkeypatch.undo()


@given(steps=st.lists(st.integers(0, 5), min_size=0, max_size=50), cut=st.integers(0, 50))
def test_lines_give_back_every_line(steps: list[int], cut: int) -> None:
    numbers, line = [], 0
    for step in steps:  # 0: another record on the same line (JSON array elements)
        line += step if numbers else step + 1
        numbers.append(line)
    cut = min(cut, len(numbers))
    first, second = Lines(), Lines()
    for n in numbers[:cut]:
        first.add(n)
    for n in numbers[cut:]:
        second.add(n)
    first.merge(second.export())
    assert [first[row] for row in range(len(first))] == numbers
    assert list(first.array()) == numbers


def test_column_sum_does_not_wrap() -> None:
    import polars as pl

    from ftkit.tokens.table import column_sum

    big = pl.Series("total", [2**31 - 1] * 3, dtype=pl.Int32)
    assert column_sum(big) == 3 * (2**31 - 1)
    assert column_sum(big.head(0)) == 0


@given(values=st.lists(st.integers(0, 40_000), min_size=1, max_size=200), bins=st.integers(1, 15))
def test_histogram_of_sorted_values_counts_each_bin(values: list[int], bins: int) -> None:
    import math

    from ftkit.plan.stats import _histogram

    ordered = sorted(values)
    lo, hi = ordered[0], ordered[-1]
    width = max(1, math.ceil((hi - lo + 1) / bins))
    counts = [0] * bins
    for v in ordered:  # the definition: every value in its bin, the last bin taking the rest
        counts[min(bins - 1, (v - lo) // width)] += 1
    assert [b.count for b in _histogram(ordered, bins)] == counts
