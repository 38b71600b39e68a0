"""The fast path of the scan: one test that a parsed record is plainly well-formed.

``CleanCheck`` must never accept a record that any rule would flag; the careful path (every rule,
with explanations) runs for everything else. ``tests/test_engine_properties.py`` checks this.

The privacy rules (FT6xx) look at the text, not the shape: with a ``Prefilter`` for the kinds
being checked, ``verdict`` says ``SUSPECT`` for a well-formed record whose text could hold one
(an "@", a long enough run of digits, a key prefix...), and the scan runs only those rules on it.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

from ftkit.checks.content import _role_prefix
from ftkit.checks.prefilter import Prefilter
from ftkit.policy.profile import DataRules

#: ``CleanCheck.verdict``: the careful path; no rule could flag it; well-formed, but run the FT6xx rules.
CAREFUL, CLEAN, SUSPECT = 0, 1, 2
#: Role sequences up to this many messages are looked up in a set; longer ones are built.
MAX_LISTED = 64
_ROLE, _CONTENT = itemgetter("role"), itemgetter("content")
# A colon written as an escape. A regex search for it is quicker than ``in``, whose search for a
# five-byte needle steps through the many backslashes of escaped newlines (39 against 59 ms on
# 100 MB of large records).
_ESCAPED_COLON = re.compile(rb"\\u003[aA]").search


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
        self.usable = (
            {"system", "user", "assistant"} <= set(data.roles)
            and self.message_keys <= set(data.message_keys)
            and "messages" in self.record_keys
        )
        # Every role sequence that passes the FT2xx rules, up to MAX_LISTED messages: one leading
        # system message or none, then user/assistant pairs.
        self.sequences = frozenset(
            ("system",) * system + ("user", "assistant") * pairs for system in (0, 1) for pairs in range(1, MAX_LISTED // 2 + 1)
        )
        self.labelled = _role_prefix(tuple(data.role_prefixes)).match if data.role_prefixes else None
        #: the contents of the record ``verdict`` last looked at (set once its messages are known
        #: to be dicts with a content each): the scan hands them on instead of listing them again
        self.texts: list[Any] = []

    def __call__(self, obj: Any, line: bytes) -> bool:
        """No rule at all could flag the record (fix copies such a record byte for byte)."""
        return self.verdict(obj, line) == CLEAN

    def verdict(self, obj: Any, line: bytes) -> int:
        """``CLEAN``, ``SUSPECT`` (well-formed; only FT6xx rules could flag it) or ``CAREFUL``."""
        # Per record this runs once for every line of a file: few Python steps, C loops for the rest.
        if type(obj) is not dict:
            return CAREFUL
        msgs = obj.get("messages")
        if type(msgs) is not list or not msgs or (len(obj) != 1 and not obj.keys() <= self.record_keys) or not self.usable:
            return CAREFUL
        try:
            # C loops (map), not comprehensions. A message that is not a dict, or lacks a key, raises
            # here; one with more keys than role and content fails the count of colons below.
            roles = tuple(map(_ROLE, msgs))
            self.texts = texts = list(map(_CONTENT, msgs))
            joined = "".join(texts)  # TypeError unless every content is a string
            # one set lookup: the role sequences that pass every FT2xx rule (a role that is not
            # hashable raises TypeError)
            if roles not in self.sequences and (len(roles) <= MAX_LISTED or roles != self._long(roles)):
                return CAREFUL
        except (KeyError, TypeError):
            return CAREFUL
        if not all(texts) or any(map(str.isspace, texts)):
            return CAREFUL
        if self.special and ("<" in joined or not self.angle) and self.special(joined):
            return CAREFUL
        colons = ":" in joined  # some content holds a colon
        if self.labelled and (colons or "：" in joined) and any(map(self.labelled, texts)):
            return CAREFUL  # a speaker label needs a colon: most records skip the regex
        # Duplicate keys are invisible after parsing, so count them in the bytes. Every key written
        # is followed by one colon outside strings; the only strings that can hold a colon are the
        # contents (keys and roles were checked by name above; any other value only adds colons).
        # A colon in a content is written as ":" unless escaped (\u003a). So, with no such escape,
        # the line has at least (keys written) + (colons in the contents) colons, and as many means
        # that no key was written twice and no message has a key besides role and content.
        keys = len(obj) + 2 * len(msgs)
        inside = joined.count(":") if colons else 0
        # (the length lost by deleting every colon: faster than bytes.count, which does not use memchr)
        if len(line) - len(line.replace(b":", b"")) != keys + inside or (colons and _ESCAPED_COLON(line)):
            return CAREFUL
        # A match never spans two messages, so a search of the joined text finds every one.
        if self.only_email:
            return SUSPECT if "@" in joined else CLEAN
        return SUSPECT if self.suspicious is not None and self.suspicious(line, joined, colons) else CLEAN

    def _long(self, roles: tuple[Any, ...]) -> tuple[str, ...]:
        """The one passing role sequence as long as ``roles``, for records longer than MAX_LISTED."""
        system = roles[0] == "system"
        turns = len(roles) - system
        return ("system",) * system + ("user", "assistant") * (turns // 2) if turns >= 2 and turns % 2 == 0 else ()
