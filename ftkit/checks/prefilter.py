"""The privacy prefilter: "could ``find_all`` find one of these kinds here?", cheaply.

It may say yes for nothing, never no for something: the fast path of the scan accepts a record
it says no to without running FT601-FT606 (tests/test_engine_properties.py checks both). Each
kind has its own necessary condition: an "@" (email); a run of digits joined by number
separators with enough digits, or three dots, or hex digits around a colon (phone, identity
number, card, IP); a key prefix at one of its anchor characters, or a password keyword before
"=", ":" or "：" (secret).

``suspicious_line`` reads a well-formed record's bytes: one ``bytes.translate`` into a "view"
(digits as "0", the characters numbers are written with as themselves, and "@", "=", "-", the
backslash and the key anchors as "!"; everything else as "x"), then one pass over the "!"s,
looking closer only at those. A ``\\u`` escape could hide any character from the bytes, so a
record that has one is read from its decoded text instead, as ``suspicious`` always does. "!"
counts as a number separator there, so a number can only look longer in the view, not shorter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import AnyStr

from ftkit.checks.numbers import min_digits
from ftkit.policy.privacy import KINDS, load_privacy

#: Occurrences looked at one by one before the prefilter gives up and says yes.
_LOOKS = 32
_NUMBER_CHARS = b" .():+"  # and "-", unless it is an anchor (then it is a "!")
_SPAN = re.compile(rb"0(?:[ .()!\-]{0,2}0)*")
_STRIP = " \t\"'\\"


def _view_table(marks: bytes) -> bytes:
    table = bytearray(b"x" * 256)
    for b in range(48, 58):
        table[b] = 48
    for b in _NUMBER_CHARS + b'\\"':
        table[b] = b
    table[45], table[61], table[117] = 45, 61, 117  # "-", "=", "u" ("\\u00": an escaped ASCII character)
    for b in marks:
        table[b] = 33  # "!"
    return bytes(table)


class Prefilter:
    """``suspicious(text)`` / ``suspicious_line(raw, text)``: False only when ``find_all`` finds
    no match of ``kinds`` in ``text`` (a record's contents joined) or in any of them."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.kinds = frozenset(kinds) & frozenset(KINDS)
        rules = load_privacy()
        self.email = "email" in self.kinds
        self.ip = "ip" in self.kinds
        self.min_digits = min_digits(rules, self.kinds)
        self.numbers = bool(self.min_digits) or self.ip
        self.secret = "secret" in self.kinds
        self.only_email = self.kinds == {"email"}
        # anchor -> [(offset of the anchor in the prefix, prefix length, the prefixes)]
        anchors: dict[str, dict[tuple[int, int], set[str]]] = {}
        for key in rules.secret.keys if self.secret else ():
            for prefix in key.prefixes:
                anchors.setdefault(key.anchor, {}).setdefault((prefix.index(key.anchor), len(prefix)), set()).add(prefix)
        self.anchors = {a: [(k, n, frozenset(ps)) for (k, n), ps in groups.items()] for a, groups in anchors.items()}
        self.byte_anchors: dict[int, list[tuple[int, int, frozenset[bytes]]]] = {
            ord(a): [(k, n, frozenset(p.encode() for p in ps)) for k, n, ps in g] for a, g in self.anchors.items() if a.isascii()
        }
        # For a quick "no" at an anchor byte: the bytes a prefix has just before it, and the
        # prefixes that start with it.
        self.before = {b: {p[k - 1 : k] for k, _, ps in g if k for p in ps} for b, g in self.byte_anchors.items()}
        self.starts = {b: [(n, ps) for k, n, ps in g if not k] for b, g in self.byte_anchors.items()}
        pw = rules.secret.password
        self.separators = pw.separators if self.secret else ()
        self.keywords = tuple(k.lower() for k in pw.keywords)
        self.lasts = frozenset(k[-1] for k in self.keywords)  # how a keyword right before a separator ends
        # In the view: "@", the ASCII anchors and ASCII separators that are not number characters become "!".
        marks = {"@"} if self.email else set()
        marks |= {a for a in self.anchors if a.isascii()}
        self.marks = bytes(sorted(ord(m) for m in marks if ord(m) not in _NUMBER_CHARS and not m.isdigit()))  # "-" included
        if 117 in self.marks or 61 in self.marks or 92 in self.marks:
            raise ValueError("a key anchor may not be u, = or a backslash")
        # Anchors the view cannot mark (number characters, digits) are searched in the bytes;
        # one that is not ASCII only in the decoded text.
        self.raw_anchors = [ord(a) for a in self.anchors if a.isascii() and ord(a) not in self.marks]
        self.text_anchors = any(not a.isascii() for a in self.anchors)
        self.hex_marks = any(chr(m) in "abcdefABCDEF" for m in self.marks)  # then a "!" may be a hex digit
        self.view = _view_table(self.marks)

    def __bool__(self) -> bool:
        return bool(self.kinds)

    # --- from the decoded text ------------------------------------------------------------------

    def suspicious(self, text: str) -> bool:
        """From the decoded text (slower: used when the bytes may hide a character)."""
        if self.email and text.find("@") >= 0:
            return True
        if self.numbers and self._numbers(text.encode("utf-8", "surrogatepass").translate(self.view), ":" in text):
            return True
        return self.secret and (self._keys(text) or self._passwords(text, self.separators))

    def _keys(self, text: str) -> bool:
        return any(_anchored(text, anchor, groups) for anchor, groups in self.anchors.items())

    def _passwords(self, text: str, separators: Iterable[str]) -> bool:
        lasts, keywords = self.lasts, self.keywords
        for sep in separators:
            i, looks = text.find(sep), 0
            while i >= 0:
                looks += 1
                if looks > _LOOKS:
                    return True
                j, stop = i, max(0, i - 24)  # the matcher's window: quotes and spaces between
                while j > stop and text[j - 1] in _STRIP:
                    j -= 1
                if j and text[j - 1].lower() in lasts and self._value_follows(text, i + len(sep)):
                    window = text[max(0, j - 12) : j].lower()
                    if any(window.endswith(k) for k in keywords):
                        return True
                i = text.find(sep, i + 1)
        return False

    @staticmethod
    def _value_follows(text: str, j: int) -> bool:
        """A value can start after the separator: printable ASCII, after at most three quotes or
        spaces (as the matcher reads it)."""
        for _ in range(3):
            if j < len(text) and text[j] in " \t\"'":
                j += 1
        return j < len(text) and "!" <= text[j] <= "~"

    # --- from the bytes ---------------------------------------------------------------------------

    def suspicious_line(self, raw: bytes, text: str, colons: bool = True) -> bool:
        """From a well-formed record's bytes (``raw``) and its joined contents (``text``);
        ``colons``: False when no content holds a ":" (every colon in ``raw`` is JSON's then)."""
        if self.only_email:
            return text.find("@") >= 0
        view = raw.translate(self.view)
        if view.find(b"\\u00") >= 0:  # an escaped ASCII character (\u0040): the bytes may hide what matters
            return self.suspicious(text)
        i, looks, mark = view.find(b"!"), 0, self._mark
        while i >= 0:  # "@", "-" or a key anchor: look at the byte itself
            looks += 1
            if looks > _LOOKS or mark(raw, i, raw[i]):
                return True  # saying yes is always safe
            i = view.find(b"!", i + 1)
        if self.numbers and self._numbers(view, colons):
            return True
        if any(self._anchor(raw, a) for a in self.raw_anchors) or (self.text_anchors and self._keys(text)):
            return True
        # Passwords: from the text (an escape may hide a keyword that is not ASCII), for the
        # separators there are: "=" and ":" are ASCII, so the bytes say whether there are any.
        present = [s for s in self.separators if (s == ":" and colons) or (s == "=" and view.find(b"=") >= 0) or s not in ":="]
        return bool(present) and self._passwords(text, present)

    def _mark(self, raw: bytes, i: int, b: int) -> bool:
        if b == 64:  # "@"
            return self.email
        if raw[i - 1 : i] not in self.before.get(b, ()):  # most dashes follow no prefix's first part
            return any(raw[i : i + n] in prefixes for n, prefixes in self.starts.get(b, ()))
        return any(i >= k and raw[i - k : i - k + n] in prefixes for k, n, prefixes in self.byte_anchors.get(b, ()))

    def _anchor(self, raw: bytes, anchor: int) -> bool:
        return _anchored(raw, bytes([anchor]), self.byte_anchors[anchor])

    # --- numbers, from a view -------------------------------------------------------------------

    def _numbers(self, view: bytes, colons: bool) -> bool:
        i = view.find(b"0")
        if i < 0:
            return False
        if self.ip and colons and self._hex_colon(view):
            return True
        while i >= 0:
            span = _SPAN.match(view, i)
            assert span is not None  # view[i] is "0"
            run = span.group()
            if (self.min_digits and run.count(b"0") >= self.min_digits) or (self.ip and run.count(b".") >= 3):
                return True
            i = view.find(b"0", span.end())
        return False

    def _hex_colon(self, view: bytes) -> bool:
        """IPv6 needs a colon with a hex digit or another colon on each side ("0:0", "::"); the
        view has hex letters as "x", so any colon between two of "0", "x", ":" counts."""
        around = b"0x:!" if self.hex_marks else b"0x:"
        i = view.find(b":")
        while i >= 0:
            if i and view[i - 1] in around and view[i + 1 : i + 2] and view[i + 1] in around:
                return True
            i = view.find(b":", i + 1)
        return False


__all__ = ["Prefilter"]


def _anchored(haystack: AnyStr, needle: AnyStr, groups: list[tuple[int, int, frozenset[AnyStr]]]) -> bool:
    """A key prefix ends at some occurrence of ``needle`` (str in str, or bytes in bytes):
    ``groups`` are (offset back from the needle, length, the prefixes of that length). Past
    ``_LOOKS`` occurrences the record is suspect anyway (the rules decide)."""
    i, looks = haystack.find(needle), 0
    while i >= 0:
        looks += 1
        if looks > _LOOKS or any(i >= k and haystack[i - k : i - k + n] in prefixes for k, n, prefixes in groups):
            return True
        i = haystack.find(needle, i + 1)
    return False
