"""Text that came from data (file names, keys, roles, content quoted in a message) is shown
escaped: no control character, no line break, no bidirectional override and no lone surrogate
reaches a terminal, a CI log or a Markdown file raw. ``ESC[2J`` would clear the screen, an OSC
sequence would set the title or the clipboard, and a newline could forge a line of output (such
as a ``::error`` command that GitHub Actions obeys)."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, bidi marks and overrides, lone surrogates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object) -> str:
    """``text`` with every unsafe character written as its escape (``\\x1b``, ``\\u009b``, ...)."""
    value = str(text)
    return _UNSAFE.sub(_escape, value) if _UNSAFE.search(value) else value


def encode(text: str) -> bytes:
    """UTF-8 bytes for output; a lone surrogate that is left (JSON) becomes its ``\\uXXXX`` escape."""
    return text.encode("utf-8", "backslashreplace")
