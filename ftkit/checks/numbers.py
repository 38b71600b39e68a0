"""Personal numbers in text: phone numbers (FT602), PRC resident identity numbers (FT603),
payment card numbers (FT604) and IP addresses (FT605).

A pattern only proposes a candidate; the checks decide: the GB 11643-1999 check character, region
and birth date of an identity number; the Luhn digit, issuer prefix and length of a card; the
public ranges of an address. Everything they check against comes from ``rules/privacy.toml``.

Candidates are "numeric spans": digits joined by at most two of `` -.()`` (and a leading ``+``
or ``(``). A span whose digits are split by spaces may hold several numbers ("13812345678
13987654321"), so its space-separated groups are tried as windows, longest first; a window
that leaves a neighbouring group of three or more digits unexplained is dropped ("4178 0898
8534 5433" is a 16-digit number, not a phone number after "4178"). A number must not touch an
ASCII letter or digit on either side: "SF1234567890123" (a tracking number), a hex digest or a
UUID never yield one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from ftkit.policy.privacy import PrivacyRules

if TYPE_CHECKING:  # imported where used: `ftkit validate` needs neither for its default kinds
    import ipaddress

Found = tuple[str, int, int, str]  # (kind, start, end, detail): what a finder yields

_SPAN = re.compile(r"[0-9](?:[ \-.()]{0,2}[0-9])*(?:[Xx](?![A-Za-z0-9_]))?", re.ASCII)
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_HEX_COLON = frozenset("0123456789abcdefABCDEF:.")
_V6_RIGHT = re.compile(r"[0-9A-Fa-f:.]*")
#: Most space-separated groups one number is written in ("+1 (415) 555 0100", "4111 1111 1111 1111 111").
_MAX_GROUPS = 6
_SHORTEST_FIXED_LINE = 10  # digits of the shortest number the `fixed` pattern allows: 0xx + xxx + xxxx


def min_digits(rules: PrivacyRules, kinds: frozenset[str]) -> int:
    """The fewest digits any number of ``kinds`` has (0: none of phone, id, card)."""
    need = []
    if "phone" in kinds:
        need.append(min(rules.phone.international_digits[0], _SHORTEST_FIXED_LINE))
    if "card" in kinds:
        need.append(min(n for issuer in rules.card.issuers for n in issuer.lengths))
    if "id" in kinds:
        need.append(17)  # the check character may be X
    return min(need, default=0)


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1 on a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _ipv6(token: str) -> ipaddress.IPv6Address | None:
    import ipaddress

    try:
        return ipaddress.IPv6Address(token)
    except ValueError:
        return None


def _expand(prefix: str) -> list[str]:
    """ "51-55" -> ["51", ..., "55"]; "4" -> ["4"]."""
    if "-" not in prefix:
        return [prefix]
    lo, hi = prefix.split("-")
    return [str(n) for n in range(int(lo), int(hi) + 1)]


class Numbers:
    """Finds the numeric kinds asked for (any of phone, id, card, ip) in a text."""

    def __init__(self, rules: PrivacyRules, kinds: frozenset[str]) -> None:
        self.rules, self.kinds = rules, kinds
        flags = re.ASCII
        phone = rules.phone
        self.phone_patterns = [re.compile(p, flags) for p in (phone.mobile, phone.fixed, phone.international)]
        self.fictional = [re.compile(p, flags) for p in phone.fictional]
        self.id_pattern = re.compile(rules.id.pattern, flags)
        self.card_pattern = re.compile(rules.card.pattern, flags)
        self.ipv4 = re.compile(rules.ip.ipv4, flags)
        self.regions = frozenset(rules.id.region_prefixes)
        self.test_cards = frozenset(rules.card.test_numbers)
        self.versions = tuple(w.lower() for w in rules.ip.version_words)

    # --- the prefilter's figures ----------------------------------------------------------------

    @cached_property
    def min_digits(self) -> int:
        return min_digits(self.rules, self.kinds)

    # --- finding --------------------------------------------------------------------------------

    def find(self, text: str) -> Iterator[Found]:
        if not self.kinds:
            return
        for span in _SPAN.finditer(text):
            yield from self._span(text, span.start(), span.end())
        if "ip" in self.kinds and ":" in text:
            yield from self._ipv6(text)

    def _span(self, text: str, start: int, end: int) -> Iterator[Found]:
        chunk = text[start:end]
        number = bool(self.min_digits) and sum(c.isdigit() for c in chunk) >= self.min_digits
        if not number and not ("ip" in self.kinds and chunk.count(".") >= 3):
            return  # too few digits for any number asked for, and not dotted like an IPv4 address
        if start and text[start - 1] in "+(":
            start -= 1
        if (start and text[start - 1] in _WORD) or (end < len(text) and text[end] in _WORD):
            return  # part of a word: a tracking number, a hex digest, a UUID, a version like v1.2.3.4
        groups = []  # (start, end) of the space-separated groups
        at = start
        for piece in text[start:end].split(" "):
            if piece:
                groups.append((at, at + len(piece)))
            at += len(piece) + 1
        used = [False] * len(groups)
        windows = []  # (first group, last group, kind, detail)
        for size in range(min(len(groups), _MAX_GROUPS), 0, -1):
            for first in range(len(groups) - size + 1):
                if any(used[first : first + size]):
                    continue
                found = self._classify(text, groups[first][0], groups[first + size - 1][1])
                if found:
                    used[first : first + size] = [True] * size
                    windows.append((first, first + size - 1, *found))

        def explained(g: int) -> bool:  # a neighbouring group: part of another number, or too short to matter
            return not 0 <= g < len(groups) or used[g] or sum(c.isdigit() for c in text[groups[g][0] : groups[g][1]]) < 3

        for first, last, kind, detail in windows:
            if explained(first - 1) and explained(last + 1):
                yield (kind, groups[first][0], groups[last][1], detail)

    def _classify(self, text: str, start: int, end: int) -> tuple[str, str] | None:
        w = text[start:end]
        kinds = self.kinds
        digits = "".join(c for c in w if c.isdigit())
        if "id" in kinds or "card" in kinds:
            id_shaped = len(w) == 18 and self.id_pattern.fullmatch(w) is not None and self._plausible_id(w)
            if id_shaped and "id" in kinds and self._check_character(w):
                return "id", ""
            if "card" in kinds and not id_shaped and self.card_pattern.fullmatch(w) is not None:
                issuer = self._issuer(digits)
                if issuer:
                    return "card", issuer
        if "phone" in kinds:
            kind = self._phone(w, digits)
            if kind:
                return "phone", kind
        if "ip" in kinds and self.ipv4.fullmatch(w) and not self._after_version_word(text, start):
            import ipaddress

            try:
                address = ipaddress.IPv4Address(w)
            except ValueError:
                return None
            if self._public(address):
                return "ip", "IPv4"
        return None

    # --- the checks -----------------------------------------------------------------------------

    def _plausible_id(self, w: str) -> bool:
        """Region prefix and birth date of an identity number (not its check character)."""
        if w[:2] not in self.regions:
            return False
        import datetime as _dt

        try:
            born = _dt.date(int(w[6:10]), int(w[10:12]), int(w[12:14]))
        except ValueError:
            return False
        return self.rules.id.min_birth_year <= born.year and born <= _dt.date.today()

    def _check_character(self, w: str) -> bool:
        rules = self.rules.id
        total = sum((ord(c) - 48) * weight for c, weight in zip(w[:17], rules.weights))
        return rules.check_characters[total % 11] == w[17].upper()

    @cached_property
    def _issuers(self) -> list[tuple[str, frozenset[int], str]]:
        """(prefix, lengths, issuer name), longest prefix first."""
        rows = [(p, frozenset(i.lengths), i.name) for i in self.rules.card.issuers for raw in i.prefixes for p in _expand(raw)]
        return sorted(rows, key=lambda row: -len(row[0]))

    def _issuer(self, digits: str) -> str | None:
        if digits in self.test_cards or not luhn(digits):
            return None
        return next((name for prefix, lengths, name in self._issuers if digits.startswith(prefix) and len(digits) in lengths), None)

    def _phone(self, w: str, digits: str) -> str | None:
        mobile, fixed, international = self.phone_patterns
        if mobile.fullmatch(w):
            return "mainland mobile"
        if fixed.fullmatch(w):
            return "fixed line"
        lo, hi = self.rules.phone.international_digits
        if international.fullmatch(w) and lo <= len(digits) <= hi and w.count("(") == w.count(")"):
            if any(p.fullmatch(w) for p in self.fictional):
                return None
            return "international"
        return None

    def _after_version_word(self, text: str, start: int) -> bool:
        """True after "version", "v", "版本" ... (spaces, ":" or "：" between allowed)."""
        before = text[max(0, start - 16) : start].rstrip(" :：=").lower()
        for word in self.versions:
            if before.endswith(word):
                head = before[: -len(word)]
                if not head or head[-1] not in _WORD or not word.isascii():
                    return True
        return False

    @cached_property
    def _not_public(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        import ipaddress

        return [ipaddress.ip_network(n) for n in self.rules.ip.not_public]

    @cached_property
    def _v6_global(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        import ipaddress

        return ipaddress.ip_network(self.rules.ip.ipv6_global)

    def _public(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if address.version == 6 and address not in self._v6_global:
            return False
        return not any(address.version == net.version and address in net for net in self._not_public)

    def _ipv6(self, text: str) -> Iterator[Found]:
        i = text.find(":")
        while i >= 0:
            start = i
            while start and text[start - 1] in _HEX_COLON:
                start -= 1
            end = _V6_RIGHT.match(text, i).end()  # type: ignore[union-attr]  # matches the empty string at worst
            token = text[start:end].rstrip(".")
            if token.count(":") >= 2 and len(token) <= 45 and not (start and text[start - 1] in _WORD):
                after = start + len(token)
                if not (after < len(text) and text[after] in _WORD):
                    address = _ipv6(token)
                    if address is None and token.count(":") > 2:  # "2400:3200::1:443": an address and a port
                        token = token.rsplit(":", 1)[0]
                        address = _ipv6(token)
                    if address is not None and self._public(address):
                        yield ("ip", start, start + len(token), "IPv6")
            i = text.find(":", max(end, i + 1))
