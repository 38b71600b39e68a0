"""Facts about every record, kept small (a few integers each), from which the dataset rules
(FT5xx) are decided once the whole file has been read.

The scan calls ``RecordFacts.observe`` for every record without an error; the child process of a
parallel scan sends its facts back with ``export``/``merge``. Near-duplicates (FT504) are found in
two steps so that the scan stays fast: band hashes of a MinHash signature (``ftkit.scan.near``)
propose candidates; ``find_near_duplicates`` re-reads only those lines and computes their
similarity on the whole text.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ftkit.findings import Finding
from ftkit.policy.profile import Profile, QualityRules
from ftkit.scan.dedup import NUMPY_FROM, Lines, below, repeated_rows, reread
from ftkit.scan.dedup import median as dedup_median
from ftkit.scan.near import NearSignatures, find_near_duplicates

# A reply length is kept in two bytes; this one and longer are kept in ``long_replies``.
_LONG = 0xFFFF


class RecordFacts:
    """Per-record integers for FT501 and FT504-FT507: 14 bytes a record (in a file whose records
    each hold one line: the row -> line map only stores where it jumps).

    ``context`` is a 64-bit hash of every message before the final reply; ``reply`` 32 bits of
    the reply's hash; ``reply_len`` its length (two bytes; longer ones in ``long_replies``).
    Exact copies (FT501) have the same context and reply, so only records whose (context, reply)
    repeats are candidates: their bytes are re-read after the scan and compared by a
    cryptographic digest (a JSON array element, which cannot be re-read by line, has its digest
    taken during the scan). A collision of the short hashes costs a re-read, never a finding;
    a shared 32-bit reply hash could only hide an FT505, with odds of 2**-32 per pair.

    ``near=True`` also keeps the near-duplicate band hashes (FT504; ``quality`` says how many).
    Shingling text costs about as much as parsing it, so plain ``validate`` leaves it out; the
    passes that tokenize (where it is a small share of the time) turn it on. After ``findings``,
    ``clusters`` maps every record with a similar one to the first line of its cluster.
    """

    def __init__(self, near: bool = False, quality: QualityRules | None = None) -> None:
        self.near = NearSignatures(quality or QualityRules()) if near else None
        self.clusters: dict[int, int] = {}
        self.lines = Lines()
        self.context, self.reply, self.reply_len = array("q"), array("I"), array("H")
        self.long_replies: dict[int, int] = {}  # row -> length, for replies of _LONG characters or more
        self.digests: dict[int, bytes] = {}  # row -> digest of the bytes, for records not re-readable by line
        self.marks: list[tuple[int, int]] = []  # set by the scan: where lines start (Reader.marks), for re-reading
        # FT507 needs no column: the first record's system prompt, and whether all others match
        self.system: str | None = None  # None: no record seen yet; "": the first had none
        self.same_system = True
        self._add = (self.lines.add, self.context.append, self.reply.append, self.reply_len.append)
        self._add_near = self.near.add if self.near is not None else None

    def observe(self, line: int, raw: bytes, messages: list[dict[str, Any]], located: bool = True, texts: list[str] | None = None,
                signed: bytes | None = None) -> None:  # fmt: skip
        """One valid record: ``messages`` has string contents and valid roles, and (like every
        record that passes FT204) ends with an assistant reply. ``located=False``: ``raw`` is
        not the record's line(s) of the file (an element of a JSON array). ``texts``: the
        messages' contents, when the caller has listed them already; ``signed``: its band
        hashes, when worked out already (``ftkit.scan.headstart``)."""
        texts = texts if texts is not None else [m["content"] for m in messages]
        reply = texts[-1]
        # everything that can fail on a record whose errors were deselected, before any column grows
        context, reply_hash, length = hash(tuple(texts[:-1])), hash(reply) & 0xFFFFFFFF, len(reply)
        near = self.near.text(messages) if self.near is not None and signed is None else None
        add_line, add_context, add_reply, add_reply_len = self._add
        if length >= _LONG:
            self.long_replies[len(self.lines)] = length
            length = _LONG
        if not located:
            self.digests[len(self.lines)] = _digest(raw)
        add_line(line)
        add_context(context)
        add_reply(reply_hash)
        add_reply_len(length)
        if self.same_system:
            system = texts[0] if messages[0]["role"] == "system" else ""
            if self.system is None:
                self.system = system
            elif system != self.system:
                self.same_system = False
        if near is not None:
            self._add_near(near)  # type: ignore[misc]  # set whenever self.near is
        elif signed is not None and self.near is not None:
            self.near.add_signed(signed)

    def prepare(self) -> None:
        """Before a parallel scan forks: what both processes would otherwise each set up."""
        if self.near is not None:
            from ftkit.scan.shingles import prepare

            prepare()

    def prepare_merge(self, scale: float) -> None:
        """In the parent of a parallel scan, its own part done (``scale``: the whole file's size
        over its part's): import numpy now if the whole file will have enough records for the
        dataset rules to use it, instead of after the child has finished."""
        if len(self.lines) * scale >= NUMPY_FROM:
            import numpy  # noqa: F401

    def export(self) -> tuple[Any, ...]:
        """What the child of a parallel scan sends back: the columns go as buffers (pickled
        without a copy)."""
        from pickle import PickleBuffer

        bands = None
        if self.near is not None:
            self.near.flush()
            bands = PickleBuffer(self.near.bands)
        columns = (PickleBuffer(self.context), PickleBuffer(self.reply), PickleBuffer(self.reply_len))
        # the columns leave with the result (the child exits after): nothing else may refer to them
        self.context, self.reply, self.reply_len, self._add = array("q"), array("I"), array("H"), ()  # type: ignore[assignment]  # never observed again
        if self.near is not None:
            self.near.bands = array("q")
        return self.lines.export(), columns, bands, self.long_replies, self.digests, self.system, self.same_system

    def merge(self, exported: tuple[Any, ...]) -> None:
        lines, columns, bands, long_replies, digests, system, same = exported
        offset = len(self.lines)
        if self.near is not None:
            self.near.flush()  # this process's records come first
            self.near.bands.frombytes(bands)
        self.lines.merge(lines)
        for column, data in zip((self.context, self.reply, self.reply_len), columns):
            column.frombytes(data)
        self.long_replies.update((row + offset, n) for row, n in long_replies.items())
        self.digests.update((row + offset, d) for row, d in digests.items())
        if self.system is None:
            self.system, self.same_system = system, same
        elif system is not None:
            self.same_system = self.same_system and same and system == self.system

    def findings(self, path: Path, profile: Profile, records: int, spans: Mapping[int, int] | None = None) -> list[Finding]:
        """Every dataset-level finding once the file has been read (``spans``: first line ->
        last line of each record over several lines)."""
        out = list[Finding]()
        rows = repeated_rows(self.context)  # the only rows FT501 and FT505 look at
        conflicts, candidates = self._conflicts(rows)
        del rows
        exact = self._exact(candidates, path, profile.data.max_line_bytes, spans or {})
        out.extend(Finding(line, "FT501", "", f"this record is identical to line {first}; drop the copy") for line, first in exact)
        if self.near is not None:
            out.extend(self._near(path, {line for line, _ in exact}, profile, spans or {}))
        out.extend(conflicts)
        out.extend(self._short_replies(profile))
        out.extend(self._same_system(profile, records))
        return out

    def _exact(self, candidates: list[int], path: Path, max_line_bytes: int, spans: Mapping[int, int]) -> list[tuple[int, int]]:
        """(line, first line) of every record byte for byte the same as an earlier one, among
        the candidate rows (same context and reply hashes), decided on their bytes."""
        if not candidates:
            return []
        lines = self.lines
        digest: dict[int, bytes] = {}
        located = {lines[row]: row for row in candidates if row not in self.digests}
        for line, raw in reread(path, located, spans, max_line_bytes, self.marks):
            digest[located[line]] = _digest(raw)
        first: dict[tuple[int, int, bytes], int] = {}
        out = []
        for row in candidates:
            # a record that could not be re-read (the file changed) is compared with nothing
            key = (self.context[row], self.reply[row], self.digests.get(row) or digest.get(row) or b"row %d" % row)
            seen = first.setdefault(key, row)
            if seen != row:
                out.append((lines[row], lines[seen]))
        return out

    def _near(self, path: Path, copies: set[int], profile: Profile, spans: Mapping[int, int]) -> Iterator[Finding]:
        assert self.near is not None
        self.near.flush()
        found = find_near_duplicates(path, self.lines.array(), self.near.bands, copies, profile.quality, profile.data.max_line_bytes, spans,
                                     self.marks)  # fmt: skip
        self.clusters = found.clusters
        shingle = profile.quality.near_duplicate_shingle
        for line, first, similarity in found.found:
            yield Finding(
                line,
                "FT504",
                "",
                f"this record is a near-copy of line {first} (similarity {similarity:.2f}: the share of {shingle}-word or {shingle}-character "
                "sequences they have in common); keep the better one, or make them differ",
            )

    def _conflicts(self, rows: list[int]) -> tuple[list[Finding], list[int]]:
        """FT505 among the rows whose context repeats; and the rows whose (context, reply)
        repeats, the candidates for FT501."""
        first_reply: dict[int, tuple[int, int]] = {}  # context -> (line, reply) of its first record
        keys = list(map(self.context.__getitem__, rows))
        answers = list(map(self.reply.__getitem__, rows))
        pairs = Counter(zip(keys, answers))  # counted in C
        said: dict[int, str] = {}  # first line -> the message: one string for all its conflicts
        out = []
        for line, key, answer in zip(self.lines.of(rows), keys, answers):
            first, first_answer = first_reply.setdefault(key, (line, answer))
            if first_answer != answer:
                message = said.get(first)
                if message is None:
                    message = said[first] = (
                        f"same prompt as line {first} but a different final answer; keep the better answer or make the prompts differ"
                    )
                out.append(Finding(line, "FT505", "", message))
        return out, [row for row, pair in zip(rows, zip(keys, answers)) if pairs[pair] > 1]

    def _short_replies(self, profile: Profile) -> Iterator[Finding]:
        q = profile.quality
        lengths, long = self.reply_len, self.long_replies
        if len(lengths) < q.short_reply_min_records:
            return
        median = dedup_median(lengths, long)
        if median < q.short_reply_min_median:
            return
        limit = median * q.short_reply_ratio
        rows = below(lengths, limit)
        if limit > _LONG:
            rows = sorted([*rows, *(row for row, n in long.items() if n < limit)])
        for row in rows:
            length = long.get(row, lengths[row])
            yield Finding(
                self.lines[row],
                "FT506",
                "",
                f"the final assistant reply is {length} characters, under {q.short_reply_ratio:.0%} of this dataset's median reply ({median:g}); truncated or placeholder answer?",
            )

    def _same_system(self, profile: Profile, records: int) -> Iterator[Finding]:
        seen = len(self.lines)
        if self.same_system and self.system and seen == records and seen >= profile.data.min_records:
            yield Finding(
                None,
                "FT507",
                "",
                f"all {seen:,} records start with the same system prompt ({len(self.system):,} characters); it is paid for on every example, and fine-tuning can teach the behaviour instead (the guide's example shrank a 553-token prompt to 8)",
            )


def _digest(raw: bytes) -> bytes:
    import hashlib  # here: it loads OpenSSL (6 ms of start-up), and few files are JSON arrays

    return hashlib.blake2b(raw, digest_size=16).digest()
