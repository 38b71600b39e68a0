"""FT508: training records that share a run of ``ngram`` consecutive words with a record of the
evaluation file(s) given to ``--against``: the decontamination test of the GPT-3 paper and of
datatrove, where one shared 13-gram marks a document as contaminated.

Words are runs of letters and digits, lower-cased (punctuation and spacing do not hide a
match); a character of a script without spaces (Han, kana: the profile's ``character_scripts``)
is a word of its own. A record's text is its user and assistant messages (system prompts are
instructions shared by design). An n-gram found in many evaluation records (``common_share`` of
them, at least ``common_records``) is a template they share, not an example, and is left out.

Linear in both files and light on memory: the evaluation side becomes one sorted numpy array of
64-bit n-gram hashes (8 bytes each, and a one-byte share of a bit filter); each training
record's n-grams go through the filter, and the few it lets past are looked up by binary
search. Only for the n-grams found is the evaluation side read again, to name the line they are
on, and only a record that overlaps is tokenized again, to quote the words as written.
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
from ftkit.scan.dedup import distinct
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
    """Every distinct n-gram of the evaluation records, sorted (``grams``), without those that
    many records share. Where an n-gram was seen is looked up afterwards, for the few that a
    training record shares (``places``): a second pass over the evaluation side costs less than
    carrying a record number with every n-gram."""

    def __init__(self, others: Sequence[Input], profile: Profile, words: Words) -> None:
        rules = profile.overlap
        self.others, self.profile, self.words = others, profile, words
        self.files: list[EvalFile] = []
        parts: list[np.ndarray[Any, np.dtype[np.uint64]]] = []
        for other in others:
            count = 0
            for _, value in records(other, profile.data.max_line_bytes, strict=True):
                count += 1
                grams = distinct(words.grams(record_text(value)))[0]  # each n-gram once per record
                if grams.size:
                    parts.append(grams)
            if not count:
                raise InputError(f"--against {other.name} holds no records to compare with")
            self.files.append(EvalFile(other.name, count))
        every = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
        del parts
        every.sort()  # in place: the only big array is this one
        starts = np.flatnonzero(np.concatenate(([True], every[1:] != every[:-1]))) if every.size else np.empty(0, dtype=np.intp)
        seen = np.diff(np.append(starts, every.size))  # in how many records each n-gram is
        common = max(rules.common_records, rules.common_share * sum(f.records for f in self.files))
        keep = seen < common
        self.common = int(keep.size - np.count_nonzero(keep))
        self.grams = every[starts[keep]]
        del every, starts, seen, keep
        self._filter()

    def places(self, wanted: set[int]) -> dict[int, tuple[str, int]]:
        """The first evaluation record (file name, line) that holds each wanted n-gram."""
        found: dict[int, tuple[str, int]] = {}
        if not wanted:
            return found
        want = np.array(sorted(wanted), dtype=np.uint64)
        for other in self.others:
            for line, value in records(other, self.profile.data.max_line_bytes, strict=True):
                grams = self.words.grams(record_text(value))
                for gram in np.intersect1d(grams, want).tolist():
                    found.setdefault(gram, (other.name, line))
                if len(found) == len(wanted):
                    return found
        return found

    def _filter(self) -> None:
        """A bit per slot of 8 per n-gram, set by the n-gram's top bits: a look-up in it (small
        enough to stay in cache) rules out most training n-grams before the binary search, whose
        every step in a big array is a cache miss. About one n-gram in nine gets past it by chance."""
        bits = max(16, int(8 * max(1, self.grams.size) - 1).bit_length())
        self.shift = np.uint64(64 - bits)
        slots = distinct(self.grams >> self.shift)[0]
        # one byte per 8 slots; the slots are distinct, so adding their bits ORs them
        weights = (np.uint64(1) << (slots & np.uint64(7))).astype(np.float64)
        self.bitmap = np.bincount((slots >> np.uint64(3)).astype(np.intp), weights=weights, minlength=1 << (bits - 3)).astype(np.uint8)

    def first_hit(self, grams: np.ndarray[Any, np.dtype[np.uint64]]) -> tuple[int, int] | None:
        """(first, last): the first run of the training n-grams ``grams`` that are also in the
        evaluation data, or None."""
        if not grams.size or not self.grams.size:
            return None
        slots = grams >> self.shift
        maybe = np.flatnonzero((self.bitmap[(slots >> np.uint64(3)).astype(np.intp)] >> (slots & np.uint64(7)).astype(np.uint8)) & 1)
        if not maybe.size:
            return None
        at = np.searchsorted(self.grams, grams[maybe])
        at[at == self.grams.size] = 0
        sure = maybe[self.grams[at] == grams[maybe]]
        if not sure.size:
            return None
        found = np.zeros(grams.size, dtype=bool)
        found[sure] = True
        first = last = int(sure[0])
        while last + 1 < found.size and found[last + 1]:
            last += 1
        return first, last


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
    hits: list[tuple[str, int, int, int, str]] = []  # (input, line, first n-gram, words shared, quote)
    for item in inputs:
        for line, value in records(item, profile.data.max_line_bytes):
            text = record_text(value)
            grams = words.grams(text)
            hit = index.first_hit(grams)
            if hit is not None:
                quote = _quote(text, words, hit[0], hit[1] + rules.ngram, rules)
                hits.append((item.name, line, int(grams[hit[0]]), hit[1] - hit[0] + rules.ngram, quote))
    places = index.places({gram for _, _, gram, _, _ in hits})
    found: dict[str, list[Finding]] = {}
    for name, line, gram, run, quote in hits:
        eval_name, where = places[gram]
        message = (f"shares {run} consecutive words with the evaluation record at {eval_name}:{where}: {quote}; an "
                   "example seen in training makes its evaluation score meaningless: drop or rewrite one of them")  # fmt: skip
        found.setdefault(name, []).append(Finding(line, CODE, "", message))
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
