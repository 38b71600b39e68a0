"""The fixes ``ftkit fix`` applies to one parsed record (FT109, and on request FT111/FT112,
FT203, FT204 and the redaction of FT601-FT606), and how a fixed record is written back in the
style of the line it came from.

The file-level fixes (BOM, blank lines, CRLF, joined lines) and the list of all fixes are in
``ftkit.repair.fix``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel

from ftkit.checks import pointer
from ftkit.checks.sensitive import redact
from ftkit.checks.structure import intended_role
from ftkit.policy.privacy import load_privacy
from ftkit.policy.profile import DataRules


class FixOptions(BaseModel):
    """The opt-in fixes (off by default: each changes what the model is trained on)."""

    merge_consecutive: bool = False
    drop_unpaired_user: bool = False
    remove_unknown_keys: bool = False
    #: kinds of ``rules/privacy.toml`` to replace by their placeholders (FT601-FT606)
    redact: frozenset[str] = frozenset()


class Change(NamedTuple):
    code: str
    pointer: str
    action: str
    extra: Mapping[str, Any] | None = None  # more keys of the change log's entry (a redaction's kind and offsets)


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
                changes.append(Change("FT109", pointer("messages", i, "role"), f"role {role!r} -> {meant!r}"))
    index = list(range(len(msgs)))
    if options.remove_unknown_keys:
        for key in [k for k in fixed if k not in data.record_keys]:
            value = fixed.pop(key)
            if key == "system" and isinstance(value, str) and value.strip() and "system" in data.roles:
                changes.append(Change("FT111", pointer(key), _move_system(value, msgs, index)))
            else:
                changes.append(Change("FT111", pointer(key), f"removed the record key {key!r}"))
        for i, msg in enumerate(msgs):
            for key in [k for k in msg if k not in data.message_keys] if isinstance(msg, dict) else ():
                del msg[key]
                changes.append(Change("FT112", pointer("messages", index[i], key), f"removed the message key {key!r}"))
    if options.redact:  # after the move of a top-level system string, which is redacted too
        _redact(msgs, index, options.redact, changes)
    if options.merge_consecutive:
        msgs, index = _merge_consecutive(msgs, index, changes)
    if options.drop_unpaired_user and len(msgs) >= 2 and _plain(msgs[-1], "user") and _plain(msgs[-2], "assistant"):
        msgs.pop()
        changes.append(Change("FT204", pointer("messages", index.pop()), "dropped the final user message, which has no assistant reply"))
    fixed["messages"] = msgs
    return fixed, changes


def _redact(msgs: list[Any], index: list[int], kinds: frozenset[str], changes: list[Change]) -> None:
    """Replace every match of ``kinds`` in each content by its placeholder. The change log gets
    the kind and the offsets in the content as read, never the value."""
    rules = load_privacy()
    for at, msg in zip(index, msgs, strict=True):
        text = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(text, str):
            continue
        new, found = redact(text, kinds)
        for m in found:
            kind = rules.kinds[m.kind]
            action = f"replaced the {kind.label} at content[{m.start}:{m.end}] with {kind.placeholder}"
            where = pointer("messages", at, "content") if at >= 0 else pointer("system")  # a moved top-level system string
            changes.append(Change(kind.code, where, action, {"kind": m.kind, "start": m.start, "end": m.end}))
        msg["content"] = new


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
                Change(
                    "FT203",
                    pointer("messages", i),
                    f"merged this {msg['role']} message into message {kept_index[-1]} (joined with a blank line)",
                )
            )
            continue
        kept.append(msg)
        kept_index.append(i)
    return kept, kept_index


def splice_contents(raw: bytes, original: Any, fixed: Any) -> bytes | None:
    """``raw`` with only the changed content strings written anew, or None when that cannot be
    done exactly (a string not written as ``json.dumps`` writes it, or a result that does not
    parse back to ``fixed``)."""
    try:
        pairs = [(a["content"], b["content"]) for a, b in zip(original["messages"], fixed["messages"], strict=True) if a != b]
    except (KeyError, TypeError, ValueError):
        return None
    out = raw
    for old, new in pairs:
        for ascii_only in (False, True):
            was = json.dumps(old, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
            if was in out:
                out = out.replace(was, json.dumps(new, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))
                break
        else:
            return None
    try:
        return out if json.loads(out) == fixed else None
    except ValueError:
        return None


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
