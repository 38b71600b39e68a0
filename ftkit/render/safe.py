"""Text that came from data (file names, keys, roles, content quoted in a message) is shown
escaped: no control character, no line break, no bidirectional override and no lone surrogate
reaches a terminal, a CI log or a Markdown file raw. ``ESC[2J`` would clear the screen, an OSC
sequence would set the title or the clipboard, and a newline could forge a line of output (such
as a ``::error`` command that GitHub Actions obeys)."""

from __future__ import annotations

import json
import re
from typing import Any

# C0 and C1 controls, DEL, line and paragraph separators, bidi marks and overrides, lone surrogates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object) -> str:
    """``text`` with every unsafe character written as its escape (``\\x1b``, ``\\u009b``, ...)."""
    value = str(text)
    return _UNSAFE.sub(_escape, value) if _UNSAFE.search(value) else value


# What JSON encoders leave raw but a terminal may act on: C1 controls, line and paragraph
# separators, bidi marks and overrides (C0 controls are escaped by every JSON encoder already).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE_BYTES = re.compile(b"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]")


def json_safe(text: str) -> str:
    """JSON text with those characters as ``\\uXXXX`` escapes: the same JSON value (they can
    only occur inside strings), and nothing a terminal acts on."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _JSON_UNSAFE.search(text) else text


def json_safe_bytes(data: bytes) -> bytes:
    """``json_safe`` for UTF-8 encoded JSON."""
    if not _JSON_UNSAFE_BYTES.search(data):
        return data
    return _JSON_UNSAFE_BYTES.sub(lambda m: f"\\u{ord(m.group().decode('utf-8')):04x}".encode("ascii"), data)


def encode(text: str) -> bytes:
    """UTF-8 bytes for output; a lone surrogate that is left (JSON) becomes its ``\\uXXXX`` escape."""
    return text.encode("utf-8", "backslashreplace")


def model_json(model: Any) -> str:
    """A result model as indented JSON text. Unlike pydantic's own ``model_dump_json``, a lone
    surrogate (from a file name that is not UTF-8, or a key holding one) does not stop it; it is
    written as its ``\\uXXXX`` escape when the text is encoded (``encode``)."""
    return json_safe(json.dumps(model.model_dump(mode="json"), indent=2, ensure_ascii=False))
