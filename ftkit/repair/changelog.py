"""The change log ``ftkit convert`` writes beside its output: a JSON array, one object per
change of a written record, streamed entry by entry so that it never has to fit in memory.

An entry is ``{"line", "code", "pointer", "action"}`` (``"index"`` too for an element of a JSON
array or a Parquet row, ``"end_line"`` for a record over several lines): where the record was in
the input, what kind of change (``system``, ``preference``, ``label``, ``reasoning``, ``tools``,
``not-carried``), the JSON pointer into the input record of what was moved or dropped, and in
words what was done and why. ``ftkit fix`` writes the same shape with rule codes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import IO, Any


class ChangeLog:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.by_code: Counter[str] = Counter()

    def add(self, where: dict[str, int], code: str, pointer: str, action: str) -> None:
        entry: dict[str, Any] = {**where, "code": code, "pointer": pointer, "action": action}
        data = json.dumps(entry, ensure_ascii=False).encode("utf-8", "backslashreplace")
        self.stream.write((b",\n  " if self.by_code else b"[\n  ") + data)
        self.by_code[code] += 1

    def close(self) -> None:
        self.stream.write(b"\n]\n" if self.by_code else b"[]\n")
