"""The fast engine (fastokens, rules/tokenizers.toml ``fast_engine``) gives tiktoken's tokens.

Big inputs are counted with it (``ftkit.plan.table.FAST_FROM_BYTES``); everything else, and every
platform without its wheel, with tiktoken. Either way the counts must be the same, token for token:
on every string of the real files in tests/data, on generated text full of the cases BPE
implementations get wrong (whitespace runs, contractions, digits, newlines, surrogates), and
end to end through stats on a file, in one process and in two."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.plan import table as plan_table
from ftkit.scan import parallel
from ftkit.tokens.tokenizer import get_tokenizer
from support import DATA, assert_same_tokens_on_real_strings

MODEL = "Qwen/Qwen2.5-7B-Instruct"
SLOW = get_tokenizer(MODEL)
FAST = get_tokenizer(MODEL, "fast")
pytestmark = pytest.mark.skipif(FAST is SLOW or FAST._native is SLOW._native, reason="fastokens has no wheel for this platform")


def test_the_fast_engine_is_used_for_big_inputs_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert FAST is not SLOW and FAST.name == SLOW.name and FAST.source == SLOW.source
    path = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
    used: list[str] = []
    real = plan_table.get_tokenizer
    monkeypatch.setattr(plan_table, "get_tokenizer", lambda spec, engine="tiktoken": used.append(engine) or real(spec, engine))
    background = plan_table.build_in_background  # the fast engine is built in a thread (ftkit.scan.headstart)
    monkeypatch.setattr(plan_table, "build_in_background", lambda spec, engine: used.append(engine) or background(spec, engine))
    monkeypatch.setattr(plan_table, "SMALL_BELOW_BYTES", 0)
    ftkit.table(path)  # a file of middle size: tiktoken, which builds a second sooner
    monkeypatch.setattr(plan_table, "FAST_FROM_BYTES", path.stat().st_size)
    ftkit.table(path)  # as big as the threshold: the fast engine
    ftkit.split(path, out_dir=tmp_path / "split")  # split keeps tiktoken: its memory target has no room for the engine
    assert used == ["tiktoken", "fast", "tiktoken"]


def test_every_string_of_the_real_files_gets_the_same_tokens() -> None:
    assert_same_tokens_on_real_strings(FAST, SLOW)


pieces = st.sampled_from(
    [" ", "  ", "\t", "\n", "\r\n", "\u3000", "\xa0", "'s", "'ll", "'S", "123", "4", "٣", "a", "Hello", "world", "你好", "世界",
     "こんにちは", "안녕", "привет", "مرحبا", "😀", "👩‍💻", "e\u0301", ".", "!!", "...", "<", "<|im_end|>", "<tool_call>",
     "\ud800", "\udc00", "x" * 50, " " * 40, "\n" * 5, "#", "```", "\\n"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pieces | st.text(max_size=12), max_size=40).map("".join))
def test_generated_text_gets_the_same_tokens(text: str) -> None:
    assert FAST.count(text) == SLOW.count(text)
    assert FAST.encode(text) == SLOW.encode(text)


def test_token_bytes_agree() -> None:
    for token in SLOW.encode("héllo 你好 world<|im_end|>\n  ok") + [0, 151_642, 151_643, 151_664]:
        assert FAST.token_bytes(token) == SLOW.token_bytes(token)


@pytest.mark.parametrize("jobs", [1, 2])
def test_stats_are_the_same_with_either_engine(jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)  # two processes for any file (jobs=2)
    monkeypatch.setattr(plan_table, "SMALL_BELOW_BYTES", 0)
    monkeypatch.setattr(plan_table, "FAST_FROM_BYTES", 1 << 62)
    slow = ftkit.table(path, jobs=jobs).frame
    monkeypatch.setattr(plan_table, "FAST_FROM_BYTES", 0)
    used: list[str] = []
    real = plan_table.get_tokenizer
    monkeypatch.setattr(plan_table, "get_tokenizer", lambda spec, engine="tiktoken": used.append(engine) or real(spec, engine))
    background = plan_table.build_in_background  # the fast engine is built in a thread (ftkit.scan.headstart)
    monkeypatch.setattr(plan_table, "build_in_background", lambda spec, engine: used.append(engine) or background(spec, engine))
    assert ftkit.table(path, jobs=jobs).frame.equals(slow)
    assert used == ["fast"]


def test_without_the_fast_engine_tiktoken_counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ftkit.tokens import tokenizer

    monkeypatch.setattr(tokenizer, "installed_version", lambda dist: None if dist == "fastokens" else "0")
    built = tokenizer.tokenizer_from_config("qwen2_5", engine="fast")
    assert built._native is not FAST._native and built.count("hello world") == SLOW.count("hello world")


def test_the_cli_gives_big_blocks_their_own_mappings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The console script sets glibc's M_MMAP_THRESHOLD (and M_TRIM_THRESHOLD) before a command that counts tokens runs:
    the token table's growing columns and the tokenizer's small allocations no longer fragment
    the heap (stats on 3.1M small records: 420 -> 328 MB with fastokens). validate is left alone
    (a fresh mapping for each 1 MiB read buffer cost it a tenth). Where there is no mallopt,
    nothing happens."""
    import ctypes

    from click.testing import CliRunner

    from ftkit.cli import cli, main

    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, option: int, value: int) -> int:
            calls.append((option, value))
            return 1

    real = ctypes.CDLL  # other libraries load theirs by name (numpy, on first import): only glibc's is faked
    monkeypatch.setattr(ctypes, "CDLL", lambda name, *a, **k: Libc() if name is None else real(name, *a, **k))
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}) + "\n")
    assert CliRunner().invoke(cli, ["stats", str(path), "-q"]).exit_code == 0
    assert calls == []  # a command run inside another program (here pytest) leaves its allocator alone
    with pytest.raises(SystemExit) as done:
        main(["validate", str(path)])  # counts no tokens: its read buffers are better off in the heap
    assert done.value.code == 0 and calls == []
    with pytest.raises(SystemExit) as done:
        main(["stats", str(path), "-q"])  # the console script tunes its own process
    assert done.value.code == 0
    # M_MMAP_THRESHOLD, then M_TRIM_THRESHOLD (the report's freed batches stay in the heap instead of being faulted in again)
    assert calls == ([(-3, 1 << 20), (-1, 4 << 20)] if sys.platform.startswith("linux") else [])

    class Musl:
        pass

    monkeypatch.setattr(ctypes, "CDLL", lambda name, *a, **k: Musl() if name is None else real(name, *a, **k))
    with pytest.raises(SystemExit) as done:
        main(["stats", str(path), "-q"])
    assert done.value.code == 0


def test_the_console_script_collects_garbage_less_often_and_puts_it_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """While a command runs from the console script, young objects are collected every 10,000
    allocations and start-up's objects are frozen out of collections; a command run inside
    another program (CliRunner) leaves the collector alone, and the console script puts the
    previous settings back when it is done (so a program calling ``main`` keeps its own)."""
    import gc

    from click.testing import CliRunner

    from ftkit.cli import cli, main
    from ftkit.scan import engine

    seen: list[tuple[tuple[int, ...], int]] = []
    real = engine.run_scan

    def watching(*args: Any, **kwargs: Any) -> Any:  # runs while the command runs
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run_scan", watching)
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}) + "\n")
    before = gc.get_threshold()
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    assert seen == [(before, 0)]  # inside another program: untouched
    seen.clear()
    with pytest.raises(SystemExit) as done:
        main(["validate", str(path)])
    assert done.value.code == 0
    assert len(seen) == 1 and seen[0][0][0] == 10_000 and seen[0][1] > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
