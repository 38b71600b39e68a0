"""The line reader and the read-ahead for pretty-printed records."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.scan import fetch, reader
from ftkit.scan.reader import iter_lines, sniff


def expected_lines(data: bytes, limit: int) -> list[bytes | int]:
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p if len(p) <= limit else len(p) for p in parts]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300) | st.lists(st.sampled_from([b"ab", b"\n", b"\r\n", b"x" * 20, b""]), max_size=40).map(b"".join),
       chunk=st.integers(1, 16), limit=st.integers(1, 30))
def test_iter_lines_splits_like_bytes_split(data: bytes, chunk: int, limit: int) -> None:
    saved, reader.CHUNK = reader.CHUNK, chunk  # tiny chunks: lines cross chunk boundaries
    try:
        assert list(iter_lines(io.BytesIO(data), limit)) == expected_lines(data, limit)
    finally:
        reader.CHUNK = saved


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.sampled_from([b"ab", b"\n", b"xyz\n", b"\r\n"]), max_size=30).map(b"".join), cut=st.integers(0, 60))
def test_two_ranges_give_the_same_lines_as_one(data: bytes, cut: int) -> None:
    newlines = [i + 1 for i, b in enumerate(data) if b == 10]
    cut = min((n for n in newlines if n >= cut), default=0)
    if not cut:
        return
    stream = io.BytesIO(data)
    first = list(iter_lines(stream, 1000, cut))
    rest = list(iter_lines(stream, 1000))
    assert first + rest == expected_lines(data, 1000)


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([b"ab", b"\n", b"\r\n", b"x" * 20, b"", b"\n\n"]), max_size=60).map(b"".join),
       chunk=st.integers(1, 16), cut=st.integers(0, 80), wanted=st.lists(st.integers(1, 70), max_size=12),
       inner=st.integers(1, 4))  # fmt: skip
def test_marks_point_at_line_starts_and_fetching_from_them_changes_nothing(data: bytes, chunk: int, cut: int, wanted: list[int],
                                                                          inner: int) -> None:  # fmt: skip
    """``Reader.marks`` (line, offset): the line starts there, also when the reading starts
    mid-file (a parallel scan's second half), for the marks at the end of each chunk and those
    inside it (``inner`` a chunk, here); ``fetch_lines`` seeking to marks gives what reading
    from the start gives."""
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10]  # starts[k]: offset of line k + 1
    newlines = starts[1:]
    cut = min((n for n in newlines if n >= cut), default=0)
    saved, reader.CHUNK = reader.CHUNK, chunk
    saved_inner, reader.MARKS_A_CHUNK = reader.MARKS_A_CHUNK, inner
    try:
        marks: list[tuple[int, int]] = []
        stream = io.BytesIO(data)
        for limit, first_line in ((cut, 0), (-1, newlines.index(cut) + 1 if cut else 0)):
            if limit == 0:
                continue
            part = reader.Reader(stream, 1000, limit=limit, first_line=first_line)
            for _ in part:
                pass
            marks += part.marks
    finally:
        reader.CHUNK, reader.MARKS_A_CHUNK = saved, saved_inner
    assert marks == sorted(marks) and len(set(marks)) == len(marks) and all(starts[line - 1] == offset for line, offset in marks)
    plain = fetch.fetch_lines(io.BytesIO(data), wanted, 5)
    assert fetch.fetch_lines(io.BytesIO(data), wanted, 5, marks=marks) == plain
    assert fetch.fetch_lines(io.BytesIO(data), wanted, 5, chunk=3, marks=marks[::3]) == plain


def test_sniff_leaves_ordinary_text_alone() -> None:
    assert sniff(b'{"messages": []}\n') is None
    assert sniff("{\"messages\": [{\"role\": \"user\", \"content\": \"é\\u0000\"}]}".encode()) is None
    assert sniff(b"")is None


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = reader.parse_text

    def counting(text: str):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return real(text)

    monkeypatch.setattr(reader, "parse_text", counting)
    return calls


@pytest.mark.parametrize("line", ["{", '{"messages": [', '{"messages": [{"role": "user", "content": "x"}, ', '{"a": [1,'])
def test_read_ahead_is_linear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    path = tmp_path / "opens.jsonl"
    path.write_text((line + "\n") * 20_000)
    calls = _count_parses(monkeypatch)
    report = ftkit.validate(path)
    assert report.files[0].records == 20_000 and report.files[0].valid_records == 0
    assert calls[0] <= 2 * 20_000


def test_truncated_record_followed_by_records_is_one_error(tmp_path: Path) -> None:
    good = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}'
    path = tmp_path / "cut.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "Hi"}, \n' + (good + "\n") * 50)
    report = ftkit.validate(path)
    assert [(v.code, v.line) for v in report.violations if v.severity == "error"] == [("FT006", 1)]
    assert report.files[0].valid_records == 50
