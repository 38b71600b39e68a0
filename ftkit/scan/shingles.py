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
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64's finaliser


@lru_cache(maxsize=1)
def _tables() -> tuple[NDArray[np.uint8], NDArray[np.uint32]]:
    """For every code point: its class, and what it folds to (NFKC and case folding, when that
    is one code point). Built once (about 30 ms, 5.5 MB)."""
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
    kind[0] = _SEPARATOR  # separates the texts of one batch
    return kind, fold


def prepare() -> None:
    """Import numpy and build the tables now (e.g. before forking, so both processes share them)."""
    _tables()


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser, in place: every output bit depends on every input bit."""
    import numpy as np

    x ^= x >> np.uint64(30)
    x *= np.uint64(_MIX1)
    x ^= x >> np.uint64(27)
    x *= np.uint64(_MIX2)
    x ^= x >> np.uint64(31)
    return x


@lru_cache(maxsize=8)
def _constants(count: int, salt: int) -> NDArray[np.uint64]:
    """``count`` fixed odd 64-bit constants (from splitmix64), different for each ``salt``."""
    import numpy as np

    return _mix(np.arange(1, count + 1, dtype=np.uint64) + np.uint64(salt << 32)) | np.uint64(1)


def _units(texts: Sequence[str]) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """The hash of every unit of every text, in order, and how many units each text has."""
    import numpy as np

    codes = np.frombuffer("\x00".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if not len(codes):
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts), dtype=np.int64)
    kinds, folds = _tables()
    kind = kinds[codes]
    char = folds[codes].astype(np.uint64)
    keep = kind != _SEPARATOR
    single = kind == _CHAR
    # a unit starts at a kept character after a separator, at a character unit, and after one
    first = keep.copy()
    first[1:] &= ~keep[:-1] | single[1:] | single[:-1]
    # A unit's hash is the sum over its characters of a hash of (previous character, character),
    # its first character hashed alone: translation-invariant, so one running sum over the whole
    # batch gives every unit's hash as a difference.
    start_mult, pair_mult, pair_mix = _constants(3, 1)
    pair = np.empty_like(char)
    pair[0] = 0
    np.multiply(char[:-1], pair_mult, out=pair[1:])
    pair[1:] ^= char[1:]
    pair *= pair_mix
    char *= start_mult
    part = np.where(first, char, pair)
    part *= keep
    total = np.cumsum(part, dtype=np.uint64)
    starts = np.flatnonzero(first)
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], np.uint64(0))
    after = total[np.append(starts[1:] - 1, len(total) - 1)]
    units = after - before
    # texts begin after each NUL separator: count the units that start inside each text
    text_starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        np.cumsum(np.fromiter(map(len, texts[:-1]), dtype=np.int64, count=len(texts) - 1) + 1, out=text_starts[1:])
    counts = np.diff(np.append(np.searchsorted(starts, text_starts), len(starts)))
    return units, counts


def shingles(texts: Sequence[str], size: int) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """The shingle hashes of every text, and the index of the text each belongs to (in order of
    the texts; a text's shingles in text order, duplicates kept). A text without any letter or
    digit has none."""
    import numpy as np

    if not texts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    units, counts = _units(texts)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    mult = _constants(size, 2)
    full = len(units) - size + 1
    if full > 0:
        acc = units[:full] * mult[0]
        for i in range(1, size):
            acc += units[i : i + full] * mult[i]
        whole = owner[size - 1 :] == owner[:full]
        hashes, owners = [acc[whole]], [owner[:full][whole]]
    else:
        hashes, owners = [], []
    short = np.flatnonzero((counts > 0) & (counts < size))
    if len(short):  # a text of fewer than ``size`` units: one shingle of all of them
        first_unit = np.cumsum(counts) - counts
        rows = np.repeat(short, counts[short])
        where = np.arange(len(rows)) - np.repeat(np.cumsum(counts[short]) - counts[short], counts[short])
        part = units[np.repeat(first_unit[short], counts[short]) + where] * mult[where]
        acc_short = np.zeros(len(texts), dtype=np.uint64)
        np.add.at(acc_short, rows, part)
        hashes.append(acc_short[short])
        owners.append(short)
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    out, who = np.concatenate(hashes), np.concatenate(owners)
    if len(short):
        order = np.argsort(who, kind="stable")
        out, who = out[order], who[order]
    return _mix(out), who


def signatures(hashes: NDArray[np.uint64], owner: NDArray[np.int64], count: int, k: int) -> NDArray[np.uint64]:
    """One-permutation MinHash: a ``count`` x ``k`` matrix, one row per text (values < 2**32,
    plus 2**32 times the distance borrowed over for a densified bin). A text without shingles
    gets a row of ``2**32 * k`` (``has_shingles`` tells them apart)."""
    import numpy as np

    flat = np.full(count * k, _SENTINEL, dtype=np.uint64)
    bins = (((hashes >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)).astype(np.int64)
    np.minimum.at(flat, owner * k + bins, hashes & np.uint64(0xFFFFFFFF))
    rows = flat.reshape(count, k)
    gaps = np.flatnonzero((rows == _SENTINEL).any(axis=1))
    if len(gaps):  # short texts: each empty bin takes the next non-empty bin's value, cyclically
        sub = rows[gaps]
        doubled = np.concatenate([sub, sub], axis=1)
        index = np.where(doubled != _SENTINEL, np.arange(2 * k), 2 * k - 1)
        nearest = np.minimum.accumulate(index[:, ::-1], axis=1)[:, ::-1][:, :k]
        distance = (nearest - np.arange(k)).astype(np.uint64)
        sub = np.take_along_axis(doubled, nearest, axis=1) + (distance << np.uint64(32))
        sub[(doubled == _SENTINEL).all(axis=1)] = np.uint64(_SENTINEL * k)
        rows[gaps] = sub
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
    out = _mix((grouped * _constants(per_band, 3)).sum(axis=2, dtype=np.uint64)).view(np.int64)
    out[out == 0] = 1
    out[~has_shingles(rows)] = 0
    return out
