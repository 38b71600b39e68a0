"""Meaning is conserved: every piece of text of an input record is in the record written, or a
change-log entry of that record names what was dropped and why.

``content_strings`` lists the text of a record: every string that is not blank and not a name of
structure (roles, speakers, part types, ids: ``STRUCTURAL``). ``lost_text`` gives the pointers of
those that appear nowhere in the output record's messages and are not covered by an entry of
the change log (an entry's pointer covers everything below it). A string appears when it is a
message's content or part of one, as written or as a JSON string (tool calls and definitions are
folded in as JSON); a string that holds JSON appears when each of its own strings does.

``ftkit convert`` runs the check on every record before writing it: a record that would lose
text without saying why is rejected instead (``unconverted-text``), so the promise holds even if
a conversion has a gap. The tests run it over every format and every real file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ftkit.checks import pointer as _pointer

#: Keys whose string values name the structure of a record, not its meaning.
STRUCTURAL = frozenset({"role", "from", "type", "schemaVersion", "id", "tool_call_id", "call_id", "toolUseId", "format", "signature"})


def content_strings(value: Any, at: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, text) for every non-blank string of the value outside ``STRUCTURAL`` keys."""
    stack: list[tuple[str, Any]] = [(at, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if item.strip():
                yield where, item
        elif isinstance(item, dict):
            stack.extend((where + _pointer(k), v) for k, v in item.items() if k not in STRUCTURAL)
        elif isinstance(item, list):
            stack.extend((f"{where}/{i}", v) for i, v in enumerate(item))


def has_content(value: Any) -> bool:
    return next(content_strings(value), None) is not None


class _Output:
    """The text of an output record: its message contents, whole and joined."""

    def __init__(self, record: Any) -> None:
        msgs = record.get("messages") if isinstance(record, dict) else None
        texts = [m["content"] for m in msgs or () if isinstance(m, dict) and isinstance(m.get("content"), str)]
        self.contents = set(texts)
        self.joined = "\x00".join(texts)

    def has(self, text: str, depth: int = 0) -> bool:
        if text in self.contents or text in self.joined:
            return True
        escaped = json.dumps(text, ensure_ascii=False)[1:-1]
        if escaped != text and escaped in self.joined:
            return True
        if depth < 3 and text.lstrip()[:1] in ("{", "["):  # JSON held in a string (tool-call arguments)
            try:
                inner = json.loads(text)
            except ValueError:
                return False
            return all(self.has(s, depth + 1) for _, s in content_strings(inner))
        return False


def covered(where: str, accounted: Iterable[str]) -> bool:
    return any(where == a or where.startswith(a + "/") for a in accounted)


def lost_text(source: Any, record: Any, accounted: Iterable[str]) -> list[str]:
    """Pointers (into ``source``) of the text that is neither in ``record`` nor accounted for."""
    accounted = list(accounted)
    out = _Output(record)
    lost = []
    # content_strings, but a pointer is spelt out only for text the output does not hold (the rare case)
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), source)]
    while stack:
        parts, item = stack.pop()
        if isinstance(item, str):
            if item and not item.isspace() and not out.has(item):
                where = _pointer(*parts)
                if not covered(where, accounted):
                    lost.append(where)
        elif isinstance(item, dict):
            stack.extend(((*parts, k), v) for k, v in item.items() if k not in STRUCTURAL)
        elif isinstance(item, list):
            stack.extend(((*parts, i), v) for i, v in enumerate(item))
    return sorted(lost)
