"""FT601-FT606 measured on the labelled corpus (tests/data/ftkit-privacy-corpus, made by
tests/privacy_corpus.py): precision and recall of at least 0.95 per kind, through `validate
--privacy` itself; the prefilter never misses a labelled kind; `fix --redact` removes every
match and logs none of the values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import privacy_corpus
import pytest

import ftkit
from ftkit.checks.prefilter import Prefilter
from ftkit.checks.privacy import PRIVACY_CODES
from ftkit.checks.sensitive import find_all, finder
from ftkit.policy.privacy import KINDS

CORPUS = privacy_corpus.OUT / "corpus.jsonl"
RECORDS, LABELS = privacy_corpus.load()
TARGET = 0.95
_OFFSETS = re.compile(r"at content\[(\d+):(\d+)\]")


def test_the_committed_corpus_is_what_the_seed_gives() -> None:
    for name, data in privacy_corpus.generate().items():
        assert (privacy_corpus.OUT / name).read_bytes() == data, f"{name} is stale: run python tests/privacy_corpus.py"


def test_the_corpus_has_every_kind_and_every_lookalike() -> None:
    kinds = {label.get("kind") for label in LABELS} - {None}
    lookalikes = {label.get("lookalike") for label in LABELS} - {None}
    assert kinds == set(KINDS)
    assert {"order", "tracking", "timestamp", "isbn", "version", "uuid", "hex", "price", "date", "bad_id", "bad_card", "doc_email"} <= lookalikes
    assert all(sum(label.get("kind") == kind for label in LABELS) >= 100 for kind in KINDS)
    assert any("\u4e00" <= ch <= "\u9fff" for r in RECORDS[:20] for m in r["messages"] for ch in m["content"])  # Chinese too


@pytest.fixture(scope="module")
def scored() -> dict[str, dict[str, Any]]:
    """Score what `validate --privacy` reports (offsets read back from its messages)."""
    report = ftkit.validate(CORPUS, privacy=True)
    kind_of = dict(zip(PRIVACY_CODES, KINDS))
    found: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
    for v in report.violations:
        if v.code in kind_of:
            index = int(v.pointer.split("/")[2])
            start, end = map(int, _OFFSETS.search(v.message).groups())  # type: ignore[union-attr]
            found.setdefault((v.line or 0, index), []).append((kind_of[v.code], start, end))
    contents = {id(m["content"]): (line, i) for line, r in enumerate(RECORDS, start=1) for i, m in enumerate(r["messages"])}
    return privacy_corpus.score(RECORDS, LABELS, lambda text: found.get(contents[id(text)], []))


@pytest.mark.parametrize("kind", KINDS)
def test_precision_and_recall_per_kind(scored: dict[str, dict[str, Any]], kind: str) -> None:
    row = scored[kind]
    assert row["precision"] >= TARGET, row
    assert row["recall"] >= TARGET, row


def test_validate_reports_what_the_matcher_finds() -> None:
    report = ftkit.validate(CORPUS, privacy=True)
    expected = sum(len(finder().find(m["content"])) for r in RECORDS for m in r["messages"])
    assert sum(v.code in PRIVACY_CODES for v in report.violations) == expected
    assert report.files[0].valid_records == len(RECORDS)  # warnings only
    default = ftkit.validate(CORPUS)
    assert {v.code for v in default.violations} & set(PRIVACY_CODES) == {"FT601"}


def test_the_prefilter_never_misses_a_labelled_kind() -> None:
    single = {kind: Prefilter([kind]) for kind in KINDS}
    for record in RECORDS:
        joined = "".join(m["content"] for m in record["messages"])
        for m in record["messages"]:
            for match in finder().find(m["content"]):  # not find_all, which asks the prefilter first
                assert single[match.kind].suspicious(m["content"]), (match, m["content"])
                assert single[match.kind].suspicious(joined), (match, joined)


def test_redaction_removes_every_match_and_logs_no_value(tmp_path: Path) -> None:
    out = tmp_path / "redacted.jsonl"
    result = ftkit.fix(CORPUS, out, redact=True)
    assert result.written == len(RECORDS) and result.rejected == 0
    after = ftkit.validate(out, privacy=True)
    assert [v for v in after.violations if v.code in PRIVACY_CODES] == []
    log_text = Path(result.changes).read_text(encoding="utf-8")
    changes = json.loads(log_text)
    found = [m for r in RECORDS for msg in r["messages"] for m in find_all(msg["content"])]
    assert len(changes) == len(found) and {c["kind"] for c in changes} == set(KINDS)
    for record in RECORDS:
        for msg in record["messages"]:
            for m in find_all(msg["content"]):
                value = msg["content"][m.start : m.end]
                assert json.dumps(value, ensure_ascii=False)[1:-1] not in log_text, value
    original = CORPUS.read_bytes().splitlines()
    written = out.read_bytes().splitlines()
    changed = {c["line"] for c in changes}
    assert all(a == b for n, (a, b) in enumerate(zip(original, written), start=1) if n not in changed)
