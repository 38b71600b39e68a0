"""FT508: training records that share a run of ``ngram`` consecutive words with a record of the
evaluation file(s) given to ``--against``: the decontamination test of the GPT-3 paper and of
datatrove, where one shared 13-gram marks a document as contaminated.

Words are runs of letters and digits, lower-cased (punctuation and spacing do not hide a
match); a character of a script without spaces (Han, kana: the profile's ``character_scripts``)
is a word of its own. A record's text is its user and assistant messages (system prompts are
instructions shared by design). An n-gram found in many evaluation records (``common_share`` of
them, at least ``common_records``) is a template they share, not an example, and is left out.

Linear in both files and light on memory: the evaluation side becomes one sorted numpy array of
64-bit n-gram hashes (8 bytes each, plus 4 for where it was first seen); each training record's
n-grams are looked up in it by binary search. Only a record that overlaps is tokenized again,
to quote the overlapping words as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftkit.checks import Selector
from ftkit.errors import InputError, ProfileError
from ftkit.findings import Finding
from ftkit.policy.languages import language_table
from ftkit.policy.profile import OverlapRules, Profile
from ftkit.scan.against import check_distinct, records
from ftkit.scan.inputs import Input

CODE = "FT508"
_BASE = 0x100000001B3  # FNV's 64-bit prime: a window's hash is a polynomial in it, modulo 2**64
_INVERSE = pow(_BASE, -1, 1 << 64)
_ASCII_WORDS = bytes(c if c < 128 and chr(c).isalnum() else 32 for c in range(256)).lower()  # letters, digits; the rest: space


@dataclass(frozen=True)
class EvalFile:
    """One evaluation file: its name and how many records were compared with."""

    path: str
    records: int


class Words:
    """The tokenizer both sides share: lower-cased words, and characters of unspaced scripts."""

    def __init__(self, rules: OverlapRules) -> None:
        table = {s.name: s for s in language_table().scripts}
        unknown = [name for name in rules.character_scripts if name not in table]
        if unknown:
            raise ProfileError(f"the profile's overlap.character_scripts names unknown scripts: {', '.join(unknown)}")
        chars = "".join(f"{chr(lo)}-{chr(hi)}" for name in rules.character_scripts for lo, hi in table[name].ranges)
        self.pattern = re.compile(f"[{chars}]|[^\\W_{chars}]+" if chars else r"[^\W_]+")
        self.n = rules.ngram
        self._powers(1024)

    def _powers(self, size: int) -> None:
        """Powers of the base and of its inverse modulo 2**64 (numpy's uint64 arithmetic wraps)."""
        self.inverse_powers = np.cumprod(np.full(size, _INVERSE, dtype=np.uint64)) * np.uint64(_BASE)  # Q**0 .. Q**(size-1)
        self.base_powers = np.cumprod(np.full(size, _BASE, dtype=np.uint64)) * np.uint64(_INVERSE)  # P**0 .. P**(size-1)

    def words(self, text: str) -> list[str]:
        if text.isascii():  # most text: bytes.translate and split, no regular expression
            return text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
        return self.pattern.findall(text.lower())

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where each word of ``text`` is, for quoting (the same words as ``words``)."""
        return [m.span() for m in self.pattern.finditer(text)]

    def grams(self, text: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
        """The hash of every run of n consecutive words, in order (empty when fewer words)."""
        words = self.words(text)
        m = len(words) - self.n + 1
        if m <= 0:
            return np.empty(0, dtype=np.uint64)
        size = len(words)
        if size > self.base_powers.size:
            self._powers(max(size, 2 * self.base_powers.size))
        hashes = np.fromiter(map(hash, words), dtype=np.int64, count=size).view(np.uint64)
        # prefix sums of h[k] * Q**k: a window's sum, times P**i, is sum h[i+k] * Q**k wherever it
        # starts; four numpy operations whatever n is
        prefix = np.zeros(size + 1, dtype=np.uint64)
        np.cumsum(hashes * self.inverse_powers[:size], out=prefix[1:])
        return (prefix[self.n :] - prefix[:m]) * self.base_powers[:m]


def record_text(record: dict[str, Any]) -> str:
    """The user and assistant contents of a record, one per line."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return ""
    return "\n".join(
        m["content"] for m in messages if isinstance(m, dict) and m.get("role") != "system" and isinstance(m.get("content"), str)
    )


class EvalIndex:
    """Every n-gram of the evaluation records, sorted, with the record each was first seen in."""

    def __init__(self, others: Sequence[Input], profile: Profile, words: Words) -> None:
        rules = profile.overlap
        self.places: list[tuple[str, int]] = []
        self.files: list[EvalFile] = []
        parts: list[np.ndarray[Any, np.dtype[np.uint64]]] = []
        owners: list[np.ndarray[Any, np.dtype[np.int32]]] = []
        for other in others:
            count = 0
            for line, value in records(other, profile.data.max_line_bytes, strict=True):
                count += 1
                grams = np.unique(words.grams(record_text(value)))  # each n-gram once per record
                if grams.size:
                    parts.append(grams)
                    owners.append(np.full(grams.size, len(self.places), dtype=np.int32))
                    self.places.append((other.name, line))
            if not count:
                raise InputError(f"--against {other.name} holds no records to compare with")
            self.files.append(EvalFile(other.name, count))
        total = sum(f.records for f in self.files)
        if parts:
            every = np.concatenate(parts)
            owner = np.concatenate(owners)
            del parts, owners
            grams, first, seen = np.unique(every, return_index=True, return_counts=True)  # first: where first seen
            common = max(rules.common_records, rules.common_share * total)
            keep = seen < common
            self.common = int((~keep).sum())
            self.grams, self.owner = grams[keep], owner[first[keep]]
        else:
            self.common = 0
            self.grams, self.owner = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int32)

    def first_hit(self, grams: np.ndarray[Any, np.dtype[np.uint64]]) -> tuple[int, int, int] | None:
        """(first and last n-gram of the first run of n-grams also in the evaluation data, where
        its first was seen) or None."""
        if not grams.size or not self.grams.size:
            return None
        at = np.searchsorted(self.grams, grams)
        at[at == self.grams.size] = 0
        found = self.grams[at] == grams
        hits = np.flatnonzero(found)
        if not hits.size:
            return None
        first = last = int(hits[0])
        while last + 1 < found.size and found[last + 1]:
            last += 1
        return first, last, int(self.owner[at[first]])


@dataclass
class Overlaps:
    """What ``overlapping`` found: FT508 findings by input name, and the files compared with."""

    findings: dict[str, list[Finding]]
    files: list[EvalFile]
    ngram: int


def overlapping(inputs: Sequence[Input], others: Sequence[Input], profile: Profile, selected: Selector) -> Overlaps:
    """FT508 findings for each record of ``inputs`` sharing an n-gram with a record of ``others``."""
    for other in others:
        check_distinct(inputs, other)
    rules = profile.overlap
    if rules.ngram < 1:
        raise ProfileError(f"the profile's overlap.ngram must be at least 1, not {rules.ngram}")
    words = Words(rules)
    if not selected(CODE):
        files = [EvalFile(o.name, sum(1 for _ in records(o, profile.data.max_line_bytes, strict=True))) for o in others]
        return Overlaps({}, files, rules.ngram)
    index = EvalIndex(others, profile, words)
    found: dict[str, list[Finding]] = {}
    for item in inputs:
        for line, value in records(item, profile.data.max_line_bytes):
            text = record_text(value)
            hit = index.first_hit(words.grams(text))
            if hit is None:
                continue
            name, where = index.places[hit[2]]
            quote = _quote(text, words, hit[0], hit[1] + rules.ngram, rules)
            run = hit[1] - hit[0] + rules.ngram
            message = (f"shares {run} consecutive words with the evaluation record at {name}:{where}: {quote}; an "
                       "example seen in training makes its evaluation score meaningless: drop or rewrite one of them")  # fmt: skip
            found.setdefault(item.name, []).append(Finding(line, CODE, "", message))
    return Overlaps(found, index.files, rules.ngram)


def _quote(text: str, words: Words, start: int, end: int, rules: OverlapRules) -> str:
    """Words ``start`` to ``end`` (excluded) as written: quoted, on one line, shortened in the middle."""
    spans = words.spans(text)
    if len(spans) >= end:
        shown = text[spans[start][0] : spans[end - 1][1]]
    else:  # lower-casing changed the words (a rare letter): show them as compared
        shown = " ".join(words.words(text)[start:end])
    shown = " ".join(shown.split())
    limit = max(rules.quote_chars, 10)
    if len(shown) > limit:
        half = (limit - 1) // 2
        shown = f"{shown[:half]}…{shown[-half:]}"
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
