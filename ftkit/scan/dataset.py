"""Facts about every record, kept small (a few integers each), from which the dataset rules
(FT5xx) are decided once the whole file has been read.

The scan calls ``RecordFacts.observe`` for every record without an error; the child process of a
parallel scan sends its facts back with ``export``/``merge``. Near-duplicates (FT504) are found in
two steps so that the scan stays fast: a cheap signature (each message's first characters,
normalised) proposes candidates; ``confirm_near_duplicates``
re-reads only those lines and compares their fully normalised text.
"""

from __future__ import annotations

import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ftkit.findings import Finding
from ftkit.policy.profile import Profile
from ftkit.scan.dedup import find_duplicates, repeated
from ftkit.scan.dedup import median as dedup_median
from ftkit.scan.reader import UNPARSED, Reader, careful

# The cheap near-duplicate signature: each message's first _SIGNATURE normalised characters,
# taken from its first _PREFIX characters (a message opening with more than 190 spaces may be
# missed; everything the signature proposes is confirmed on the full text).
_PREFIX = 256
_SHORT = 80
_SIGNATURE = 64


def normalise(text: str) -> str:
    """Text as compared for near-duplicates: NFKC, case-folded, all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _prefix(text: str) -> str:
    # Most messages give _SIGNATURE normalised characters from far fewer raw ones: try a short
    # slice first (NFKC is slow on CJK text), the long one only when spaces ate too much of it.
    short = normalise(text[:_SHORT])
    return short[:_SIGNATURE] if len(short) >= _SIGNATURE or len(text) <= _SHORT else normalise(text[:_PREFIX])[:_SIGNATURE]


def _signature(texts: list[str]) -> int:
    return hash(tuple(map(_prefix, texts)))


class RecordFacts:
    """Per-record integers for FT501 and FT504-FT507.

    ``near=True`` also keeps the near-duplicate signature (FT504). Normalising text costs about
    as much as parsing it, so plain ``validate`` leaves it out; the passes that tokenize (where it
    is a small share of the time) turn it on.
    """

    _COLUMNS = ("line", "exact", "context", "reply", "reply_len", "near")

    def __init__(self, near: bool = False) -> None:
        self.near = near
        self.cols: dict[str, array[int]] = {name: array("q") for name in self._COLUMNS}
        # FT507 needs no column: the first record's system prompt, and whether all others match
        self.system: str | None = None  # None: no record seen yet; "": the first had none
        self.same_system = True
        c = self.cols
        self._add = (c["line"].append, c["exact"].append, c["context"].append, c["reply"].append, c["reply_len"].append)
        self._add_near = c["near"].append

    def observe(self, line: int, raw: bytes, messages: list[dict[str, Any]]) -> None:
        """One valid record: ``messages`` has string contents and valid roles, and (like every
        record that passes FT204) ends with an assistant reply."""
        texts = [m["content"] for m in messages]
        reply = texts[-1]
        add_line, add_exact, add_context, add_reply, add_reply_len = self._add
        add_line(line)
        add_exact(hash(raw))
        add_context(hash(tuple(texts[:-1])))
        add_reply(hash(reply))
        add_reply_len(len(reply))
        if self.same_system:
            system = texts[0] if messages[0]["role"] == "system" else ""
            if self.system is None:
                self.system = system
            elif system != self.system:
                self.same_system = False
        if self.near:
            self._add_near(_signature(texts))

    def export(self) -> tuple[dict[str, bytes], str | None, bool]:
        return {k: v.tobytes() for k, v in self.cols.items()}, self.system, self.same_system

    def merge(self, exported: tuple[dict[str, bytes], str | None, bool]) -> None:
        cols, system, same = exported
        for name, data in cols.items():
            self.cols[name].frombytes(data)
        if self.system is None:
            self.system, self.same_system = system, same
        elif system is not None:
            self.same_system = self.same_system and same and system == self.system

    def findings(self, path: Path, profile: Profile, records: int) -> list[Finding]:
        """Every dataset-level finding once the file has been read."""
        cols, out = self.cols, list[Finding]()
        exact = find_duplicates(cols["exact"], cols["line"])
        out.extend(Finding(line, "FT501", "", f"this record is identical to line {first}; drop the copy") for line, first in exact)
        copies = {line for line, _ in exact}
        if self.near:
            out.extend(self._near(path, copies, profile.data.max_line_bytes))
        out.extend(self._conflicts())
        out.extend(self._short_replies(profile))
        out.extend(self._same_system(profile, records))
        return out

    def _near(self, path: Path, copies: set[int], max_line_bytes: int) -> Iterator[Finding]:
        groups: dict[int, list[int]] = defaultdict(list)
        for sig, line in repeated(self.cols["near"], self.cols["line"]):
            if line not in copies:
                groups[sig].append(line)
        candidates = [lines for lines in groups.values() if len(lines) > 1]
        if candidates:
            yield from confirm_near_duplicates(path, candidates, max_line_bytes)

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


def confirm_near_duplicates(path: Path, candidates: Iterable[list[int]], max_line_bytes: int) -> Iterator[Finding]:
    """Re-read only the candidate records and compare their fully normalised text."""
    wanted = {line for lines in candidates for line in lines}
    text: dict[int, tuple[str, ...]] = {}
    with open(path, "rb") as stream:
        for n, _, raw, value, problems in Reader(stream, max_line_bytes):
            if n not in wanted:
                continue
            if problems is None:
                parsed = careful(raw)  # type: ignore[arg-type]  # a fast-parsed item's raw is bytes
                value = parsed.value if parsed.ok else UNPARSED
            try:
                text[n] = tuple(normalise(m["content"]) for m in value["messages"])
            except (KeyError, TypeError, AttributeError):
                continue
    for lines in candidates:
        first_of: dict[tuple[str, ...], int] = {}
        for line in lines:
            key = text.get(line)
            if key is None:
                continue
            first = first_of.setdefault(key, line)
            if first != line:
                yield Finding(
                    line,
                    "FT504",
                    "",
                    f"this record differs from line {first} only in case, spacing or punctuation width; drop the near-copy",
                )
