"""The fixes ``ftkit fix`` applies to one parsed record (FT109, and on request FT111/FT112,
FT203, FT204), and how a fixed record is written back in the style of the line it came from.

The file-level fixes (BOM, blank lines, CRLF, joined lines) and the list of all fixes are in
``ftkit.repair.fix``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from ftkit.checks import pointer
from ftkit.checks.structure import intended_role
from ftkit.policy.profile import DataRules


class FixOptions(BaseModel):
    """The opt-in fixes (off by default: each changes what the model is trained on)."""

    merge_consecutive: bool = False
    drop_unpaired_user: bool = False
    remove_unknown_keys: bool = False


Change = tuple[str, str, str]  # (code, pointer, action)


def fix_record(record: Any, data: DataRules, options: FixOptions) -> tuple[Any, list[Change]]:
    """A copy of the record with every applicable fix applied, and the changes made.

    Pointers name the message's position in the record as read (before any merge or drop).
    """
    if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
        return record, []
    changes: list[Change] = []
    fixed = dict(record)
    msgs = [dict(m) if isinstance(m, dict) else m for m in record["messages"]]
    for i, msg in enumerate(msgs):
        role = msg.get("role") if isinstance(msg, dict) else None
        if isinstance(role, str) and role not in data.roles:
            meant = intended_role(role, data)
            if meant:
                msg["role"] = meant
                changes.append(("FT109", pointer("messages", i, "role"), f"role {role!r} -> {meant!r}"))
    index = list(range(len(msgs)))
    if options.remove_unknown_keys:
        for key in [k for k in fixed if k not in data.record_keys]:
            value = fixed.pop(key)
            if key == "system" and isinstance(value, str) and value.strip() and "system" in data.roles:
                changes.append(("FT111", pointer(key), _move_system(value, msgs, index)))
            else:
                changes.append(("FT111", pointer(key), f"removed the record key {key!r}"))
        for i, msg in enumerate(msgs):
            for key in [k for k in msg if k not in data.message_keys] if isinstance(msg, dict) else ():
                del msg[key]
                changes.append(("FT112", pointer("messages", index[i], key), f"removed the message key {key!r}"))
    if options.merge_consecutive:
        msgs, index = _merge_consecutive(msgs, index, changes)
    if options.drop_unpaired_user and len(msgs) >= 2 and _plain(msgs[-1], "user") and _plain(msgs[-2], "assistant"):
        msgs.pop()
        changes.append(("FT204", pointer("messages", index.pop()), "dropped the final user message, which has no assistant reply"))
    fixed["messages"] = msgs
    return fixed, changes


def _move_system(system: str, msgs: list[Any], index: list[int]) -> str:
    """A top-level "system" string (Anthropic, Bedrock/Nova) made the first system message; it
    is never lost. The action, as the change log says it."""
    first = msgs[0] if msgs else None
    if isinstance(first, dict) and first.get("role") == "system" and first.get("content") == system:
        return "removed the record key 'system': the same text is the first system message"
    msgs.insert(0, {"role": "system", "content": system})
    index.insert(0, -1)  # a message that was not in the record as read
    if isinstance(first, dict) and first.get("role") == "system":
        return "moved the record key 'system' into a system message before the record's own (FT206: two system messages)"
    return "moved the record key 'system' into a first system message"


def _plain(msg: Any, role: str | None = None) -> bool:
    """A message with exactly role and content, the content a string (and the role, if given)."""
    return (
        isinstance(msg, dict)
        and msg.keys() == {"role", "content"}
        and isinstance(msg["content"], str)
        and (role is None or msg["role"] == role)
    )


def _merge_consecutive(msgs: list[Any], index: list[int], changes: list[Change]) -> tuple[list[Any], list[int]]:
    kept: list[Any] = []
    kept_index: list[int] = []
    for msg, i in zip(msgs, index):
        prev = kept[-1] if kept else None
        if prev is not None and _plain(msg) and _plain(prev) and msg["role"] == prev["role"] and msg["role"] in ("user", "assistant"):
            prev["content"] = "\n\n".join(t for t in (prev["content"], msg["content"]) if t.strip()) or prev["content"]
            changes.append(
                (
                    "FT203",
                    pointer("messages", i),
                    f"merged this {msg['role']} message into message {kept_index[-1]} (joined with a blank line)",
                )
            )
            continue
        kept.append(msg)
        kept_index.append(i)
    return kept, kept_index


_STYLES = [((", ", ": "), False), ((",", ":"), False), ((", ", ": "), True), ((",", ":"), True)]


def serialise(record: Any, original: Any = None, text: str | None = None) -> bytes:
    """The record as one JSON line, in the style that reproduces ``text`` from ``original`` if any.

    Raises ``ValueError`` for NaN or Infinity and ``TypeError`` for a value JSON cannot hold."""
    separators, ascii_only = _STYLES[0]
    if text is not None:
        for seps, asc in _STYLES:
            if json.dumps(original, ensure_ascii=asc, separators=seps, default=repr) == text:
                separators, ascii_only = seps, asc
                break
    # allow_nan=False: a NaN or Infinity is refused (ValueError), never written as invalid JSON
    return json.dumps(record, ensure_ascii=ascii_only, separators=separators, allow_nan=False).encode("utf-8")
