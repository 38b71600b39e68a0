"""Where personal data and secrets are in a text: the one matcher behind rules FT601-FT606, the
fast path's prefilter, ``ftkit fix --redact`` and the report's Privacy section.

``find_all(text)`` gives every match of every kind, overlaps resolved (the longer match wins; on
a tie: secret, email, identity number, card, phone, IP), so a kind's findings never depend on
which other kinds are checked. What is matched comes from ``rules/privacy.toml``; the numbers
are in ``ftkit.checks.numbers``, the cheap "could there be one?" in ``ftkit.checks.prefilter``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from ftkit.checks.numbers import Numbers
from ftkit.policy.privacy import KINDS, PrivacyRules, load_privacy

if TYPE_CHECKING:
    from ftkit.checks.prefilter import Prefilter

PRIORITY = {"secret": 0, "email": 1, "id": 2, "card": 3, "phone": 4, "ip": 5}
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ALNUM = _LETTERS | frozenset("0123456789")
_LOCAL_CHARS = _ALNUM | frozenset("._%+-")


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
        self.value_starts = tuple(pw.placeholder_starts)
        self.value_words = tuple(p.lower() for p in pw.placeholder_words)
        self.value_values = frozenset(p.lower() for p in pw.placeholder_values)

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
        if len(value) < pw.min_length or value.startswith(self.value_starts) or low in self.value_values:
            return None
        if any(w in low for w in self.value_words):
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


@lru_cache(maxsize=1)
def _everything() -> Prefilter:
    from ftkit.checks.prefilter import Prefilter  # it reads the rules through this module's Numbers

    return Prefilter(KINDS)


@lru_cache(maxsize=512)
def find_all(text: str) -> tuple[Match, ...]:
    """Every match in ``text`` (cached: the six rules look at the same contents). The prefilter
    first: in a record with something to look at, most contents have nothing."""
    return finder().find(text) if _everything().suspicious(text) else ()


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
