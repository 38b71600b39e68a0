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
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ftkit.findings import Finding
from ftkit.policy.profile import Profile, QualityRules
from ftkit.scan.dedup import find_duplicates, repeated
from ftkit.scan.dedup import median as dedup_median
from ftkit.scan.near import NearSignatures, find_near_duplicates


class RecordFacts:
    """Per-record integers for FT501 and FT504-FT507.

    ``near=True`` also keeps the near-duplicate band hashes (FT504; ``quality`` says how many).
    Shingling text costs about as much as parsing it, so plain ``validate`` leaves it out; the
    passes that tokenize (where it is a small share of the time) turn it on. After ``findings``,
    ``clusters`` maps every record with a similar one to the first line of its cluster.
    """

    _COLUMNS = ("line", "exact", "context", "reply", "reply_len")

    def __init__(self, near: bool = False, quality: QualityRules | None = None) -> None:
        self.near = NearSignatures(quality or QualityRules()) if near else None
        self.clusters: dict[int, int] = {}
        self.cols: dict[str, array[int]] = {name: array("q") for name in self._COLUMNS}
        # FT507 needs no column: the first record's system prompt, and whether all others match
        self.system: str | None = None  # None: no record seen yet; "": the first had none
        self.same_system = True
        c = self.cols
        self._add = (c["line"].append, c["exact"].append, c["context"].append, c["reply"].append, c["reply_len"].append)
        self._add_near = self.near.add if self.near is not None else None

    def observe(self, line: int, raw: bytes, messages: list[dict[str, Any]]) -> None:
        """One valid record: ``messages`` has string contents and valid roles, and (like every
        record that passes FT204) ends with an assistant reply."""
        texts = [m["content"] for m in messages]
        reply = texts[-1]
        # everything that can fail on a record whose errors were deselected, before any column grows
        context, reply_hash = hash(tuple(texts[:-1])), hash(reply)
        near = self.near.text(messages) if self.near is not None else None
        add_line, add_exact, add_context, add_reply, add_reply_len = self._add
        add_line(line)
        add_exact(hash(raw))
        add_context(context)
        add_reply(reply_hash)
        add_reply_len(len(reply))
        if self.same_system:
            system = texts[0] if messages[0]["role"] == "system" else ""
            if self.system is None:
                self.system = system
            elif system != self.system:
                self.same_system = False
        if near is not None:
            self._add_near(near)  # type: ignore[misc]  # set whenever self.near is

    def prepare(self) -> None:
        """Before a parallel scan forks: what both processes would otherwise each set up."""
        if self.near is not None:
            from ftkit.scan.shingles import prepare

            prepare()

    def export(self) -> tuple[dict[str, bytes], str | None, bool]:
        cols = {k: v.tobytes() for k, v in self.cols.items()}
        if self.near is not None:
            self.near.flush()
            cols["bands"] = self.near.bands.tobytes()
        return cols, self.system, self.same_system

    def merge(self, exported: tuple[dict[str, bytes], str | None, bool]) -> None:
        cols, system, same = exported
        if self.near is not None:
            self.near.flush()  # this process's records come first
            self.near.bands.frombytes(cols.pop("bands"))
        for name, data in cols.items():
            self.cols[name].frombytes(data)
        if self.system is None:
            self.system, self.same_system = system, same
        elif system is not None:
            self.same_system = self.same_system and same and system == self.system

    def findings(self, path: Path, profile: Profile, records: int, spans: Mapping[int, int] | None = None) -> list[Finding]:
        """Every dataset-level finding once the file has been read (``spans``: first line ->
        last line of each record over several lines)."""
        cols, out = self.cols, list[Finding]()
        exact = find_duplicates(cols["exact"], cols["line"])
        out.extend(Finding(line, "FT501", "", f"this record is identical to line {first}; drop the copy") for line, first in exact)
        copies = {line for line, _ in exact}
        if self.near is not None:
            out.extend(self._near(path, copies, profile, spans or {}))
        out.extend(self._conflicts())
        out.extend(self._short_replies(profile))
        out.extend(self._same_system(profile, records))
        return out

    def _near(self, path: Path, copies: set[int], profile: Profile, spans: Mapping[int, int]) -> Iterator[Finding]:
        assert self.near is not None
        self.near.flush()
        found = find_near_duplicates(path, self.cols["line"], self.near.bands, copies, profile.quality, profile.data.max_line_bytes, spans)
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

    def _conflicts(self) -> Iterator[Finding]:
        first_reply: dict[int, tuple[int, int]] = {}
        for context, line, reply in repeated(self.cols["context"], self.cols["line"], self.cols["reply"]):
            seen = first_reply.setdefault(context, (line, reply))
            if seen[1] != reply:
                yield Finding(
                    line,
                    "FT505",
                    "",
                    f"same prompt as line {seen[0]} but a different final answer; keep the better answer or make the prompts differ",
                )

    def _short_replies(self, profile: Profile) -> Iterator[Finding]:
        q = profile.quality
        lengths = self.cols["reply_len"]
        if len(lengths) < q.short_reply_min_records:
            return
        median = dedup_median(lengths)
        if median < q.short_reply_min_median:
            return
        limit = median * q.short_reply_ratio
        for line, length in zip(self.cols["line"], lengths):
            if length < limit:
                yield Finding(
                    line,
                    "FT506",
                    "",
                    f"the final assistant reply is {length} characters, under {q.short_reply_ratio:.0%} of this dataset's median reply ({median:g}); truncated or placeholder answer?",
                )

    def _same_system(self, profile: Profile, records: int) -> Iterator[Finding]:
        seen = len(self.cols["line"])
        if self.same_system and self.system and seen == records and seen >= profile.data.min_records:
            yield Finding(
                None,
                "FT507",
                "",
                f"all {seen:,} records start with the same system prompt ({len(self.system):,} characters); it is paid for on every example, and fine-tuning can teach the behaviour instead (the guide's example shrank a 553-token prompt to 8)",
            )
