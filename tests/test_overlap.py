"""FT508 evaluation-overlap: n-gram overlap with the files given to ``--against`` (validate and
report). The one-file cases are in tests/cases/dataset.toml; what needs several files or the
report is here, with the tokenizer's and the index's properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.cli import cli
from ftkit.errors import InputError
from ftkit.policy.profile import OverlapRules, load_profile
from ftkit.scan.inputs import open_inputs
from ftkit.scan.overlap import EvalIndex, Words

WORDS = Words(OverlapRules())
SKY = "Sunlight contains all colours, but the air scatters short blue wavelengths much more strongly than long red ones."


def rec(user: str, reply: str, system: str | None = None) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system else []
    return {"messages": [*msgs, {"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def filler(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [rec(f"Question {i} about item number {i}?", f"Answer {i}.") for i in range(start, start + n)]


def overlaps(report: Any) -> list[tuple[int | None, str]]:
    return [(v.line, v.message) for v in report.violations if v.code == "FT508"]


# --- validate --against ---------------------------------------------------------------------------


def test_several_evaluation_files_each_named_with_its_line(tmp_path: Path) -> None:
    train = write(tmp_path / "train.jsonl", [*filler(10), rec("Why is the sky blue?", "In short: " + SKY), rec("天空为什么是蓝色", "简单说：阳光里包含各种颜色的光，而空气对蓝光散射得更强。")])
    first = write(tmp_path / "eval-en.jsonl", [rec("Something else entirely, nothing to see here.", "No."), rec("Explain the sky.", SKY.upper())])
    second = write(tmp_path / "eval-zh.jsonl", [rec("解释天空的颜色", "阳光里包含各种颜色的光，而空气对波长较短的蓝光散射得比红光强得多。")])
    found = overlaps(ftkit.validate(train, against=[first, second]))
    assert [line for line, _ in found] == [11, 12]
    assert f"evaluation record at {first}:2:" in found[0][1] and '"Sunlight contains all colours' in found[0][1]
    assert f"evaluation record at {second}:1:" in found[1][1]
    assert overlaps(ftkit.validate(train, against=[first])) == found[:1]
    assert overlaps(ftkit.validate(train, against=[first, second], ignore=["FT508"])) == []
    assert overlaps(ftkit.validate(train)) == []


def test_only_ft508_selected_still_checks_the_evaluation_file(tmp_path: Path) -> None:
    train = write(tmp_path / "train.jsonl", filler(10))
    bad = tmp_path / "eval.jsonl"
    bad.write_text("not json lines at all\x00\x01", encoding="latin-1")
    with pytest.raises(InputError):
        ftkit.validate(train, against=bad, select=["FT508"])
    empty = write(tmp_path / "empty.jsonl", [])
    with pytest.raises(InputError, match="no records"):
        ftkit.validate(train, against=empty, select=["FT508"])
    with pytest.raises(InputError, match="also one of the files"):
        ftkit.validate(train, against=train, select=["FT508"])


def test_a_template_every_evaluation_record_shares_is_not_an_overlap(tmp_path: Path) -> None:
    template = "Read the passage below carefully and then answer the question that follows it in one word."
    evals = [rec(f"{template}\n\nPassage {i}: the {i}th thing.", f"Word{i}") for i in range(20)]
    train = write(tmp_path / "train.jsonl", [rec(f"{template}\n\nPassage x: another thing.", "Other"), *filler(10)])
    assert overlaps(ftkit.validate(train, against=write(tmp_path / "eval.jsonl", evals))) == []
    few = write(tmp_path / "few.jsonl", evals[:2])  # in two records of two: below common_records (3)
    assert [line for line, _ in overlaps(ftkit.validate(train, against=few))] == [1]


def test_the_quote_is_escaped_and_shortened(tmp_path: Path) -> None:
    text = 'He said "stop" \\ and then\nwalked away from the old house by the river, never to return to that quiet town again.'
    train = write(tmp_path / "train.jsonl", [rec("Tell me a story, please.", text), *filler(10)])
    evals = write(tmp_path / "eval.jsonl", [rec("A story?", text)])
    [(_, message)] = overlaps(ftkit.validate(train, against=evals))
    quote = message.split(": ", 1)[1].split("; an example", 1)[0]
    assert quote.startswith('"He said \\"stop\\" \\\\ and then walked') and "\n" not in quote
    assert "…" in quote and len(quote) <= load_profile().overlap.quote_chars + 12


def test_cli_validate_against_is_repeatable_and_report_has_a_section(tmp_path: Path) -> None:
    train = write(tmp_path / "train.jsonl", [rec("Why is the sky blue?", SKY), *filler(10)])
    one = write(tmp_path / "a.jsonl", [rec("Explain the sky.", SKY)])
    two = write(tmp_path / "b.jsonl", filler(3, start=100))
    result = CliRunner().invoke(cli, ["validate", str(train), "--against", str(one), "--against", str(two), "--format", "json"])
    assert result.exit_code == 0, result.output
    codes = [v["code"] for v in json.loads(result.stdout)["violations"]]
    assert codes.count("FT508") == 1
    md = CliRunner().invoke(cli, ["report", str(train), "--against", str(one), "--against", str(two), "--format", "md"]).stdout
    section = md.split("## Overlap with evaluation data", 1)[1].split("\n## ", 1)[0]
    assert f"Compared with {one} (1 record), {two} (3 records): 1 of 11 records" in section
    assert "### FT508 evaluation-overlap (warning, 1 finding)" in section
    page = CliRunner().invoke(cli, ["report", str(train), "--against", str(one), "--format", "html"]).stdout
    assert 'id="overlap"' in page and 'href="#overlap"' in page
    plain = CliRunner().invoke(cli, ["report", str(train), "--format", "html"]).stdout
    assert 'id="overlap"' not in plain and "Overlap with evaluation data" not in plain


def test_library_report_against(tmp_path: Path) -> None:
    train = write(tmp_path / "train.jsonl", [rec("Why is the sky blue?", SKY), rec("Tell me why the sky looks blue.", SKY + " Yes."), *filler(10)])
    evals = write(tmp_path / "eval.jsonl", [rec("Why is the sky blue?", SKY)])
    report = ftkit.report(train, against=evals)
    assert not report.validation.rules  # FT503 and FT508 are in the overlap section, not here
    assert report.overlap is not None
    assert (report.overlap.exact.count, report.overlap.ngrams.count, report.overlap.records) == (1, 1, 2)
    assert report.overlap.ngram == 13 and report.overlap.files[0].records == 1
    assert not {g.code for g in report.validation.rules} & {"FT503", "FT508"}
    assert "FT508" in report.verdict.sentence
    assert ftkit.report(train).overlap is None


# --- the tokenizer and the index ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_the_ascii_shortcut_finds_the_words_of_the_pattern(text: str) -> None:
    assert WORDS.words(text) == WORDS.pattern.findall(text.lower())
    assert len(WORDS.spans(text)) == len(WORDS.words(text))


def test_words() -> None:
    assert WORDS.words("Hello, WORLD! it's 2024") == ["hello", "world", "it", "s", "2024"]
    assert WORDS.words("用Python写代码") == ["用", "python", "写", "代", "码"]
    assert WORDS.words("東京はカタカナ、한국어 단어") == ["東", "京", "は", "カ", "タ", "カ", "ナ", "한국어", "단어"]


vocabulary = st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=6), min_size=30, max_size=60, unique=True)


@settings(max_examples=100, deadline=None)
@given(words=vocabulary, data=st.data())
def test_any_shared_run_of_n_words_is_found_and_shorter_ones_are_not(words: list[str], data: st.DataObject) -> None:
    """Distinct words: a training text shares exactly the run it copies, nothing more."""
    n = WORDS.n
    evaluation, rest = words[:n + 5], words[n + 5 :]
    start = data.draw(st.integers(0, len(evaluation) - n))
    length = data.draw(st.integers(1, len(evaluation) - start))
    copied = evaluation[start : start + length]
    train = " ".join(rest[:5] + copied + rest[5:10])
    grams = WORDS.grams(" ".join(evaluation))
    index = np.unique(grams)
    hits = np.isin(WORDS.grams(train), index)
    assert bool(hits.any()) == (length >= n)
    assert int(hits.sum()) == max(0, length - n + 1)


def test_the_index_is_a_sorted_array_of_64_bit_hashes(tmp_path: Path) -> None:
    evals = write(tmp_path / "eval.jsonl", [rec("Why is the sky blue?", SKY), rec("Explain it again and again.", SKY)])
    with open_inputs(evals) as inputs:
        index = EvalIndex(list(inputs), load_profile(), WORDS)
    assert index.grams.dtype == np.uint64 and np.all(index.grams[1:] > index.grams[:-1])
    shared = int(WORDS.grams(SKY)[0])  # in both records: the first is named
    assert shared in set(index.grams.tolist())
    assert index.places({shared}) == {shared: (str(evals), 1)}
    assert index.common == 0 and index.files[0].records == 2


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.text(alphabet="abcdefghijk", min_size=1, max_size=5), min_size=13, max_size=40), cut=st.integers(0, 5))
def test_a_window_hash_does_not_depend_on_where_it_starts(words: list[str], cut: int) -> None:
    """The prefix-sum hash equals the plain polynomial of the window's word hashes."""
    text = " ".join(words)
    inverse = pow(0x100000001B3, -1, 1 << 64)
    hashes = [hash(w) % (1 << 64) for w in words]
    plain = [sum(hashes[i + k] * pow(inverse, k, 1 << 64) for k in range(13)) % (1 << 64) for i in range(len(words) - 12)]
    assert WORDS.grams(text).tolist() == plain
    assert WORDS.grams(" ".join(words[cut:])).tolist() == plain[cut:]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(alphabet="abcdefgh 阳光里包含", min_size=30, max_size=200), min_size=1, max_size=8))
def test_the_index_finds_every_evaluation_record_in_itself(tmp_path: Path, texts: list[str]) -> None:
    """The bit filter in front of the binary search never hides an n-gram that is there."""
    path = write(tmp_path / "eval.jsonl", [rec("q", t) for t in texts])
    with open_inputs(path) as inputs:
        index = EvalIndex(list(inputs), load_profile(), WORDS)
    for text in texts:
        grams = WORDS.grams("q\n" + text)
        kept = np.isin(grams, index.grams)
        hit = index.first_hit(grams)
        assert (hit is not None) == bool(kept.any())
        if hit is not None:
            assert hit[0] == int(np.flatnonzero(kept)[0]) and kept[hit[0] : hit[1] + 1].all()
