"""The fast path of the scan: one test that a parsed record is plainly well-formed.

``CleanCheck`` must never accept a record that any rule would flag; the careful path (every rule,
with explanations) runs for everything else. ``tests/test_engine_properties.py`` checks this.

The privacy rules (FT6xx) look at the text, not the shape: with a ``Prefilter`` for the kinds
being checked, ``verdict`` says ``SUSPECT`` for a well-formed record whose text could hold one
(an "@", a long enough run of digits, a key prefix...), and the scan runs only those rules on it.
"""

from __future__ import annotations

import re
from typing import Any

from ftkit.checks.content import _role_prefix
from ftkit.checks.prefilter import Prefilter
from ftkit.policy.profile import DataRules

#: ``CleanCheck.verdict``: the careful path; no rule could flag it; well-formed, but run the FT6xx rules.
CAREFUL, CLEAN, SUSPECT = 0, 1, 2


class CleanCheck:
    """True only for a record that no rule could flag: the fast path's single test.

    ``private``: the prefilter of the privacy kinds being checked (None or empty: none)."""

    def __init__(self, data: DataRules, private: Prefilter | None = None) -> None:
        self.suspicious = private.suspicious_line if private else None
        self.only_email = private.only_email if private else False  # validate's default: one search for "@"
        self.record_keys = frozenset(data.record_keys)
        self.message_keys = frozenset(("role", "content"))
        # Special tokens (FT302) and media placeholders (FT304) all start with "<": one search finds either.
        specials = sorted({*data.special_tokens, *data.media_placeholders}, key=len, reverse=True)
        self.special = re.compile("|".join(map(re.escape, specials))).search if specials else None
        self.angle = all(t.startswith("<") for t in specials)  # then a text without "<" holds none of them
        self.usable = {"system", "user", "assistant"} <= set(data.roles) and self.message_keys <= set(data.message_keys)
        self.patterns: dict[tuple[int, bool], list[str]] = {}
        self.labelled = _role_prefix(tuple(data.role_prefixes)).match if data.role_prefixes else None

    def _pattern(self, n: int, system: bool) -> list[str]:
        """The only role sequence of length n that passes every FT2xx rule (one leading system)."""
        pattern = self.patterns.get((n, system))
        if pattern is None:
            turns = n - system
            pattern = ["system"] * system + ["user", "assistant"] * (turns // 2) if turns >= 2 and turns % 2 == 0 else []
            self.patterns[(n, system)] = pattern
        return pattern

    def __call__(self, obj: Any, line: bytes) -> bool:
        """No rule at all could flag the record (fix copies such a record byte for byte)."""
        return self.verdict(obj, line) == CLEAN

    def verdict(self, obj: Any, line: bytes) -> int:
        """``CLEAN``, ``SUSPECT`` (well-formed; only FT6xx rules could flag it) or ``CAREFUL``."""
        if type(obj) is not dict or not self.usable:
            return CAREFUL
        msgs = obj.get("messages")
        if type(msgs) is not list or not msgs or not obj.keys() <= self.record_keys:
            return CAREFUL
        mk = self.message_keys
        try:
            if not all([m.keys() == mk for m in msgs]):  # noqa: C419  # a list first: faster than a generator here
                return CAREFUL
            roles = [m["role"] for m in msgs]
            texts = [m["content"] for m in msgs]
            joined = "".join(texts)  # TypeError unless every content is a string
        except (AttributeError, TypeError):
            return CAREFUL
        if roles != self._pattern(len(roles), roles[0] == "system"):
            return CAREFUL
        if not all(texts) or any(map(str.isspace, texts)):
            return CAREFUL
        if self.special and ("<" in joined or not self.angle) and self.special(joined):
            return CAREFUL
        if self.labelled and (":" in joined or "：" in joined) and any(map(self.labelled, texts)):
            return CAREFUL  # a speaker label needs a colon: most records skip the regex
        # Duplicate keys are invisible after parsing, so count them in the bytes. Every key written
        # is followed by one colon, so the colons are at least the keys written: as many colons
        # as keys parsed means no key was written twice. Colons inside strings spoil that count;
        # then, with no whitespace before any colon, every key is followed directly by '":'.
        keys = len(obj) + 2 * len(msgs)
        colons = line.count(b":") != keys  # then some content holds a colon
        if colons and (line.count(b'":') != keys or b" :" in line or b"\t" in line or b"\r" in line):
            return CAREFUL
        # A match never spans two messages, so a search of the joined text finds every one.
        if self.only_email:
            return SUSPECT if "@" in joined else CLEAN
        return SUSPECT if self.suspicious is not None and self.suspicious(line, joined, colons) else CLEAN
