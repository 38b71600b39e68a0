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
    monkeypatch.setattr(headstart.Early, "index", lambda self, line, raw: hits.append(i := index(self, line, raw)) or i)
    assert _results(data, jobs) == without
    assert len(done) == 2 and all(len(parts) == jobs for parts in done)  # report and validate (the table has no costly work)
    for parts in done:  # a step of records from each part in turn, while the build lasted
        assert all(0 < n <= (looks - 1) * headstart.STEP for n in parts)
    assert sum(i >= 0 for i in hits) == sum(parts[0] for parts in done)  # the scan took every one (of its part, with two)
    if looks == 1000 and jobs == 1:
        assert all(i >= 0 for i in hits)  # it had worked on every record the scan accepted


@pytest.mark.parametrize("where", ["_work", "Reader"])
def test_a_failing_head_start_is_dropped(data: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """A rule that breaks ahead of time, or a file that cannot be read again (it went away since
    the scan opened it): the scan works everything out itself."""
    without = _results(data, 1)
    _building_for(monkeypatch, 1000)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise (RuntimeError("a rule that breaks ahead of time") if where == "_work" else FileNotFoundError(2, "gone"))

    monkeypatch.setattr(headstart, where, fail)
    assert _results(data, 1) == without


def test_a_line_whose_bytes_changed_is_worked_out_again(data: Path) -> None:
    """The head start keys its results by line and by the line's bytes: a file rewritten in
    place meanwhile gets no result worked out from other bytes."""
    from ftkit.checks import costly_checks
    from ftkit.policy.profile import load_profile
    from ftkit.scan.fastpath import CleanCheck

    profile = load_profile()
    size, lines = data.stat().st_size, data.read_bytes().split(b"\n")
    early = headstart.head_start(data, [(0, size, 0)], profile.data.max_line_bytes, CleanCheck(profile.data), costly_checks(),
                                 profile.data, profile.quality, lambda: True)  # fmt: skip
    assert early is not None and len(early[0].lines) > 10
    found = early[0].lines
    assert early[0].index(found[3], lines[found[3] - 1]) == 3
    assert early[0].index(found[4], lines[found[3] - 1]) == -1  # another line's bytes at that line: not taken
    assert early[0].index(found[5], lines[found[5] - 1]) == 5


def test_the_tokenizer_built_in_the_background_is_the_one_counted() -> None:
    tokenizers.release_tokenizers()
    tokenizers.build_in_background("Qwen/Qwen2.5-7B-Instruct", "tiktoken")
    assert ("Qwen/Qwen2.5-7B-Instruct", "tiktoken") in tokenizers._BUILDS
    built = tokenizers.get_tokenizer("Qwen/Qwen2.5-7B-Instruct", "tiktoken")
    assert not tokenizers.building("Qwen/Qwen2.5-7B-Instruct", "tiktoken")
    assert built is tokenizers.get_tokenizer("Qwen/Qwen2.5-7B-Instruct", "tiktoken")  # cached: one build
    assert built.count("你好, world") == tokenizers.get_tokenizer("Qwen/Qwen2.5-7B-Instruct", "small").count("你好, world")


def test_a_background_build_hands_its_error_to_the_caller() -> None:
    tokenizers.build_in_background("no-such-tokenizer", "fast")
    tokenizers.wait_for_builds()  # waiting before a fork does not raise
    with pytest.raises(ftkit.TokenizerError, match="unknown tokenizer 'no-such-tokenizer'"):
        tokenizers.get_tokenizer("no-such-tokenizer", "fast")


def test_an_interrupted_wait_keeps_the_build_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while get_tokenizer waits: the build is still listed and still waited for before a
    fork (an interrupted ``Thread.join`` would have marked the thread stopped while it ran)."""
    release = threading.Event()
    real = tokenizers._tokenizer

    def slow(spec: str | None, engine: Any) -> Any:
        release.wait(10)
        return real(spec, engine)

    monkeypatch.setattr(tokenizers, "_tokenizer", slow)
    spec = "Qwen/Qwen2.5-7B-Instruct"
    tokenizers.build_in_background(spec, "small")
    build = tokenizers._BUILDS[spec, "small"]
    finished = build.finished

    class Interrupted:  # the first wait is interrupted, as by Ctrl-C
        def wait(self, timeout: float | None = None) -> bool:
            build.finished = finished
            raise KeyboardInterrupt

        def is_set(self) -> bool:
            return finished.is_set()

    build.finished = Interrupted()  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        tokenizers.get_tokenizer(spec, "small")
    assert tokenizers._BUILDS.get((spec, "small")) is build and tokenizers.building(spec, "small")
    release.set()
    tokenizers.wait_for_builds()
    assert not tokenizers.building(spec, "small")
    assert tokenizers.get_tokenizer(spec, "small").count("你好, world") > 0 and (spec, "small") not in tokenizers._BUILDS


def test_the_process_waits_for_a_build_before_it_exits() -> None:
    """A thread still in the fast engine's native code when the interpreter shuts down can abort
    the process (an interrupted report): an exit waits for the build first."""
    import subprocess
    import sys

    code = (
        "import atexit, sys\n"
        "from ftkit.tokens import tokenizer as t\n"
        "key = ('Qwen/Qwen2.5-7B-Instruct', 'fast')\n"
        "atexit.register(lambda: print('finished', t._BUILDS[key].finished.is_set()))  # runs after ftkit's own (LIFO)\n"
        "t.build_in_background(*key)\n"
        "sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stdout.strip() == "finished True", (done.returncode, done.stdout, done.stderr)


def test_every_fork_waits_for_a_build() -> None:
    """Any fork (the scan's, or the caller's own) waits for a tokenizer being built: a child
    inherits no thread to finish it."""
    import subprocess
    import sys

    code = (
        "import os, time\n"
        "from ftkit.tokens import tokenizer as t\n"
        "real = t._tokenizer\n"
        "t._tokenizer = lambda spec, engine: (time.sleep(0.5), real(spec, engine))[1]\n"
        "key = ('Qwen/Qwen2.5-7B-Instruct', 'small')\n"
        "t.build_in_background(*key)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('finished', t._BUILDS[key].finished.is_set())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "finished True", (done.stdout, done.stderr)
