"""The report's example lines: the first few findings of each rule, and the start of the line
each one is on (read from the scan's mark before each, up to the last example after it; personal data replaced by its
placeholder, a record over several lines shown from its first lines joined)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, BinaryIO

from ftkit.findings import Finding

if TYPE_CHECKING:
    from ftkit.tokens.table import RecordTable

Located = tuple[str, Finding]  # (file name, finding)
#: characters of a line shown as an example
SNIPPET_CHARS = 160


def examples_by_rule(violations: Iterable[Located], per_rule: int) -> dict[str, list[Located]]:
    out: dict[str, list[Located]] = {}
    for path, f in violations:
        kept = out.setdefault(f.code, [])
        if len(kept) < per_rule:
            kept.append((path, f))
    return out


def snippets_of(
    table: RecordTable, wanted: Iterable[Located], max_line_bytes: int, private: AbstractSet[tuple[str, int | None]] = frozenset()
) -> dict[tuple[str, int | None], str]:
    """The first characters of each wanted line, reading each file only up to its last such line;
    ``private`` lines (with an FT6xx finding) with every match replaced by its placeholder."""
    lines: dict[str, set[int]] = {}
    for path, f in wanted:
        if f.line is not None:
            lines.setdefault(path, set()).add(f.line)
    out: dict[tuple[str, int | None], str] = {}
    for path, numbers in lines.items():
        result = next((f for f in table.scan.files if f.path == path), None)
        spans, marks = (result.spans, result.marks) if result is not None else ({}, [])
        try:
            with open(table.read_paths[table.paths.index(path)], "rb") as stream:
                out.update(_snippets(stream, path, numbers, spans, marks, max_line_bytes, private))
        except OSError:
            continue  # the file went away since the scan: examples without text
    return out


def _snippets(stream: BinaryIO, path: str, numbers: set[int], spans: Mapping[int, int], marks: Sequence[tuple[int, int]],
              max_line_bytes: int, private: AbstractSet[tuple[str, int | None]]) -> dict[tuple[str, int | None], str]:  # fmt: skip
    """The snippets of one file's wanted lines: read from the mark before each (the scan's
    ``marks``: where lines start), up to the last line wanted after it."""
    from ftkit.scan.fetch import mark_groups
    from ftkit.scan.reader import iter_lines

    # a record over several lines (a JSON array's element, a pretty-printed record) is shown
    # from its first lines joined, not by its opening brace alone
    ends = {n: spans.get(n, n) for n in numbers}
    out: dict[tuple[str, int | None], str] = {}
    for first_line, offset, wanted in mark_groups(sorted(numbers), marks):
        group, last = set(wanted), max(ends[n] for n in wanted)
        parts: dict[int, list[bytes]] = {}
        stream.seek(offset)
        for n, raw in enumerate(iter_lines(stream, max_line_bytes), start=first_line):
            if n in group:
                if ends[n] == n or isinstance(raw, int):
                    out[(path, n)] = _cut(_redacted(raw) if (path, n) in private else raw)
                else:
                    parts[n] = [raw.strip()]
            for first, got in parts.items():
                if first < n <= ends[first] and isinstance(raw, bytes) and sum(map(len, got)) < SNIPPET_CHARS * 4:
                    got.append(raw.strip())
            if n >= last:
                break
        for first, got in parts.items():
            joined = b" ".join(got)
            out[(path, first)] = _cut(_redacted(joined) if (path, first) in private else joined)
    return out


def _redacted(raw: bytes | int) -> bytes | int:
    """A record's line with every personal datum and secret replaced by its placeholder."""
    import json

    from ftkit.checks.sensitive import redact
    from ftkit.policy.privacy import KINDS

    if isinstance(raw, int):  # an over-long line: only its length is shown
        return raw
    try:
        record = json.loads(raw)
        for msg in record["messages"]:
            if isinstance(msg, dict) and isinstance(msg.get("content"), str):
                msg["content"] = redact(msg["content"], KINDS)[0]
        return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError, KeyError, AttributeError):  # not a record any more: show nothing of it
        return b"(not shown: personal data)"


def _cut(raw: bytes | int) -> str:
    if isinstance(raw, int):
        return f"(a line of {raw:,} bytes)"
    text = raw[: SNIPPET_CHARS * 4].removeprefix(b"\xef\xbb\xbf").rstrip(b"\r").decode("utf-8", errors="replace")
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
