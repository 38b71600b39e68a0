"""Where personal data and secrets are in a text: the one matcher behind rules FT601-FT606, the
fast path's prefilter, ``ftkit fix --redact`` and the report's Privacy section.

``find_all(text)`` gives every match of every kind, overlaps resolved (the longer match wins; on
a tie: secret, email, identity number, card, phone, IP), so a kind's findings never depend on
which other kinds are checked. ``Prefilter(kinds)`` answers, cheaply, "could ``find_all`` find
one of these kinds here?"; it may say yes for nothing, never no for something (the fast path
relies on it; tests/test_engine_properties.py checks it). What is matched comes from
``rules/privacy.toml``; the numbers are in ``ftkit.checks.numbers``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from ftkit.checks.numbers import Numbers
from ftkit.policy.privacy import KINDS, PrivacyRules, load_privacy

PRIORITY = {"secret": 0, "email": 1, "id": 2, "card": 3, "phone": 4, "ip": 5}
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ALNUM = _LETTERS | frozenset("0123456789")
_LOCAL_CHARS = _ALNUM | frozenset("._%+-")
#: Anchor occurrences looked at one by one before the prefilter searches for the prefixes instead.
_ANCHOR_LOOKS = 32
# The prefilter's view of a text's bytes: digits as "0", the separators numbers are written with
# (and ":" for IPv6) as themselves, everything else as "x".
_NUMBER_VIEW = bytes(48 if 48 <= b <= 57 else b if b in b" -.():" else 120 for b in range(256))
_VIEW_SPAN = re.compile(rb"0(?:[ \-.()]{0,2}0)*")


class Match(NamedTuple):
    """One match in a text: its kind (a key of ``[kinds]``), where (``text[start:end]``), and what it is."""

    kind: str
    start: int
    end: int
    detail: str


class Finder:
    """Every kind, with overlaps resolved; use the cached ``find_all``."""

    def __init__(self, rules: PrivacyRules) -> None:
        self.rules = rules
        email = rules.email
        self.local_tail = re.compile(f"{email.local}\\Z", re.ASCII)
        self.domain = re.compile(email.domain, re.ASCII)
        self.reserved = tuple(d.lower() for d in email.reserved_domains)
        self.not_tlds = frozenset(t.lower() for t in (*email.reserved_tlds, *email.file_suffixes))
        self.numbers = Numbers(rules, frozenset({"phone", "id", "card", "ip"}))
        self.keys = [(key.name, key.prefixes, re.compile(key.pattern, re.ASCII)) for key in rules.secret.keys]
        self.placeholders = tuple(w.lower() for w in rules.secret.placeholder_words)
        pw = rules.secret.password
        self.keywords = sorted((k.lower() for k in pw.keywords), key=len, reverse=True)
        self.value = re.compile(pw.value, re.ASCII)
        self.value_placeholders = tuple(p.lower() for p in pw.placeholders)

    def find(self, text: str) -> tuple[Match, ...]:
        found: list[Match] = []
        if "@" in text:
            found += self._emails(text)
        found += (Match(*f) for f in self.numbers.find(text))
        found += self._keys(text)
        found += self._passwords(text)
        return resolve(found)

    # --- email ----------------------------------------------------------------------------------

    def _emails(self, text: str) -> Iterator[Match]:
        i = text.find("@")
        while i >= 0:
            local = self.local_tail.search(text, max(0, i - 64), i)
            domain = self.domain.match(text, i + 1)
            if local and domain:
                start, end = local.start(), domain.end()
                while start < i and text[start] == ".":
                    start += 1
                name, host = text[start:i], text[i + 1 : end].lower()
                too_long = start == i - 64 and start and text[start - 1] in _LOCAL_CHARS
                glued = end < len(text) and (text[end] in _ALNUM or text[end] in "_-")
                reserved = any(host == d or host.endswith("." + d) for d in self.reserved) or host.rsplit(".", 1)[-1] in self.not_tlds
                if name and not name.endswith(".") and ".." not in name and not too_long and not glued and not reserved:
                    yield Match("email", start, end, "")
            i = text.find("@", i + 1)

    # --- secrets --------------------------------------------------------------------------------

    def _keys(self, text: str) -> Iterator[Match]:
        for name, prefixes, pattern in self.keys:
            for prefix in prefixes:
                i = text.find(prefix)
                while i >= 0:
                    m = pattern.match(text, i)
                    end = m.end() if m else i
                    if (
                        m
                        and not (i and text[i - 1] in _ALNUM)
                        and not (end < len(text) and text[end] in _ALNUM)
                        and not self._placeholder(m.group()[len(prefix) :])
                    ):
                        yield Match("secret", i, end, name)
                        i = text.find(prefix, end)
                    else:
                        i = text.find(prefix, i + 1)

    def _placeholder(self, body: str) -> bool:
        low = body.lower()
        return len(set(body)) < self.rules.secret.min_distinct or any(w in low for w in self.placeholders)

    def keyword_before(self, text: str, at: int, whole_word: bool = True) -> str | None:
        """The password keyword that ends just before ``text[at]`` (quotes and spaces between);
        ``whole_word``: an English keyword must not end a longer word ("bypass", "compass")."""
        start = max(0, at - 24)
        end = start + len(text[start:at].rstrip(" \t\"'"))
        for kw in self.keywords:
            k = end - len(kw)
            if k >= 0 and text[k:end].lower() == kw and not (whole_word and kw.isascii() and k and text[k - 1] in _LETTERS):
                return kw
        return None

    def _passwords(self, text: str) -> Iterator[Match]:
        pw = self.rules.secret.password
        for sep in pw.separators:
            i = text.find(sep)
            while i >= 0:
                kw = self.keyword_before(text, i)
                if kw:
                    hit = self._password_value(text, i + len(sep), kw, sep)
                    if hit:
                        yield hit
                i = text.find(sep, i + 1)

    def _password_value(self, text: str, j: int, keyword: str, sep: str) -> Match | None:
        pw = self.rules.secret.password
        quoted = False
        for _ in range(3):
            if j < len(text) and text[j] in " \t\"'":
                quoted |= text[j] in "\"'"
                j += 1
        m = self.value.match(text, j)
        if not m:
            return None
        value = m.group()
        cut = min((k for k in (value.find(c) for c in pw.stop) if k >= 0), default=len(value))
        value = value[:cut] if quoted else value[:cut].rstrip(".,;:!?")  # unquoted: a sentence may end there
        low = value.lower()
        if len(value) < pw.min_length or any(p in low for p in self.value_placeholders):
            return None
        symbol_or_digit = any(c.isdigit() or not c.isalnum() for c in value)
        if keyword.isascii() and sep != "=" and not symbol_or_digit:
            return None  # "Password: reset it in settings": prose, not a value
        if not quoted and re.fullmatch(r"[A-Za-z_][A-Za-z_.]*(?:[(\[][^\s]*)?", value):
            return None  # password=self.password, password=getpass(): code, not a value
        return Match("secret", j, j + len(value), "password")


def resolve(found: Iterable[Match]) -> tuple[Match, ...]:
    """Non-overlapping matches in text order: the longer wins, then the kind's ``PRIORITY``."""
    ordered = sorted(set(found), key=lambda m: (m.start - m.end, PRIORITY[m.kind], m.start))
    starts: list[int] = []
    kept: list[Match] = []
    for m in ordered:
        at = bisect.bisect_left(starts, m.start)
        if (at and kept[at - 1].end > m.start) or (at < len(kept) and kept[at].start < m.end):
            continue
        starts.insert(at, m.start)
        kept.insert(at, m)
    return tuple(kept)


@lru_cache(maxsize=1)
def finder() -> Finder:
    return Finder(load_privacy())


@lru_cache(maxsize=512)
def find_all(text: str) -> tuple[Match, ...]:
    """Every match in ``text`` (cached: the six rules look at the same contents)."""
    return finder().find(text)


class Prefilter:
    """``suspicious(text)``: False only when ``find_all(text)`` holds no match of ``kinds``."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.kinds = frozenset(kinds) & frozenset(KINDS)
        rules = load_privacy()
        self.email = "email" in self.kinds
        self.ip = "ip" in self.kinds
        self.min_digits = Numbers(rules, self.kinds).min_digits
        self.secret = "secret" in self.kinds
        anchors: dict[str, list[tuple[str, int]]] = {}
        for key in rules.secret.keys:
            for prefix in key.prefixes:
                anchors.setdefault(key.anchor, []).append((prefix, prefix.index(key.anchor)))
        self.anchors = [(a, tuple(p)) for a, p in anchors.items()]
        self.separators = rules.secret.password.separators
        self.keywords = tuple(k.lower() for k in rules.secret.password.keywords)

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def suspicious(self, text: str) -> bool:
        if self.email and text.find("@") >= 0:
            return True
        if (self.min_digits or self.ip) and self._numbers(text):
            return True
        return self.secret and (self._keys(text) or self._passwords(text))

    def _numbers(self, text: str) -> bool:
        view = text.encode("utf-8", "surrogatepass").translate(_NUMBER_VIEW)
        i = view.find(b"0")
        if i < 0:
            return False
        if self.ip and view.find(b":") >= 0:
            return True  # IPv6: a colon and a digit
        while i >= 0:
            span = _VIEW_SPAN.match(view, i)
            assert span is not None  # view[i] is "0"
            run = span.group()
            if (self.min_digits and run.count(b"0") >= self.min_digits) or (self.ip and run.count(b".") >= 3):
                return True
            i = view.find(b"0", span.end())
        return False

    def _keys(self, text: str) -> bool:
        find, startswith = text.find, text.startswith
        for anchor, prefixes in self.anchors:
            i, looks = find(anchor), 0
            while i >= 0:
                looks += 1
                if looks > _ANCHOR_LOOKS:  # a text full of dashes: search for the prefixes themselves
                    return any(find(prefix) >= 0 for prefix, _ in prefixes)
                if any(i >= k and startswith(prefix, i - k) for prefix, k in prefixes):
                    return True
                i = find(anchor, i + 1)
        return False

    def _passwords(self, text: str) -> bool:
        keyword_before = finder().keyword_before
        for sep in self.separators:
            i, looks = text.find(sep), 0
            while i >= 0:
                looks += 1
                if looks > _ANCHOR_LOOKS:
                    low = text.lower()
                    return any(k in low for k in self.keywords)
                if keyword_before(text, i, whole_word=False):  # a message may start with the keyword
                    return True
                i = text.find(sep, i + 1)
        return False


def redact(text: str, kinds: Iterable[str]) -> tuple[str, tuple[Match, ...]]:
    """``text`` with every match of ``kinds`` replaced by its kind's placeholder, and the matches
    (their offsets are in ``text`` as given)."""
    wanted = frozenset(kinds)
    found = tuple(m for m in find_all(text) if m.kind in wanted)
    if not found:
        return text, found
    placeholders = load_privacy().kinds
    parts, at = [], 0
    for m in found:  # in text order, never overlapping
        parts += [text[at : m.start], placeholders[m.kind].placeholder]
        at = m.end
    return "".join(parts) + text[at:], found


def mask(value: str) -> str:
    """``value`` as messages show it: at most the first and last two characters, stars between."""
    rules = load_privacy().mask
    n = len(value)
    keep = rules.keep if n >= rules.keep_from else 1 if n >= 6 else 0
    stars = "*" * max(1, min(n - 2 * keep, rules.max_stars))
    return f"{value[:keep]}{stars}{value[n - keep :]}" if keep else stars
