"""FT504 near-duplicate records: locality-sensitive hashing during the scan, exact Jaccard after it.

During the scan ``NearSignatures`` keeps ``bands`` 64-bit band hashes per record (112 bytes with
the default 14 bands), computed from a MinHash signature of a sample of the record's text (see
``ftkit.scan.shingles``). Two records whose signatures agree in all rows of some band are
candidates: with 14 bands of 8 rows, a pair of Jaccard similarity 0.8 becomes one with
probability 1 - (1 - 0.8**8)**14 = 0.92, at 0.9 with 0.9998, at 0.5 with 0.05.

After the scan ``find_near_duplicates`` re-reads only the candidate records, shingles their whole
text and computes the Jaccard similarity of every candidate pair (after a cheap estimate from
full-text signatures has dropped the hopeless ones), so what is reported is exact: a record is a
near-duplicate of the earliest candidate whose similarity reaches the threshold. Similar pairs are
joined into clusters (union-find), which ``ftkit split --group-by near`` keeps on one side.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftkit.policy.profile import QualityRules
from ftkit.scan.dedup import distinct
from ftkit.scan.fetch import fetch_lines
from ftkit.scan.reader import careful

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# Characters of text a batch is signed in: big enough for numpy's per-call cost to vanish, small
# enough (with the arrays it makes, about 30 bytes a character) to stay in the processor's cache.
# Measured on the 2.7 M characters of the first 3,000 records of bench_report.py's input (shingles,
# signatures and band hashes, against 16 Ki in the same run): 32 Ki 0.85, 64 Ki 0.78, 128 Ki 0.84.
_BATCH_CHARS = 1 << 16
# ... and at most this many records (a batch of empty or one-character texts would otherwise make a
# signature matrix of 900 bytes a record, 60 MB for 64 Ki records)
_BATCH_RECORDS = 1 << 12
# Each record in a band bucket is paired with at most this many earlier records of the bucket:
# the members of a true cluster agree with each other, so the cluster still connects, and a
# bucket of thousands of merely similar records does not cost millions of comparisons.
_WINDOW = 32
# Records a bucket holds before each of them is paired with fewer earlier ones (at least one), so
# that a bucket makes at most window x this many pairs: 160,000 templated records, all in one
# bucket in most bands, made 5.1M candidate pairs with the full window.
_BUCKET_RECORDS = 2048
# Pairs of big sets whose signature estimate is this far below the threshold are not compared
# exactly (the estimate's standard deviation is about 0.04 at 112 bins and a similarity of 0.8;
# pairs of short records, whose estimate strays further, are always compared exactly).
_MARGIN = 0.2
# Pair codes held before the repeats among them are dropped (``candidate_pairs``; 8 bytes each).
_HELD_PAIRS = 1 << 23
# Hashes looked up at once by ``jaccards`` (about 40 bytes each while it works).
_LOOKUPS = 1 << 22


def conversation(messages: Sequence[dict[str, Any]]) -> str:
    """The text compared: every user and assistant message, in order. System prompts are left
    out: many datasets give every record the same one (FT507), which would make all short
    records look alike."""
    return "\n".join([m["content"] for m in messages if m["role"] != "system"])


def sample(text: str, chars: int) -> str:
    """What the signature reads: the whole text, or its first and last ``chars // 2`` characters."""
    if not chars or len(text) <= chars:
        return text
    half = chars // 2
    return text[:half] + "\n" + text[-half:]


class NearSignatures:
    """Band hashes of every record, ``quality.near_duplicate_bands`` per record, in scan order."""

    def __init__(self, quality: QualityRules) -> None:
        self.quality = quality
        self.bands = array("q")
        self._pending: list[str] = []
        self._signed: list[tuple[int, bytes]] = []  # (texts pending before it, band hashes) of records signed already
        self._chars = 0

    def text(self, messages: Sequence[dict[str, Any]]) -> str:
        """What ``add`` takes for a record (raises TypeError if a content is not a string)."""
        return sample(conversation(messages), self.quality.near_duplicate_sample)

    def add(self, text: str) -> None:
        self._pending.append(text)
        self._chars += len(text)
        if self._chars >= _BATCH_CHARS or len(self._pending) >= _BATCH_RECORDS:
            self.flush()

    def add_signed(self, bands: bytes) -> None:
        """A record whose band hashes were worked out already (``ftkit.scan.headstart``): kept in
        its place, without signing the texts before it in a batch of their own."""
        if self._pending:
            self._signed.append((len(self._pending), bands))
        else:
            self.bands.frombytes(bands)

    def flush(self) -> None:
        if not self._pending:
            return
        from ftkit.scan.shingles import band_hashes, shingles, signatures

        q = self.quality
        hashes, owner = shingles(self._pending, q.near_duplicate_shingle)
        rows = signatures(hashes, owner, len(self._pending), q.near_duplicate_bands * q.near_duplicate_rows)
        signed = band_hashes(rows, q.near_duplicate_bands, q.near_duplicate_rows)
        done = 0
        for before, bands in self._signed:  # the records signed already, each after the texts before it
            self.bands.frombytes(signed[done:before].tobytes())
            self.bands.frombytes(bands)
            done = before
        self.bands.frombytes(signed[done:].tobytes())
        self._pending, self._signed, self._chars = [], [], 0


@dataclass
class NearDuplicates:
    """What ``find_near_duplicates`` found."""

    #: (line, earliest similar line, Jaccard similarity), one per near-duplicate record
    found: list[tuple[int, int, float]] = field(default_factory=list)
    #: line -> first line of its cluster, for every record with at least one similar record
    clusters: dict[int, int] = field(default_factory=dict)


def candidate_pairs(bands: NDArray[np.int64], usable: NDArray[np.bool_], window: int = _WINDOW) -> NDArray[np.int64]:
    """Row pairs (earlier, later) that share a band hash, each once, sorted by later then earlier."""
    import numpy as np

    rows = np.flatnonzero(usable)
    count = int(bands.shape[0])
    codes: list[NDArray[np.int64]] = []  # later * count + earlier
    held = 0
    for b in range(bands.shape[1]):
        column = bands[rows, b]
        order = np.argsort(column, kind="stable")  # equal hashes stay in row (= line) order
        ordered = column[order]
        repeat = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1  # positions that follow an equal one
        if not len(repeat):
            continue
        # position of each sorted element within its run of equal hashes
        run_start = np.ones(len(ordered), dtype=bool)
        run_start[repeat] = False
        starts = np.maximum.accumulate(np.where(run_start, np.arange(len(ordered)), 0))
        depth = np.arange(len(ordered)) - starts
        # a bucket of more than _BUCKET_RECORDS records (templated records that share the
        # words of their template) pairs each with fewer earlier ones, at least the one before it
        run = np.cumsum(run_start) - 1
        sizes = np.bincount(run)
        budget = window * _BUCKET_RECORDS  # pairs a bucket makes at most
        reach = np.maximum(1, np.minimum(window, budget // sizes))[run] if sizes.max() > _BUCKET_RECORDS else None
        for d in range(1, min(window, int(depth.max())) + 1):
            later = np.flatnonzero((depth >= d) & (reach >= d) if reach is not None else depth >= d)
            code = rows[order[later]] * count
            code += rows[order[later - d]]
            codes.append(code)
            held += len(code)
        if held > _HELD_PAIRS:  # bands of templated records repeat each other's pairs: drop the repeats now
            codes = [distinct(np.concatenate(codes))[0]]
            held = len(codes[0])
    if not codes:
        return np.zeros((0, 2), dtype=np.int64)
    unique = distinct(np.concatenate(codes))[0]
    return np.stack([unique % count, unique // count], axis=1)


def _read_texts(path: Path, wanted: set[int], spans: Mapping[int, int], max_line_bytes: int,
                marks: Sequence[tuple[int, int]] | None = None) -> dict[int, str]:  # fmt: skip
    """The conversation text of each wanted line (a record over several lines, FT008, is joined
    up to its last line), parsed as the scan parsed it: by orjson, and by the careful parse when
    orjson refuses it (a record the scan kept that both read has the same value in both; the
    careful parse costs 50 us a record, and templated files send every record here)."""
    import orjson

    ends = {line: spans.get(line, line) for line in wanted}
    with open(path, "rb") as stream:
        raw = fetch_lines(stream, (n for line, end in ends.items() for n in range(line, end + 1)), max_line_bytes, marks=marks)
    texts: dict[int, str] = {}
    for line, end in ends.items():
        record = b"\n".join(raw.get(n, b"") for n in range(line, end + 1))
        if line == 1 and record.startswith(b"\xef\xbb\xbf"):
            record = record[3:]
        try:
            value = orjson.loads(record)
        except orjson.JSONDecodeError:
            parsed = careful(record)
            value = parsed.value if parsed.ok else None
        try:
            texts[line] = conversation(value["messages"]) if value is not None else ""
        except (KeyError, TypeError, AttributeError):
            continue
    return texts


def _shingle_sets(texts: list[str], quality: QualityRules) -> list[NDArray[np.uint64]]:
    """Each text's distinct shingle hashes (sorted), in batches."""
    import numpy as np

    from ftkit.scan.shingles import shingles

    sets: list[NDArray[np.uint64]] = []
    start = 0
    while start < len(texts):
        end, chars = start, 0
        while end < len(texts) and (chars < _BATCH_CHARS or end == start):
            chars += len(texts[end])
            end += 1
        batch = texts[start:end]
        hashes, owner = shingles(batch, quality.near_duplicate_shingle)
        # each text's distinct hashes, sorted: one sort for the batch (np.unique per text cost
        # 75-150 us a call, most of the check on 10,000 short templated records)
        order = np.lexsort((hashes, owner))
        hashes, owner = hashes[order], owner[order]
        first = np.ones(len(hashes), dtype=np.bool_)  # a hash's first place in its text
        first[1:] = (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])
        hashes, owner = hashes[first], owner[first]
        sets.extend(np.split(hashes, np.searchsorted(owner, np.arange(1, len(batch)))))
        start = end
    return sets


def _estimates(sets: Sequence[NDArray[np.uint64]], pairs: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """The signatures' estimate of each pair's similarity (the share of ``k`` bins they agree
    in), from the sets (a signature keeps a bin's smallest hash: repeats change nothing), signing
    only the rows the pairs name."""
    import numpy as np

    from ftkit.scan.shingles import signatures

    rows, local = distinct(pairs.ravel(), ranks=True)
    assert local is not None
    local = local.reshape(pairs.shape)
    picked = [sets[r] for r in rows.tolist()]
    counts = np.fromiter(map(len, picked), dtype=np.int64, count=len(picked))
    signed = signatures(np.concatenate(picked), np.repeat(np.arange(len(picked)), counts), len(picked), k)
    out = np.empty(len(pairs))
    for part in np.array_split(np.arange(len(pairs)), max(1, len(pairs) // 8192)):
        c = local[part]
        out[part] = (signed[c[:, 0]] == signed[c[:, 1]]).mean(axis=1)
    return out


def jaccards(sets: Sequence[NDArray[np.uint64]], pairs: NDArray[np.int64]) -> NDArray[np.float64]:
    """The Jaccard similarity of ``sets[i]`` and ``sets[j]`` (shared hashes over hashes in
    either; 0 when one is empty) for every row (i, j) of ``pairs``, each set sorted and distinct
    as ``_shingle_sets`` makes them. All at once: each hash of the smaller set of a pair is looked
    up in the other by one search among all the sets laid end to end (as row * distinct hashes +
    the hash's rank, which sorts them one set after another). Each call lays out every set, so
    ask for all the pairs in one call.
    Templated records make millions of candidate pairs, and a call per pair cost 6-60 us."""
    import numpy as np

    out = np.zeros(len(pairs))
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    if not len(pairs) or not sizes.any():
        return out
    begin = np.zeros(len(sets), dtype=np.int64)
    np.cumsum(sizes[:-1], out=begin[1:])
    values, ranks = distinct(np.concatenate(sets), ranks=True)
    assert ranks is not None
    width = len(values)
    keys = np.repeat(np.arange(len(sets), dtype=np.int64) * width, sizes)
    keys += ranks
    a, b = pairs[:, 0], pairs[:, 1]
    swap = sizes[a] > sizes[b]
    small, large = np.where(swap, b, a), np.where(swap, a, b)
    looked = sizes[small]
    ends = np.cumsum(looked)
    cuts = [0, *np.searchsorted(ends, np.arange(_LOOKUPS, int(ends[-1]), _LOOKUPS), side="right").tolist(), len(pairs)]
    for lo, hi in pairwise(cuts):
        n = looked[lo:hi]
        total = int(n.sum())
        if not total:
            continue
        offsets = np.cumsum(n) - n
        hashes = np.repeat(begin[small[lo:hi]] - offsets, n)
        hashes += np.arange(total)  # where each looked-up hash is in ``ranks``, pair after pair
        query = np.repeat(large[lo:hi] * width, n)
        query += ranks[hashes]
        at = np.searchsorted(keys, query)
        np.minimum(at, len(keys) - 1, out=at)
        found = np.zeros(total + 1, dtype=np.int64)
        np.cumsum(keys[at] == query, out=found[1:])
        shared = found[offsets + n] - found[offsets]
        other = sizes[large[lo:hi]]
        both = (n > 0) & (other > 0)
        out[lo:hi][both] = shared[both] / (n + other - shared)[both]
    return out


def find_near_duplicates(path: Path, lines: Sequence[int], bands: array[int], excluded: Iterable[int], quality: QualityRules,
                         max_line_bytes: int, spans: Mapping[int, int] | None = None,
                         marks: Sequence[tuple[int, int]] | None = None) -> NearDuplicates:  # fmt: skip
    """Candidates from shared band hashes, confirmed on the records' whole text (see the module
    docstring). ``lines[i]`` is the line of row i of ``bands``; ``excluded`` lines (exact copies,
    FT501) take no part; ``spans`` maps the first line of a record over several lines to its last."""
    import numpy as np

    result = NearDuplicates()
    count = len(lines)
    if count < 2:
        return result
    matrix = np.frombuffer(bands, dtype=np.int64).reshape(count, quality.near_duplicate_bands)
    line_of = np.frombuffer(lines, dtype=np.int64) if isinstance(lines, array) else np.asarray(lines, dtype=np.int64)
    usable = (matrix[:, 0] != 0) & ~np.isin(line_of, np.fromiter(excluded, dtype=np.int64))
    pairs = candidate_pairs(matrix, usable)
    if not len(pairs):
        return result
    rows, local = distinct(pairs.ravel(), ranks=True)  # local: pair rows -> positions in ``sets``
    assert local is not None
    local = local.reshape(pairs.shape)
    wanted = line_of[rows]
    texts = _read_texts(path, set(wanted.tolist()), spans or {}, max_line_bytes, marks)
    sets = _shingle_sets([texts.get(int(n), "") for n in wanted], quality)
    threshold = quality.near_duplicate_threshold
    # The signatures' estimate spares the exact count for pairs of big sets. It reads 2 x 112
    # values a pair; for a pair whose smaller set has no more hashes than that, the exact count
    # is as cheap, and it is the answer.
    k = quality.near_duplicate_bands * quality.near_duplicate_rows
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    big = np.flatnonzero(np.minimum(lengths[local[:, 0]], lengths[local[:, 1]]) > k)
    estimate = np.ones(len(local))
    if len(big):
        estimate[big] = _estimates(sets, local[big], k)
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = local[estimate >= threshold - _MARGIN]
    similarities = jaccards(sets, close)  # (each pair's, computed whether or not its records are joined already)
    similar = similarities >= threshold
    first: dict[int, tuple[int, float]] = {}
    for (i, j), similarity in zip(close[similar].tolist(), similarities[similar].tolist()):
        a, b = root(i), root(j)
        parent[max(a, b)] = min(a, b)  # the root is the cluster's earliest record
        first.setdefault(j, (i, similarity))
    result.found = sorted((int(wanted[j]), int(wanted[i]), s) for j, (i, s) in first.items())
    roots = [root(i) for i in range(len(rows))]
    sizes = Counter(roots)
    result.clusters = {int(wanted[i]): int(wanted[r]) for i, r in enumerate(roots) if sizes[r] > 1}
    return result
