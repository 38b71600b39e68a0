"""The small engine (pure Python, ftkit/tokens/bpe.py; rules/tokenizers.toml ``small_engine``)
gives tiktoken's tokens.

Small inputs are counted with it (``ftkit.plan.table.SMALL_BELOW_BYTES``), because it is built in a
fraction of tiktoken's time. Its tokens must be tiktoken's, token for token: on every string of the
real files in tests/data, on generated text full of the cases a BPE port gets wrong (whitespace
runs and lookahead, contractions in any case, digits, CJK, emoji, combining marks, lone
surrogates, \\r\\n mixes), on a sample of every code point in several contexts (the whole range:
benchmarks/check_small_engine.py), and its byte-pair merge against a literal port of tiktoken's."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.plan import table as plan_table
from ftkit.tokens import tokenizer as tokens
from ftkit.tokens.bpe import SmallEncoder, guard_ranges, merge
from ftkit.tokens.tokenizer import get_tokenizer
from support import DATA, assert_same_tokens_on_real_strings, data_strings

MODEL = "Qwen/Qwen2.5-7B-Instruct"
TIKTOKEN = get_tokenizer(MODEL)
SPEC = tokens.token_config()["tokenizers"]["qwen2_5"]
#: the installed regex and tiktoken are the versions the rules pin: then small inputs get the port
PINNED = tokens._small_engine_exact(SPEC)


def _the_port() -> tokens.Tokenizer:
    """The small engine itself, whatever versions are installed: its tokens are compared with the
    installed tiktoken's (a new release of either is then tested before its version is pinned)."""
    real = tokens._small_engine_exact
    tokens._small_engine_exact = lambda spec: True  # type: ignore[assignment]  # the gate opened, for this build only
    try:
        return tokens.tokenizer_from_config("qwen2_5", engine="small")
    finally:
        tokens._small_engine_exact = real


SMALL = _the_port()
ENCODER: SmallEncoder = SMALL._enc.__self__  # type: ignore[attr-defined]  # a bound method: its encoder


def test_the_small_engine_is_what_small_inputs_get() -> None:
    assert isinstance(ENCODER, SmallEncoder) and SMALL is not TIKTOKEN
    assert SMALL.name == TIKTOKEN.name and SMALL.source == TIKTOKEN.source and SMALL.added_tokens == TIKTOKEN.added_tokens
    assert plan_table.choose_engine(0) == plan_table.choose_engine(plan_table.SMALL_BELOW_BYTES - 1) == "small"
    assert plan_table.choose_engine(plan_table.SMALL_BELOW_BYTES) == "tiktoken"
    assert plan_table.choose_engine(plan_table.FAST_FROM_BYTES) == "fast"
    assert plan_table.choose_engine(plan_table.FAST_FROM_BYTES, fast=False) == "tiktoken"


def test_a_small_file_is_counted_by_it_and_the_table_is_the_same(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
    used: list[str] = []
    real = plan_table.get_tokenizer
    monkeypatch.setattr(plan_table, "get_tokenizer", lambda spec, engine="tiktoken": used.append(engine) or real(spec, engine))
    monkeypatch.setattr(plan_table, "SMALL_BELOW_BYTES", path.stat().st_size + 1)
    small = ftkit.table(path).frame
    ftkit.split(path, out_dir=tmp_path / "split")  # split may use it too: it needs less memory than tiktoken
    monkeypatch.setattr(plan_table, "SMALL_BELOW_BYTES", 0)
    assert ftkit.table(path).frame.equals(small)
    assert used == ["small", "small", "tiktoken"]


def test_every_string_of_the_real_files_gets_the_same_tokens() -> None:
    assert_same_tokens_on_real_strings(SMALL, TIKTOKEN)


pieces = st.sampled_from(
    [" ", "  ", "   ", "\t", "\n", "\r", "\r\n", "\n\r", "\r\r\n", " \n", "\t\n ", "\u3000", "\xa0", "\u2028", "\x85", "\x0b", "\x1c",
     "'s", "'S", "'ll", "'LL", "'Ll", "'re", "'ve", "'m", "'d", "'t", "'ſ", "’s", "'", "''s", "123", "4", "٣", "٤٥", "¼", "Ⅻ",
     "²", "a", "Hello", "world", "don't", "I'M", "你好", "世界", "こんにちは", "안녕", "привет", "مرحبا", "नमस्ते", "😀", "👩‍💻", "🇫🇷",
     "e\u0301", "\u0301", "a\u0308\u0301", "\u200d", "\ufeff", ".", "!!", "...", "?!", "<", "<|im_end|>", "<tool_call>", "<|",
     "\ud800", "\udc00", "\ud83d\ude00", "\ud8b4", "\udc00's", "x" * 60, " " * 40, "\n" * 5, "#", "```", "\\n", "\x00", "\x7f", "\U0010ffff", "\ufffd"]
)  # fmt: skip


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pieces | st.text(max_size=12) | st.text(st.characters(codec=None), max_size=6), max_size=40).map("".join))
def test_generated_text_gets_the_same_tokens(text: str) -> None:
    assert SMALL.encode(text) == TIKTOKEN.encode(text)
    assert SMALL.count(text) == TIKTOKEN.count(text)


@pytest.mark.parametrize("form", ["{}", "a{}b", " {}", "{}\n", "{0}{0}{0}", "'{}", "1{}2", "中{}", "({}).", "x {}y", "{}'s"])
def test_a_sample_of_every_code_point_gets_the_same_tokens(form: str) -> None:
    """Every 251st code point (surrogates included) in each context; the script checks them all.
    Without the guard, "{}'s" differs on 71 of these (a letter to regex, a symbol to tiktoken)."""
    differ = [cp for cp in range(0, 0x110000, 251) if ENCODER.encode_ordinary(form.format(chr(cp))) != TIKTOKEN._enc(form.format(chr(cp)))]
    assert differ == []


def _rank(data: bytes) -> int | None:
    rank = ENCODER._ranks.get(base64.b64encode(data))
    return None if rank is None else int(rank)


def tiktoken_merge(piece: bytes, rank: Callable[[bytes], int | None]) -> list[tuple[int, int]]:
    """tiktoken's ``_byte_pair_merge`` (src/lib.rs), line by line: the reference for ``merge``."""
    big = 1 << 62

    def ranked(data: bytes) -> int:
        r = rank(data)
        return big if r is None else r

    parts = [(i, ranked(piece[i : i + 2])) for i in range(len(piece) - 1)]
    parts += [(len(piece) - 1, big), (len(piece), big)]

    def get_rank(i: int) -> int:
        return ranked(piece[parts[i][0] : parts[i + 3][0]]) if i + 3 < len(parts) else big

    while True:
        min_rank, at = big, -1
        for i, (_, r) in enumerate(parts[:-1]):
            if r < min_rank:  # strictly less: the leftmost among equals
                min_rank, at = r, i
        if min_rank == big:
            break
        if at > 0:
            parts[at - 1] = (parts[at - 1][0], get_rank(at - 1))
        parts[at] = (parts[at][0], get_rank(at))
        del parts[at + 1]
    return [(parts[i][0], parts[i + 1][0]) for i in range(len(parts) - 1)]


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=2, max_size=80) | st.text(min_size=1, max_size=60).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_the_merge_is_tiktokens(data: bytes) -> None:
    assert merge(data, _rank) == tiktoken_merge(data, _rank)


@pytest.mark.parametrize("data", [b"aaaaaaaa", b"  " * 40, "的的的的的".encode(), b"abababab", b"\xff\xfe" * 10, b"x" * 2000])
def test_repeats_merge_leftmost_first(data: bytes) -> None:
    assert merge(data, _rank) == tiktoken_merge(data, _rank)  # equal pairs: ties, the leftmost wins


def test_a_guarded_character_goes_to_tiktoken() -> None:
    """What the code-point script finds is put in the rules' guard; a text holding a guarded
    character is encoded whole by the fallback, any other one without it."""
    asked: list[str] = []

    def fallback() -> Callable[[str], list[int]]:
        return lambda text: asked.append(text) or TIKTOKEN._enc(text)

    guarded = SmallEncoder(ENCODER._ranks, SPEC["pattern"], [[0xE9, 0xE9], [0x1F600, 0x1F64F]], fallback)
    assert guarded.encode_ordinary("plain text") == TIKTOKEN._enc("plain text") and asked == []
    for text in ("café au lait", "x \U0001f600", "\ud800 é"):
        assert guarded.encode_ordinary(text) == TIKTOKEN._enc(text)
    assert asked == ["café au lait", "x \U0001f600", "\ud800 é"]
    ascii_guard = SmallEncoder(ENCODER._ranks, SPEC["pattern"], [(ord("q"), ord("q"))], fallback)
    assert ascii_guard.encode_ordinary("plain") == TIKTOKEN._enc("plain") and ascii_guard.encode_ordinary("quiet") == TIKTOKEN._enc("quiet")
    assert asked[-1] == "quiet" and len(asked) == 4  # an ASCII text is searched too when the guard has ASCII


def test_the_rules_guard_holds_what_the_script_found() -> None:
    """benchmarks/check_small_engine.py: U+3D000 is a letter to regex, a symbol to tiktoken, so
    "\U0003d000's" split otherwise (hypothesis found it); the guard sends such text to tiktoken."""
    guard = guard_ranges(SPEC["small_engine"]["guard"])
    assert len(guard) == 88 and guard == sorted(guard) and all(0 <= first <= last < 0x110000 for first, last in guard)
    assert guard_ranges("0558 058B-058C\n3D000-3D0FF") == [(0x558, 0x558), (0x58B, 0x58C), (0x3D000, 0x3D0FF)]
    assert sum(last - first + 1 for first, last in guard) == 26_872
    for text in ("\U0003d000's", "x\u0558's", "a\U0003d000b", "\ud8b4\udc00's"):  # the last: a surrogate pair of U+3D000
        assert ENCODER._guarded(text) or ENCODER._guarded(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
        assert SMALL.encode(text) == TIKTOKEN.encode(text)
    assert ENCODER._guard("plain 'text' 你好 😀") is None
    assert SMALL.encode("\ud8b4\udc00's") == TIKTOKEN.encode("\ud8b4\udc00's") == TIKTOKEN.encode("\U0003d000's")


def test_other_versions_of_regex_or_tiktoken_get_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tokens.installed_version
    for dist in SPEC["small_engine"]["exact_versions"]:
        monkeypatch.setattr(tokens, "installed_version", lambda d, dist=dist: "0.0.1" if d == dist else real(d))
        built = tokens.tokenizer_from_config("qwen2_5", engine="small")
        assert not isinstance(getattr(built._enc, "__self__", None), SmallEncoder)
        assert built.count("hello world") == 2
    monkeypatch.setattr(tokens, "installed_version", real)
    assert isinstance(getattr(tokens.tokenizer_from_config("qwen2_5", engine="small")._enc, "__self__", None), SmallEncoder) == PINNED


def test_the_installed_versions_and_the_checked_data_decide_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small inputs get the port only at the pinned versions of regex and tiktoken, and only for the
    rank file and pattern the comparison was run on; otherwise tiktoken."""
    from importlib.metadata import version

    pins = SPEC["small_engine"]["exact_versions"]
    assert set(pins) == {"regex", "tiktoken"}
    assert all(version(dist) in versions for dist, versions in pins.items()) == PINNED
    built = get_tokenizer(MODEL, "small")
    assert isinstance(getattr(built._enc, "__self__", None), SmallEncoder) == PINNED
    monkeypatch.setattr(tokens, "installed_version", lambda dist: pins[dist][0] if dist in pins else version(dist))
    assert tokens._small_engine_exact(SPEC)
    for key, other in (("sha256", "0" * 64), ("pattern", SPEC["pattern"] + "|x")):
        assert not tokens._small_engine_exact({**SPEC, key: other})
    assert not tokens._small_engine_exact({**SPEC, "small_engine": {**SPEC["small_engine"], "checked": {}}})


def test_the_rank_file_spells_every_token_as_its_lookup_does() -> None:
    """The port finds a byte string's rank by its base64 text (``b2a_base64``): that holds only if
    the file spells every token that way (canonical base64, no other padding)."""
    from binascii import a2b_base64, b2a_base64

    from ftkit.tokens.data import read_pinned_fields

    ranks, _ = read_pinned_fields("qwen2_5", SPEC)
    assert len(ranks) == SPEC["vocab"]
    assert all(b2a_base64(a2b_base64(key), newline=False) == key for key in ranks)


def test_a_pattern_with_groups_is_split_by_its_matches() -> None:
    """``findall`` gives a pattern's groups, not its matches, when it has any: the port splits by
    whole matches either way."""
    grouped = SmallEncoder(ENCODER._ranks, "(" + SPEC["pattern"] + ")", [], lambda: TIKTOKEN._enc)
    for text in ("Hello, world! don't 42", "你好  世界\r\n x", data_strings()[0]):
        assert grouped.encode_ordinary(text) == ENCODER.encode_ordinary(text) == TIKTOKEN.encode(text)


def test_it_shows_tokens_and_counts_added_tokens() -> None:
    text = "héllo <|im_start|>user\n你好<|im_end|>\n  ok <tool_call>"
    assert SMALL.encode(text) == TIKTOKEN.encode(text)
    assert [SMALL.token_bytes(t) for t in SMALL.encode(text)] == [TIKTOKEN.token_bytes(t) for t in TIKTOKEN.encode(text)]


def test_stats_of_a_small_file_are_tiktokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    records = [{"messages": [{"role": "user", "content": t}, {"role": "assistant", "content": t[::-1] + " ok"}]}
               for t in ("Hello  world", "don't\r\nstop", "你好，世界！", "e\u0301\u0301 x", "  \t lead", "123456789", "x \U0003d000's")]  # fmt: skip
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    used: list[str] = []
    real = plan_table.get_tokenizer
    monkeypatch.setattr(plan_table, "get_tokenizer", lambda spec, engine="tiktoken": used.append(engine) or real(spec, engine))
    small = ftkit.stats(path).model_dump()
    monkeypatch.setattr(plan_table, "SMALL_BELOW_BYTES", 0)
    assert ftkit.stats(path).model_dump() == small and small["records"] == len(records)
    assert used == ["small", "tiktoken"]


def test_stats_of_a_small_file_builds_no_tiktoken_and_imports_no_numpy(tmp_path: Path) -> None:
    """What the start-up gains rest on (benchmarks/bench_speed.py): a small input is counted by the
    small engine, and its table is made without numpy; the counts are tiktoken's."""
    import subprocess
    import sys

    text = "Hello, world! Don't panic: 42 你好"
    (tmp_path / "a.jsonl").write_text(json.dumps({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]}) + "\n")
    code = ("import sys; from ftkit.cli import main\ntry:\n    main(['stats', 'a.jsonl', '--format', 'json'])\nexcept SystemExit:\n    pass\n"
            "print('tiktoken' in sys.modules, 'numpy' in sys.modules, 'regex' in sys.modules)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    *out, modules = done.stdout.strip().splitlines()
    assert modules == ("False False True" if PINNED else "True False True")  # at other versions tiktoken counts
    assert json.loads("\n".join(out))["tokens"]["content_by_role"]["user"] == TIKTOKEN.count(text)


def test_its_caches_keep_short_pieces_only() -> None:
    """A long run is rarely seen twice: the caches keep pieces and byte strings of at most 256
    characters or bytes, so they stay small however long the texts are."""
    long_word = "q" * 5000
    assert SMALL.encode(long_word + " ok") == TIKTOKEN.encode(long_word + " ok")
    assert long_word not in ENCODER._pieces and " ok" in ENCODER._pieces
    assert all(len(piece) <= 256 for piece in ENCODER._pieces) and all(len(data) <= 256 for data in ENCODER._known)


def test_a_guarded_text_is_counted_by_the_cached_tiktoken_not_a_second_one() -> None:
    """The port's fallback is the tiktoken tokenizer ``get_tokenizer`` already holds (built once in
    a process), not another build beside it. (A fresh port and the tokenizer cached now: another
    test may have let the cache go since this module built its own.)"""
    port, cached = _the_port(), get_tokenizer(MODEL)
    assert port.encode("x \U0003d000's") == cached.encode("x \U0003d000's")
    assert port._enc.__self__._fallback() == cached._enc  # type: ignore[attr-defined]  # a bound method: its encoder
