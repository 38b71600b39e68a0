"""The rejects file that ``split``, ``fix`` and ``convert`` write: one JSON object a line.

Each entry names where the rejected input was (``"line"``, or ``"index"`` in a JSON array), gives
``"reasons"`` worded alike by all three commands (``FT006 invalid-json at /messages: ...``), and
keeps the input so that nothing is lost: ``"text"``, or ``"base64"`` for bytes that are not
UTF-8, or only ``"omitted_bytes"`` for a line too long to keep (``convert`` may keep the parsed
``"source"`` record instead).
"""

from __future__ import annotations

import base64
import json
from typing import IO, Any

from ftkit.checks import RULES, all_rules


def reason(code: str, where: str, message: str) -> str:
    """One reason for a rejection: the rule's code and name, the JSON pointer if any, the message."""
    all_rules()
    return f"{code} {RULES[code].name}{f' at {where}' if where else ''}: {message}"


def kept(raw: bytes | str | int) -> dict[str, Any]:
    """How a rejected line is kept: its text, its bytes when they are not UTF-8, or (an int) only its length."""
    if isinstance(raw, int):
        return {"omitted_bytes": raw}
    if isinstance(raw, str):
        return {"text": raw}
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


class RejectsFile:
    """Writes rejects entries, one JSON object a line, and counts them."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.count = stream, 0

    def add(self, where: dict[str, int], reasons: list[str], keep: dict[str, Any]) -> None:
        """Write ``{**where, "reasons": reasons, **keep}``; ``keep`` is usually ``kept(...)``."""
        entry = {**where, "reasons": reasons, **keep}
        try:
            data = json.dumps(entry, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a rejected value: keep it escaped
            data = json.dumps(entry).encode("ascii")
        self.stream.write(data + b"\n")
        self.count += 1
