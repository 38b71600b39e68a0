"""The head start (``ftkit.scan.headstart``): while the tokenizer is built, the scan works ahead on
its costly work (FT305, FT504's band hashes) and takes the results when it reaches those lines.
Every result must be the same with a head start or without, however far it got, in one process
or two."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from test_engine_batch import _records

import ftkit
from ftkit.render.safe import model_json
from ftkit.scan import headstart, parallel
from ftkit.tokens import table as token_table
from ftkit.tokens import tokenizer as tokenizers


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 330 records (five head-start steps a part): clean and careful ones, FT305, FT501, FT504,
    FT601, blank lines, a CRLF line and a record over several lines."""
    lines: list[str] = []
    for round_ in range(6):
        for line in _records():
            lines.append(line.replace("产品", f"产品{round_}", 1) if round_ % 2 else line)  # some copies, some not
    lines.insert(100, json.dumps({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}, indent=2))
    path = tmp_path_factory.mktemp("head") / "mixed.jsonl"
    path.write_bytes(("\n".join(lines[:200]) + "\r\n" + "\n".join(lines[200:]) + "\n").encode("utf-8"))
    return path


def _results(path: Path, jobs: int) -> tuple[str, str, list[dict[str, Any]]]:
    report = model_json(ftkit.report(path, format="json", jobs=jobs))
    checked = model_json(ftkit.validate(path, privacy=True, tokens=True, jobs=jobs))
    return report, checked, ftkit.table(path, keys=True, jobs=jobs).frame.to_dicts()


def _building_for(monkeypatch: pytest.MonkeyPatch, looks: int) -> list[list[int]]:
    """The collector's tokenizer seems to be in the making for ``looks`` looks; returns what each
    head start did (records worked on, per part)."""
    left = [looks]

    def building(spec: str | None, engine: str) -> bool:
        left[0] -= 1
        return left[0] >= 0

    done: list[list[int]] = []
    real, real_wanted = headstart.head_start, headstart.wanted

    def wanted(scan: Any) -> bool:
        left[0] = looks  # the same number of looks for each pass (report, validate)
        return real_wanted(scan)

    def head_start(*args: Any, **kwargs: Any) -> list[headstart.Early] | None:
        early = real(*args, **kwargs)
        done.append([len(e.lines) for e in early] if early is not None else [])
        return early

    monkeypatch.setattr(token_table, "building", building)
    monkeypatch.setattr(headstart, "head_start", head_start)
    monkeypatch.setattr(headstart, "wanted", wanted)
    return done


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("looks", [2, 4, 1000])  # one step of each part, three, the whole file
def test_results_are_the_same_with_a_head_start(data: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, looks: int) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)  # this small file is scanned in two processes with jobs=2
    without = _results(data, jobs)
    codes = {f["code"] for f in json.loads(without[1])["violations"]}
    assert {"FT305", "FT501", "FT504", "FT601", "FT008"} <= codes  # the input holds what the head start works on
    done = _building_for(monkeypatch, looks)
    hits: list[int] = []
    index = headstart.Early.index
    monkeypatch.setattr(headstart.Early, "index", lambda self, line: hits.append(i := index(self, line)) or i)
    assert _results(data, jobs) == without
    assert len(done) == 2 and all(len(parts) == jobs for parts in done)  # report and validate (the table has no costly work)
    for parts in done:  # a step of records from each part in turn, while the build lasted
        assert all(0 < n <= (looks - 1) * headstart.STEP for n in parts)
    assert sum(i >= 0 for i in hits) == sum(parts[0] for parts in done)  # the scan took every one (of its part, with two)
    if looks == 1000 and jobs == 1:
        assert all(i >= 0 for i in hits)  # it had worked on every record the scan accepted


def test_a_failing_head_start_is_dropped(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without = _results(data, 1)
    _building_for(monkeypatch, 1000)

    def fail(*args: Any) -> None:
        raise RuntimeError("a rule that breaks ahead of time")

    monkeypatch.setattr(headstart, "_work", fail)
    assert _results(data, 1) == without


def test_the_tokenizer_built_in_the_background_is_the_one_counted() -> None:
    tokenizers.release_tokenizers()
    tokenizers.build_in_background("Qwen/Qwen2.5-7B-Instruct", "tiktoken")
    assert any(t.name == "ftkit-tokenizer" for t in threading.enumerate()) or not tokenizers.building(
        "Qwen/Qwen2.5-7B-Instruct", "tiktoken"
    )
    built = tokenizers.get_tokenizer("Qwen/Qwen2.5-7B-Instruct", "tiktoken")
    assert not tokenizers.building("Qwen/Qwen2.5-7B-Instruct", "tiktoken")
    assert built is tokenizers.get_tokenizer("Qwen/Qwen2.5-7B-Instruct", "tiktoken")  # cached: one build
    assert built.count("你好, world") == tokenizers.get_tokenizer("Qwen/Qwen2.5-7B-Instruct", "small").count("你好, world")


def test_a_background_build_hands_its_error_to_the_caller() -> None:
    tokenizers.build_in_background("no-such-tokenizer", "fast")
    tokenizers.wait_for_builds()  # waiting before a fork does not raise
    with pytest.raises(ftkit.TokenizerError, match="unknown tokenizer 'no-such-tokenizer'"):
        tokenizers.get_tokenizer("no-such-tokenizer", "fast")
