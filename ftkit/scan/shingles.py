"""Shingles and MinHash signatures of record texts, computed with numpy many records at a time.

A text is cut into units: each Han, Hiragana or Katakana character (and each character of the
other scripts written without spaces: Thai, Lao, Khmer, Myanmar) is a unit of its own; every
other run of letters and digits is a word, one unit. Case, character width (NFKC), whitespace
and punctuation are ignored. A shingle is ``size`` consecutive units, so Chinese and Japanese
text is compared by character shingles and other text by word shingles, which also holds inside
one mixed text. A text with fewer units than ``size`` has one shingle: all its units.

Signatures are one-permutation MinHash (Li, Owen and Zhang 2012): every shingle is hashed once
into one of k bins and each bin keeps its smallest value; empty bins borrow from the next
non-empty one (Shrivastava and Li 2014). That is k-permutation MinHash at the cost of one hash a
shingle; two texts agree in a bin with probability about their Jaccard similarity.

Everything is deterministic (fixed constants, not Python's per-process ``hash``): the same text
gets the same shingles and signature in every process and on every run, which ``ftkit split``
relies on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_SEPARATOR, _WORD, _CHAR = 0, 1, 2
# Blocks whose characters are units of their own (no spaces between words in these scripts).
_CHAR_BLOCKS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9D),  # half-width Katakana
)
_HANGUL = (0xAC00, 0xD7A3)  # syllables: letters of words written with spaces
# Code points whose folding and class come from unicodedata; the big ideograph and Hangul blocks
# fold to themselves, surrogates and private use are separators.
_LOOKED_UP = ((0, 0x3400), (0x4DC0, 0x4E00), (0xA000, 0xAC00), (0xD7A4, 0xD800), (0xF900, 0x10000))
_SENTINEL = 1 << 32  # larger than every bin value
_EMPTY = 1 << 62  # what an empty bin holds before densifying: far larger than every result
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64's finaliser
_GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / the golden ratio, odd: spreads a character's place in its unit


# The packed table's flags: a character unit has _CHAR_BIT, a word character _WORD_BIT; the low
# bits hold what the character folds to (at most 0x10FFFF). A separator is 0.
_CHAR_BIT, _WORD_BIT = 1 << 30, 1 << 31
_FOLD_MASK = _CHAR_BIT - 1


@lru_cache(maxsize=1)
def _tables() -> NDArray[np.uint32]:
    """For every code point, one word (so that one gather gives both): its class in the top bits
    and what it folds to (NFKC and case folding, when that is one code point) in the others; 0
    for a separator. Built once (about 30 ms, 4.4 MB)."""
    import numpy as np

    kind = np.zeros(0x110000, dtype=np.uint8)
    fold = np.arange(0x110000, dtype=np.uint32)
    for lo, hi in _CHAR_BLOCKS:
        kind[lo : hi + 1] = _CHAR
    kind[0x20000:0x40000] = _CHAR  # CJK extensions B and later; the other planes (emoji) separate
    kind[_HANGUL[0] : _HANGUL[1] + 1] = _WORD
    for lo, hi in _LOOKED_UP:
        for cp in range(lo, hi):
            folded = unicodedata.normalize("NFKC", chr(cp)).casefold()
            if len(folded) == 1:
                fold[cp] = ord(folded)
            if not kind[cp] and folded and unicodedata.category(folded[0])[0] in "LNM":
                kind[cp] = kind[ord(folded[0])] or _WORD
    kind[0x30FB] = _SEPARATOR  # the Katakana middle dot is punctuation
    kind[0] = _SEPARATOR  # a NUL inside a text separates
    # a separator's fold is never read (it starts and continues no unit): 0 lets ``_units`` tell
    # separators by the whole word being 0
    flags = np.array([0, _WORD_BIT, _CHAR_BIT], dtype=np.uint32)
    return np.where(kind == _SEPARATOR, np.uint32(0), fold | flags[kind])


def prepare() -> None:
    """Import numpy and build the tables now (e.g. before forking, so both processes share them)."""
    _tables()


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser, in place: every output bit depends on every input bit."""
    import numpy as np

    tmp = np.empty_like(x)
    for shift, mult in ((30, _MIX1), (27, _MIX2), (31, 0)):
        np.right_shift(x, np.uint64(shift), out=tmp)
        x ^= tmp
        if mult:
            x *= np.uint64(mult)
    return x


@lru_cache(maxsize=8)
def _constants(count: int, salt: int) -> NDArray[np.uint64]:
    """``count`` fixed odd 64-bit constants (from splitmix64), different for each ``salt``."""
    import numpy as np

    return _mix(np.arange(1, count + 1, dtype=np.uint64) + np.uint64(salt << 32)) | np.uint64(1)


def _units(texts: Sequence[str], pad: int) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """The hash of every unit of every text, in order, each text followed by ``pad`` units of
    hash 0; and the index of each text's first unit, then the number of units."""
    import numpy as np

    # The texts are joined with NULs, ``pad`` of them (at least one) after each text; those
    # ``pad`` become units of their own of hash 0 (fold 0). A NUL inside a text separates.
    gap = max(pad, 1)
    joined = ("\x00" * gap).join([*texts, ""])
    # numpy's str dtype is UTF-32 (lone surrogates included), which it makes faster than encode
    codes = np.array([joined], dtype=f"U{len(joined)}").view(np.uint32)
    bounds = np.zeros(len(texts) + 1, dtype=np.int64)  # where each text starts, and the end
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + gap, out=bounds[1:])
    p = _tables().take(codes)
    if pad:
        p.put((bounds[1:, None] - gap) + np.arange(pad), _CHAR_BIT)
    # A unit starts at a kept character unless it and the one before are both word characters.
    word = p >= np.uint32(_WORD_BIT)
    cont = np.empty(len(p), dtype=np.bool_)
    cont[0] = False
    np.logical_and(word[1:], word[:-1], out=cont[1:])
    first = p != 0
    first ^= cont  # continuations are kept characters, so ^ is "and not"
    starts = np.flatnonzero(first)
    # A unit's hash is the sum over its characters of a hash of (previous character, character,
    # place in the unit), its first character hashed alone. The pair hashes of continuations (0
    # elsewhere) summed over the whole batch give the sum over a unit's other characters as a
    # difference. Each pair hash is mixed (``_mix``, splitmix64's finaliser) before it is summed: summed
    # unmixed, (previous * c) ^ character is nearly linear, and 82,508 of the numbers 0-99,999
    # (7.7% of 247,444 random words) shared their hash with another. The place keeps words whose
    # pairs are the same but in another order apart (12131 and 13121): without it, 3,402 numbers.
    start_mult, pair_mult = _constants(2, 1)
    char = np.bitwise_and(p, np.uint32(_FOLD_MASK)).astype(np.uint64)
    pair = np.empty_like(char)
    pair[0] = 0
    np.multiply(char[:-1], pair_mult, out=pair[1:])
    pair[1:] ^= char[1:]
    if len(starts):
        place = np.arange(len(p), dtype=np.uint64)
        place[starts[0] :] -= np.repeat(starts.astype(np.uint64), np.diff(starts, append=len(p)))
        place *= np.uint64(_GOLDEN)
        pair += place
    _mix(pair)
    np.multiply(pair, cont, out=pair)
    np.cumsum(pair, out=pair)
    at = pair.take(starts)
    units = np.empty_like(at)
    np.subtract(at[1:], at[:-1], out=units[:-1])
    np.subtract(pair[-1:], at[-1:], out=units[-1:])
    head = char.take(starts)
    head *= start_mult
    units += head
    return units, np.searchsorted(starts, bounds)


def shingles(texts: Sequence[str], size: int) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """The shingle hashes of every text, and the index of the text each belongs to (in order of
    the texts; a text's shingles in text order, duplicates kept). A text without any letter or
    digit has none."""
    import numpy as np

    if not texts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    # Each text's units are followed by size - 1 units of hash 0, so the rolling sum at the first
    # unit of a text shorter than ``size`` is its one shingle (of all its units), and no window
    # that starts inside a text reaches the next one.
    units, first = _units(texts, size - 1)
    counts = first[1:] - first[:-1]
    counts -= size - 1
    taken = np.minimum(counts, 1)
    counts -= size - 1
    np.maximum(counts, taken, out=taken)  # shingles per text: units - size + 1, or 1 if fewer
    full = len(units) - size + 1
    if full <= 0 or not taken.any():
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    mult = _constants(size, 2)
    acc = units[:full] * mult[0]
    tmp = np.empty_like(acc)
    for i in range(1, size):
        np.multiply(units[i : i + full], mult[i], out=tmp)
        acc += tmp
    # drop the windows from each text's last shingle on to the next text (fewer than 2 * size)
    drop = (first[:-1] + taken)[:, None] + np.arange(2 * size - 2)
    drop = drop[(drop < first[1:, None]) & (drop < full)]
    whole = np.ones(full, dtype=np.bool_)
    whole.put(drop, False)
    return _mix(acc[whole]), np.repeat(np.arange(len(texts), dtype=np.int64), taken)


def signatures(hashes: NDArray[np.uint64], owner: NDArray[np.int64], count: int, k: int) -> NDArray[np.uint64]:
    """One-permutation MinHash: a ``count`` x ``k`` matrix, one row per text (values < 2**32,
    plus 2**32 times the distance borrowed over for a densified bin). A text without shingles
    gets a row of ``2**32 * k`` (``has_shingles`` tells them apart)."""
    import numpy as np

    flat = np.full(count * k, _EMPTY, dtype=np.uint64)
    at = hashes >> np.uint64(32)
    at *= np.uint64(k)
    at >>= np.uint64(32)  # the bin
    at += owner.view(np.uint64) * np.uint64(k)
    np.minimum.at(flat, at.view(np.int64), hashes & np.uint64(0xFFFFFFFF))
    # Densify: bin j takes value + 2**32 * distance of the nearest non-empty bin j' >= j, which
    # is the minimum over j' >= j of value + 2**32 * j' (empty bins are far larger), less
    # 2**32 * j; past a row's last non-empty bin it wraps round to the row's first one.
    rows = flat.reshape(count, k)
    shift = np.arange(k, dtype=np.uint64) << np.uint64(32)
    rows += shift
    backwards = rows[:, ::-1]
    np.minimum.accumulate(backwards, axis=1, out=backwards)
    np.minimum(rows, rows[:, :1] + np.uint64(k << 32), out=rows)
    rows -= shift
    empty = rows[:, 0] >= np.uint64(_EMPTY)
    if empty.any():
        rows[empty] = np.uint64(_SENTINEL * k)
    return rows


def has_shingles(rows: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which rows of ``signatures`` belong to texts with at least one shingle."""
    import numpy as np

    return rows[:, 0] != np.uint64(_SENTINEL * rows.shape[1])


def band_hashes(rows: NDArray[np.uint64], bands: int, per_band: int) -> NDArray[np.int64]:
    """One 64-bit hash per band of ``per_band`` signature values (``count`` x ``bands``); 0 for
    a text without shingles, so that such texts never collide."""
    import numpy as np

    grouped = rows[:, : bands * per_band].reshape(rows.shape[0], bands, per_band)
    out = _mix(np.matmul(grouped, _constants(per_band, 3))).view(np.int64)  # integer matmul wraps, as sum does
    if not out.all():
        out[out == 0] = 1
    empty = ~has_shingles(rows)
    if empty.any():
        out[empty] = 0
    return out
