"""What keeps the token table small (issue 16) changes no figure: the columns stored as narrow as
their values, the columns stats keeps, the tokenizer let go after a big input's scan, the
counted sort of the lengths."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.plan import stats as plan_stats
from ftkit.plan import table as plan_table
from ftkit.plan.stats import _histogram, _nearest_rank, _prompt_counts, compute_stats, sorted_values
from ftkit.plan.table import STATS_COLUMNS
from ftkit.scan import parallel
from ftkit.tokens import tokenizer
from ftkit.tokens.columns import Columns
from ftkit.tokens.table import TableBuilder

ANY = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def three() -> Columns:
    return Columns({"a": "B", "b": "B", "c": "i"})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ANY, st.integers(0, 300), st.integers(0, 70_000)), max_size=120), st.integers(0, 120))
def test_columns_keep_every_value_and_merge_whatever_widths_the_parts_took(rows: list[tuple[int, int, int]], cut: int) -> None:
    whole, first, second = three(), three(), three()
    for i, row in enumerate(rows):
        whole.append(row)
        (first if i < cut else second).append(row)
    first.merge(second.export())  # the parent's columns and the child's may have widened differently
    expected = {name: [row[i] for row in rows] for i, name in enumerate("abc")}
    for columns in (whole, first):
        assert len(columns) == len(rows)
        assert {name: values.tolist() for name, values in columns.pop()} == expected


def test_a_column_widens_only_as_far_as_its_values_need() -> None:
    columns = Columns({"n": "B"})
    columns.append((255,))
    assert dict(columns.items())["n"].typecode == "B"
    columns.append((256,))
    assert dict(columns.items())["n"].typecode == "H"
    columns.append((-1,))
    assert dict(columns.items())["n"].typecode == "i"
    with pytest.raises(OverflowError):  # past the table's Int32, as before
        columns.append((2**31,))


@given(st.lists(st.integers(0, 70_000) | st.integers(0, 9) | st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=400))
def test_sorted_values_read_as_a_sorted_copy(values: list[int]) -> None:
    """Every path: a short column sorted in polars, a long one counted (narrow values) or sorted
    through numpy (here "long" from 0 rows on, so that the counted path meets these values)."""
    ordered = sorted(values)
    saved = plan_stats.NUMPY_FROM_ROWS
    try:
        for plan_stats.NUMPY_FROM_ROWS in (saved, 0):
            got = sorted_values(pl.Series(values, dtype=pl.Int32))
            assert len(got) == len(ordered) and [got[k] for k in range(len(got))] == ordered and got[-1] == ordered[-1]
            assert _histogram(got) == _histogram(ordered)
            assert [_nearest_rank(got, q) for q in (0.5, 0.9, 0.99)] == [_nearest_rank(ordered, q) for q in (0.5, 0.9, 0.99)]
    finally:
        plan_stats.NUMPY_FROM_ROWS = saved
    counted = plan_stats._Counted  # the counted path is what narrow values take
    plan_stats.NUMPY_FROM_ROWS = 0
    try:
        assert isinstance(sorted_values(pl.Series([3, 1, 2] * 10, dtype=pl.Int32)), counted)
    finally:
        plan_stats.NUMPY_FROM_ROWS = saved


@given(st.lists(st.sampled_from([0, 0, 5, 7, 2**62]) | st.integers(0, 2**63 - 1), max_size=300), st.sampled_from([1, 7, 1 << 18]))
def test_prompt_counts_equal_counting_every_key(keys: list[int], block: int) -> None:
    from collections import Counter

    counts = Counter(k for k in keys if k)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan_stats, "_BLOCK", block)  # one block, or many
        got = _prompt_counts(pl.Series("system_key", keys, dtype=pl.Int64))
    assert got == (len(counts), max(counts.values(), default=0))


def mixed(path: Path, long_at: int | None = None) -> Path:
    """Records with and without system prompts, several turns, long ones, a broken one."""
    lines = []
    for i in range(240):
        system = [{"role": "system", "content": f"prompt {i % 4} " * (1 + i % 3)}] if i % 3 else []
        turns = [m for t in range(1 + i % 3) for m in ({"role": "user", "content": f"q{t} " * (i % 50)},
                                                        {"role": "assistant", "content": f"a{t} " * (i % 70)})]  # fmt: skip
        if i == long_at:  # more than 65,535 tokens: a column widened mid-scan
            turns[-1] = {"role": "assistant", "content": "word " * 70_000}
        lines.append(json.dumps({"messages": system + turns}) if i % 61 != 7 else '{"messages": [{"role": "user"}]}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_stats_reads_only_its_columns_and_the_library_gives_the_same_figures(tmp_path: Path) -> None:
    path = mixed(tmp_path / "mixed.jsonl")
    full = ftkit.table(path, max_tokens=120)
    result = compute_stats(full)
    assert result.over_max_tokens.records and result.over_max_tokens.reply_cut.records and result.over_max_tokens.reply_lost.records
    assert result.system_prompt.distinct > 1 and result.rejected
    kept = full.frame.select([*STATS_COLUMNS, "file"])
    assert compute_stats(type(full)(**{**full.__dict__, "frame": kept})) == result
    assert ftkit.stats(path, max_tokens=120) == result  # the library's stats keeps only those columns


def test_the_frame_is_the_same_whatever_width_the_parts_were_stored_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = mixed(tmp_path / "long.jsonl", long_at=200)  # in the second half only: the child's total widens, not the parent's
    one = ftkit.table(path, keys=True)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    two = ftkit.table(path, keys=True, jobs=2)
    assert one.frame.equals(two.frame)
    schema = one.frame.schema
    assert schema["line"] == schema["total"] == schema["turns"] == pl.Int32 and schema["key"] == pl.Int64
    assert one.frame["total"].max() > 70_000


def test_a_big_input_lets_the_tokenizer_go_and_counts_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = mixed(tmp_path / "mixed.jsonl")
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    small = ftkit.table(path, jobs=2)
    released: list[int] = []
    real = tokenizer.release_tokenizers
    monkeypatch.setattr(tokenizer, "release_tokenizers", lambda: released.append(1) or real())
    monkeypatch.setattr(plan_table, "FAST_FROM_BYTES", 0)  # "big": the fast engine, let go after the scan
    big = ftkit.table(path, jobs=2)
    assert released  # by the parent, once its part was counted
    assert big.frame.equals(small.frame) and big.assumptions == small.assumptions
    assert ftkit.table(path, jobs=2).frame.equals(small.frame)  # built again when asked for again


def test_several_big_files_build_the_tokenizer_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the last file's builder lets the tokenizer go: the files before it keep it, so one
    call over several files builds it once, not once a file (about a second each with fastokens)."""
    paths = [mixed(tmp_path / "a.jsonl"), mixed(tmp_path / "b.jsonl")]
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    monkeypatch.setattr(plan_table, "FAST_FROM_BYTES", 0)
    tokenizer.release_tokenizers()
    built: list[object] = []
    real = tokenizer.tokenizer_from_config
    monkeypatch.setattr(tokenizer, "tokenizer_from_config", lambda *a, **k: built.append(a) or real(*a, **k))
    holding: list[bool] = []  # whether each builder still holds a tokenizer when its frame is made
    real_frame = TableBuilder.frame
    monkeypatch.setattr(TableBuilder, "frame", lambda self: holding.append(self.tok is not None) or real_frame(self))
    both = ftkit.table(paths, jobs=2)
    assert len(built) == 1
    assert holding == [False, False]  # let go by every builder, not only the last: else it stays alive
    assert both.frame.height == sum(ftkit.table(p).frame.height for p in paths)


def test_a_line_past_the_tables_widest_column_is_one_line_not_a_traceback() -> None:
    """Line numbers are four bytes: a record past line 2**31 - 1 (a file of over two billion lines)
    stops the command with an InputError naming the line, not an OverflowError."""
    from ftkit.errors import InputError
    from ftkit.tokens.template import ChatTemplate

    builder = TableBuilder("qwen2_5", ChatTemplate.from_spec("Qwen/Qwen2.5-7B-Instruct", default_system=True))
    record = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}
    builder.add(2**31 - 1, record)
    with pytest.raises(InputError, match="line 2,147,483,648: past what the token table holds"):
        builder.add(2**31, record)


def test_the_frame_and_its_sums_are_the_same_through_numpy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long column reaches polars through numpy (a view, then a cast of a narrow one), a short
    one directly: the same frame and the same sums either way (here "long" from 0 rows on)."""
    from ftkit.tokens import table as tokens_table
    from ftkit.tokens.table import column_sum

    path = mixed(tmp_path / "mixed.jsonl", long_at=100)
    direct = ftkit.table(path, keys=True).frame
    monkeypatch.setattr(tokens_table, "NUMPY_FROM_ROWS", 0)
    through_numpy = ftkit.table(path, keys=True).frame
    assert through_numpy.equals(direct) and through_numpy.schema == direct.schema
    for name in ("total", "trainable", "line"):
        monkeypatch.setattr(tokens_table, "NUMPY_FROM_ROWS", 0)
        by_numpy = column_sum(direct[name])
        monkeypatch.setattr(tokens_table, "NUMPY_FROM_ROWS", 1 << 16)
        assert by_numpy == column_sum(direct[name]) == sum(direct[name].to_list())
