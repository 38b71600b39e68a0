"""tiktoken's encoding in pure Python, for small inputs: the same tokens, ready in a few hundredths
of a second instead of a fifth.

Building tiktoken's encoder costs the same whatever the input: every one of the 151,643 ranks is
decoded from base64, then handed to Rust, which builds its own tables (together about 0.2 s, the
GIL held). A 10-line file needs a few hundred of them. This engine keeps the rank file as it is
spelt (``ftkit.tokens.data.read_pinned_fields``: base64 text -> rank digits) and looks up only the
byte strings it meets, in the base64 form of each.

It does what tiktoken's ``CoreBPE.encode_ordinary`` does (src/lib.rs, 0.14): split the text with the
same pattern (here with the ``regex`` package, which runs it as fancy-regex does: backtracking,
leftmost alternative first); a piece that is a token is that token; any other piece is merged
byte-pair by byte-pair, the adjacent pair of lowest rank first and the leftmost one among equals
(``_byte_pair_merge``; here with a heap, the same order, so that a long piece is not quadratic).
Lone surrogates are replaced as tiktoken's Python wrapper replaces them.

The ``regex`` package carries its own Unicode tables, and the Rust regex crate inside tiktoken its
own: a character the two class differently (a letter to one, a symbol to the other) can split a
text differently ("c's": the symbol takes the apostrophe). ``guard`` holds every code point whose
class may differ (benchmarks/check_small_engine.py: those unassigned in Unicode 14 that ``regex``
makes letters or numbers, 88 ranges; it also compares the tokens of every code point in eleven
contexts); a text holding one is counted by the ``fallback`` encoder (tiktoken, built on first
need). The engine is only used at the versions of
``regex`` and tiktoken that script was run with (rules/tokenizers.toml ``small_engine``).
"""

from __future__ import annotations

import heapq
import re
from binascii import b2a_base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: Pieces whose tokens, and byte strings whose ranks, are remembered (repeated words, whitespace
#: and byte pairs are most of any text), each at most ``_CACHED_LENGTH`` long: a long run is
#: rarely seen twice, and the bound keeps the caches small (65,536 x 256 bytes at most).
_CACHE_LIMIT = 1 << 16
_CACHED_LENGTH = 256


class SmallEncoder:
    """``encode_ordinary`` of a tiktoken-file encoding, from the rank file's own text.

    ``ranks``: base64 of each token's bytes -> its rank (digits); ``pattern``: the pre-tokenizer;
    ``guard``: ranges of code points (first, last) this engine leaves to ``fallback`` (which
    encodes a whole text holding one)."""

    def __init__(self, ranks: Mapping[bytes, bytes], pattern: str, guard: Sequence[Sequence[int]],
                 fallback: Callable[[], Callable[[str], list[int]]]) -> None:  # fmt: skip
        import regex

        self._ranks = ranks
        compiled = regex.compile(pattern)
        # findall gives the groups of a pattern that has any, not its matches: then each match's whole
        self._split = compiled.findall if not compiled.groups else lambda text: [m.group() for m in compiled.finditer(text)]
        # one character class of the guarded ranges of code points (first, last), or none at all;
        # in the standard re module, whose classes are bitmaps: 3x quicker than regex's here
        spans = "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in guard)
        self._guard = re.compile(f"[{spans}]").search if spans else None
        self._ascii_safe = all(first >= 0x80 for first, _ in guard)  # then ASCII text needs no search
        self._fallback = fallback
        self._pieces: dict[str, list[int]] = {}
        self._known: dict[bytes, int | None] = {}  # byte strings looked up so far -> rank

    def encode_ordinary(self, text: str) -> list[int]:
        """The tokens tiktoken's ``Encoding.encode_ordinary(text)`` gives."""
        if self._guarded(text):
            return self._fallback()(text)
        try:
            return self._encode(text)
        except UnicodeEncodeError:  # surrogates: replaced as tiktoken's encode_ordinary does
            fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            # a pair of them becomes the character it encodes, which may be a guarded one
            return self._fallback()(text) if self._guarded(fixed) else self._encode(fixed)

    def _guarded(self, text: str) -> bool:
        return self._guard is not None and not (self._ascii_safe and text.isascii()) and self._guard(text) is not None

    def _encode(self, text: str) -> list[int]:
        out: list[int] = []
        known = self._pieces
        for piece in self._split(text):
            tokens = known.get(piece)
            if tokens is None:
                tokens = self._piece(piece.encode("utf-8"))
                if len(known) < _CACHE_LIMIT and len(piece) <= _CACHED_LENGTH:
                    known[piece] = tokens
            out += tokens
        return out

    def _rank(self, data: bytes) -> int | None:
        known = self._known
        if data in known:  # a merge looks the same few pairs up again and again
            return known[data]
        found = self._ranks.get(b2a_base64(data, newline=False))
        rank = None if found is None else int(found)
        if len(known) < _CACHE_LIMIT and len(data) <= _CACHED_LENGTH:
            known[data] = rank
        return rank

    def _piece(self, data: bytes) -> list[int]:
        whole = self._rank(data)  # as tiktoken: a piece that is a token is never merged
        if whole is not None:
            return [whole]
        return [self._token(data[start:end]) for start, end in merge(data, self._rank)]

    def _token(self, data: bytes) -> int:
        rank = self._rank(data)
        if rank is None:  # every byte is a token, and a merge only makes tokens
            raise AssertionError(f"no rank for {data!r}")
        return rank


def merge(data: bytes, rank: Callable[[bytes], int | None]) -> list[tuple[int, int]]:
    """The parts tiktoken's byte-pair merge leaves of ``data`` (start, end), in order.

    Parts start as single bytes; the adjacent pair whose joined bytes have the lowest rank is
    joined, the leftmost one when several have it, until no joined pair is a token. Ranks are
    unique to their bytes, so an entry of the heap is current exactly when its part still starts
    there and still pairs to that rank."""
    n = len(data)
    nxt = list(range(1, n + 2))  # the start of the next part (n: the end)
    prv = list(range(-1, n))
    pair: list[int | None] = [rank(data[i : i + 2]) for i in range(n - 1)] + [None, None]
    heap: list[tuple[int, int]] = [(r, i) for i, r in enumerate(pair) if r is not None]
    heapq.heapify(heap)
    while heap:
        r, i = heapq.heappop(heap)
        if pair[i] != r:  # stale: the part was merged away or its pair changed
            continue
        gone = nxt[i]
        nxt[i] = nxt[gone]
        prv[nxt[gone]] = i
        pair[gone] = None
        for at in (i, prv[i]):  # the two pairs that changed: this part's and the one before
            if at < 0:
                continue
            after = nxt[at]
            new = rank(data[at : nxt[after]]) if after < n else None
            pair[at] = new
            if new is not None:
                heapq.heappush(heap, (new, at))
    parts, at = [], 0
    while at < n:
        parts.append((at, nxt[at]))
        at = nxt[at]
    return parts


def guard_ranges(text: str) -> list[tuple[int, int]]:
    """The rules' guard (hex code points, ``FIRST-LAST`` for a range, separated by white space) as
    (first, last) pairs. One string, not a TOML array of pairs: it is parsed on every start-up."""
    pairs = [item.split("-") for item in text.split()]
    return [(int(p[0], 16), int(p[-1], 16)) for p in pairs]


def small_encoder_of(
    spec: Mapping[str, Any], ranks: Mapping[bytes, bytes], fallback: Callable[[], Callable[[str], list[int]]]
) -> SmallEncoder:
    """The small engine of a ``[tokenizers.<key>]`` table (its ``small_engine.guard``)."""
    return SmallEncoder(ranks, spec["pattern"], guard_ranges(spec["small_engine"].get("guard", "")), fallback)
