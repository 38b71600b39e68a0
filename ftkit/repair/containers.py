"""The containers ``ftkit convert`` reads records from, each record with where it was and what
the rejects file keeps of it.

- ``jsonl``: JSON Lines, streamed by the one reader (blank lines skipped; a BOM, CR line ends and
  records pretty-printed over several lines are handled there);
- ``json-array``: one JSON array of records, loaded whole (a .json dataset is one value);
- ``json-object``: the whole file is one JSON object (pretty-printed or not, of any size): one
  record. Tried only when the file's first line is not a JSON value of its own;
- ``parquet``: a Parquet table (Hugging Face datasets are mostly Parquet), read with polars, one
  record per row. Parquet gives every struct every field of its schema: null fields are left out.

Every record gets the careful parse: a duplicate key, NaN or a number that overflows (FT009,
FT010, ...) rejects it, as validate would call it an error. ``FT008`` (a record over several
lines) is not a reason to reject: convert writes every record on one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from ftkit.checks import Selector
from ftkit.errors import DataError, InputError
from ftkit.findings import Finding
from ftkit.outputs import kept, reason
from ftkit.policy.profile import Profile
from ftkit.scan.arrays import ArrayError, array_items
from ftkit.scan.inputs import Input, describe_os_error
from ftkit.scan.parse import Parsed, parse_text
from ftkit.scan.reader import (
    BLANK,
    HEAD_BYTES,
    PARQUET_MAGIC,
    UNPARSED,
    UTF8_BOM,
    Reader,
    careful,
    iter_lines,
    sniff,
)

Container = Literal["jsonl", "json-array", "json-object", "parquet"]
#: How each container is named in the outcome line.
CONTAINER_NAMES = {
    "jsonl": "JSON Lines",
    "json-array": "a JSON array, loaded whole",
    "json-object": "one JSON object",
    "parquet": "Parquet, read with polars",
}


class Unparsed:
    """An input record that cannot be used as it is: why, and what to keep of it in the rejects file."""

    def __init__(self, reasons: list[str], keep: dict[str, Any]) -> None:
        self.reasons, self.keep = reasons, keep


Item = tuple[dict[str, int], Any, dict[str, Any]]  # (where, value or Unparsed, what the rejects file keeps)


def _read_head(item: Input) -> bytes:
    try:
        with open(item.path, "rb") as stream:
            return stream.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None


def open_records(item: Input, profile: Profile, selected: Selector, counter: Any = None) -> tuple[Container, Iterator[Item]]:
    """The input's container and its records, in order (see the module docstring). Refuses
    compressed and non-UTF-8 files, and empty ones, with a ``DataError``."""
    head = _read_head(item)
    if head.startswith(PARQUET_MAGIC):
        return "parquet", _parquet_items(item)
    found = sniff(head)
    if found and found.code != "FT017":
        raise DataError(f"{item.name}: {found.code} {found.message}")
    if not head.strip():
        raise DataError(f"{item.name}: FT002 the file holds no records; nothing was written")
    lead = head.removeprefix(UTF8_BOM).lstrip()
    if lead[:1] == b"[":
        return "json-array", _array_items(item, profile, selected)
    if lead[:1] == b"{" and _one_value(item, profile.data.max_line_bytes):
        text = _text(item)
        parsed = parse_text(text)
        if parsed.ok and isinstance(parsed.value, dict):  # else: records spread over lines, for the reader
            return "json-object", _object_item(text, parsed, profile, selected)
    return "jsonl", _jsonl_items(item, profile, selected, counter)


def _one_value(item: Input, limit: int) -> bool:
    """Whether the file may be one JSON object spread over lines, or longer than a line may be:
    its first non-blank line is not a JSON value of its own, or is longer than ``limit``."""
    with open(item.path, "rb") as stream:
        for line in iter_lines(stream, limit):
            if isinstance(line, int):
                return True  # longer than a line may be
            if line.strip():
                return not parse_text(line.decode("utf-8", "replace").removeprefix("\ufeff")).ok
    return False


def _text(item: Input) -> str:
    try:
        return item.path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{item.name}: FT003 not UTF-8 text (invalid byte at offset {exc.start:,}); re-save it as UTF-8") from None


def _errors(findings: list[Finding], profile: Profile, selected: Selector) -> list[Finding]:
    # FT008 (spread over lines) is what convert repairs by writing one line per record
    return [f for f in findings if f.code != "FT008" and selected(f.code) and profile.severity.get(f.code, "error") == "error"]


def _array_items(item: Input, profile: Profile, selected: Selector) -> Iterator[Item]:
    text = _text(item)
    try:
        for index, line, source, parsed in array_items(text):
            errors = _errors(parsed.findings, profile, selected)
            where = {"index": index, "line": line}
            if errors:
                yield where, Unparsed([reason(f.code, f.pointer, f.message) for f in errors], {"text": source}), {}
            else:
                yield where, parsed.value, {"text": source}
    except ArrayError as exc:
        raise DataError(
            f"{item.name}: FT006 not valid JSON at line {exc.line:,} column {exc.column:,}: {exc}; nothing was written"
        ) from None


def _object_item(text: str, parsed: Parsed, profile: Profile, selected: Selector) -> Iterator[Item]:
    lead = len(text) - len(text.lstrip())
    where = {"line": 1 + text.count("\n", 0, lead)}
    last = text.rstrip().count("\n") + 1
    if last > where["line"]:
        where["end_line"] = last
    errors = _errors(parsed.findings, profile, selected)
    if errors:
        yield where, Unparsed([reason(f.code, f.pointer, f.message) for f in errors], {"text": text}), {}
    else:
        yield where, parsed.value, {"text": text}


def _jsonl_items(item: Input, profile: Profile, selected: Selector, counter: Any) -> Iterator[Item]:
    try:
        with open(item.path, "rb") as stream:
            for line, end, raw, value, problems in Reader(stream, profile.data.max_line_bytes, counter=counter):
                if value is BLANK:
                    continue
                where = {"line": line} | ({"end_line": end} if end > line else {})
                if problems is None:  # always the careful parse: duplicate keys, exact numbers
                    parsed = careful(raw)  # type: ignore[arg-type]  # fast-parsed: bytes
                    problems = [f._replace(line=line) for f in parsed.findings]
                    value = parsed.value if parsed.ok else value
                errors = _errors(problems, profile, selected)
                if errors or value is UNPARSED:
                    found = errors or problems
                    yield where, Unparsed([reason(f.code, f.pointer, f.message) for f in found], kept(raw)), {}
                else:
                    yield where, value, kept(raw)
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None


def _parquet_items(item: Input) -> Iterator[Item]:
    import polars as pl

    try:
        frame = pl.read_parquet(item.path)
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None
    except Exception as exc:  # polars raises its own errors for a damaged file
        raise DataError(f"{item.name}: not a readable Parquet file ({type(exc).__name__}: {exc}); nothing was written") from None
    index = 0
    for chunk in frame.iter_slices(n_rows=4096):
        for row in chunk.iter_rows(named=True):
            value = _without_nulls(row)
            try:
                text = json.dumps(value, ensure_ascii=False, default=str)
            except (TypeError, ValueError):
                text = repr(value)
            yield {"index": index}, value, {"text": text}
            index += 1


def _without_nulls(value: Any) -> Any:
    """A Parquet row as JSON: struct fields that are null left out (the schema gives every
    struct every field), dates and other scalars as they are."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
