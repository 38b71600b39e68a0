"""Bring chat data in from other formats as SiliconFlow messages JSONL, losing no record.

Inputs: a JSON array of records (loaded whole: a .json dataset is one value) or JSON Lines
(streamed by the one reader, so a pretty-printed record is read whole; blank lines are skipped, a
BOM and CR line ends are ignored). Every record gets the careful parse: a duplicate key, NaN or a
number that overflows (FT009, FT010, ...) rejects it, as validate would call it an error.

Formats (``--from``; ``auto`` picks the shape most of the first 100 records have): alpaca,
sharegpt, prompt-completion and openai. How each becomes messages, and what ``tools`` (``reject``
or ``fold``) does with function calls and tool results, is described in ``ftkit.repair.chat_formats``.

Every record is either written or rejected with reasons: records without the format's shape,
with turns that cannot be mapped, and converted records with an error under the profile's rules
(e.g. FT204, a conversation ending with a user message) go to the rejects file, one JSON object a
line: ``{"line"}`` (where the record starts; ``"index"`` too in a JSON array, from 0),
``"reasons"``, and the record as written in the input: ``"text"`` (or ``"base64"`` for bytes
that are not UTF-8, ``"omitted_bytes"`` for a line too long to keep). Keys of the input that are not carried over are counted per key.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from ftkit.checks import Selector, describe
from ftkit.errors import DataError, InputError, ParameterError, ProfileError
from ftkit.findings import Finding
from ftkit.outputs import RejectsFile, atomic_outputs, kept, reason
from ftkit.policy.profile import Profile
from ftkit.repair.chat_formats import FOLD_CALL, FOLD_RESULT, FOLD_TOOLS, FORMATS, SHAPES, Converter, Format, Rejected, ToolMode, shape_of
from ftkit.repair.common import OutputCheck, beside, check_output, check_paths, record_errors
from ftkit.scan.inputs import Input, describe_os_error
from ftkit.scan.reader import BLANK, HEAD_BYTES, UNPARSED, UTF8_BOM, ArrayError, Reader, array_items, careful, sniff

# The names of the formats and of the fold markers stay importable from here, where they used to live.
__all__ = ["FOLD_CALL", "FOLD_RESULT", "FOLD_TOOLS", "FORMATS", "ConvertResult", "Format", "ToolMode", "convert_file", "shape_of"]

Container = Literal["json-array", "jsonl"]
_SAMPLE = 100  # records looked at by --from auto


class ConvertResult(BaseModel):
    """What ``convert_file`` returns; the CLI's JSON output."""

    input: str
    output: str
    rejects: str
    format: Format
    detected: bool = Field(description="the format was detected (--from auto)")
    container: Container = Field(description="json-array (loaded whole) or jsonl (streamed)")
    records: int = Field(description="input records: array elements or non-blank lines")
    matched: int = Field(description="records with the format's shape")
    written: int
    rejected: int
    folded: int = Field(description="records written with tool use folded into text")
    rejected_by_reason: dict[str, int] = Field(description="rejected records per rule code or conversion reason")
    ignored_keys: dict[str, int] = Field(description="input keys not carried over: records per key")
    output_check: OutputCheck


# --- reading -------------------------------------------------------------------------------------


class _Unparsed:
    """An input record that cannot be used as it is: why, and what to keep of it in the rejects file."""

    def __init__(self, reasons: list[str], keep: dict[str, Any]) -> None:
        self.reasons, self.keep = reasons, keep


Item = tuple[dict[str, int], Any, dict[str, Any]]  # (where, value or _Unparsed, what the rejects file keeps)


def _container(item: Input) -> Container:
    try:
        with open(item.path, "rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None
    found = sniff(head)
    if found and found.code != "FT017":
        raise DataError(f"{item.name}: {found.code} {found.message}")
    if not head.strip():
        raise DataError(f"{item.name}: FT002 the file holds no records; nothing was written")
    return "json-array" if head.removeprefix(UTF8_BOM).lstrip()[:1] == b"[" else "jsonl"


def _errors(findings: list[Finding], profile: Profile, selected: Selector) -> list[Finding]:
    return [f for f in findings if selected(f.code) and profile.severity.get(f.code, "error") == "error"]


def _array_items(item: Input, profile: Profile, selected: Selector) -> Iterator[Item]:
    try:
        text = item.path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{item.name}: FT003 not UTF-8 text (invalid byte at offset {exc.start:,}); re-save it as UTF-8") from None
    try:
        for index, line, source, parsed in array_items(text):
            errors = _errors(parsed.findings, profile, selected)
            where = {"index": index, "line": line}
            if errors:
                yield where, _Unparsed([reason(f.code, f.pointer, f.message) for f in errors], {"text": source}), {}
            else:
                yield where, parsed.value, {"text": source}
    except ArrayError as exc:
        raise DataError(
            f"{item.name}: FT006 not valid JSON at line {exc.line:,} column {exc.column:,}: {exc}; nothing was written"
        ) from None


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
                    yield where, _Unparsed([reason(f.code, f.pointer, f.message) for f in found], kept(raw)), {}
                else:
                    yield where, value, kept(raw)
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None


def _detect(sample: list[Item], name: str) -> Format:
    if not sample:
        raise DataError(f"{name}: FT002 the file holds no records; nothing was written")
    votes = Counter(shape_of(v) for _, v, _ in sample)
    votes.pop(None, None)
    if not votes:
        if all(isinstance(v, _Unparsed) for _, v, _ in sample):
            where, first, _ = sample[0]
            raise DataError(f"{name} is neither a JSON array nor JSON Lines: line {where.get('line')}: {first.reasons[0]}")
        shapes = "; ".join(f"{fmt}: {hint}" for fmt, (_, hint) in SHAPES.items())
        raise ParameterError(
            f"cannot tell the format of {name}: none of its first {len(sample)} records has a known shape ({shapes}); pass --from"
        )
    best = max(votes.values())
    return next(fmt for fmt in SHAPES if votes.get(fmt) == best)


# --- the file ------------------------------------------------------------------------------------


def convert_file(
    item: Input,
    output: Path,
    profile: Profile,
    selected: Selector,
    *,
    source_format: Format | Literal["auto"] = "auto",
    rejects: Path | None = None,
    tools: ToolMode = "reject",
    force: bool = False,
    counter: Any = None,
) -> ConvertResult:
    """Convert one input into SiliconFlow messages JSONL at ``output`` (see the module docstring).

    Raises an ``FtkitError`` when it cannot start or finish (nothing is left half-written).
    Never prints, never exits.
    """
    if source_format != "auto" and source_format not in FORMATS:
        raise ParameterError(f"unknown format {source_format!r}; expected auto or one of {', '.join(FORMATS)}")
    if tools not in get_args(ToolMode):
        raise ParameterError(f"unknown tools mode {tools!r}; expected reject or fold")
    rej = rejects or beside(output, ".rejects.jsonl")
    check_paths(item, output, [rej], profile.data, force)
    missing = {"system", "user", "assistant"} - set(profile.data.roles)
    if missing:
        raise ProfileError(f"the profile has no {', '.join(sorted(missing))} role; convert writes system, user and assistant messages")
    container = _container(item)
    items = _array_items(item, profile, selected) if container == "json-array" else _jsonl_items(item, profile, selected, counter)
    sample = list(islice(items, _SAMPLE))
    fmt = _detect(sample, item.name) if source_format == "auto" else source_format
    converter = Converter(profile.data, tools)
    counts: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    with atomic_outputs([output, rej], like=item.path, force=force) as (o, r):
        rejected = RejectsFile(r)
        for where, value, keep in chain(sample, items):
            counts["records"] += 1
            line, reasons = _convert_one(fmt, value, converter, profile, selected, counts)
            if line is not None:
                o.write(line + b"\n")
                counts["written"] += 1
                continue
            by_reason.update({r.split(" ", 1)[0].rstrip(":") for r in reasons})
            rejected.add(where, reasons, value.keep if isinstance(value, _Unparsed) else keep)
        if not counts["records"]:
            raise DataError(f"{item.name}: FT002 the file holds no records; nothing was written")
    return ConvertResult(
        input=item.name, output=str(output), rejects=str(rej), format=fmt, detected=source_format == "auto", container=container,
        records=counts["records"], matched=counts["matched"], written=counts["written"], rejected=rejected.count,
        folded=counts["folded"], rejected_by_reason=dict(sorted(by_reason.items())),
        ignored_keys=dict(sorted(converter.ignored.items())), output_check=check_output(output, profile, selected),
    )  # fmt: skip


def _convert_one(fmt: Format, value: Any, converter: Converter, profile: Profile, selected: Selector,
                 counts: Counter[str]) -> tuple[bytes | None, list[str]]:  # fmt: skip
    """The output line for one input record, or None and the reasons it is rejected."""
    if isinstance(value, _Unparsed):
        return None, value.reasons
    if not isinstance(value, dict) or not SHAPES[fmt][0](value):
        other = shape_of(value)
        hint = f" (it looks like {other})" if other else ""
        what = f"its keys: {', '.join(map(str, value))}" if isinstance(value, dict) else f"it is {describe(value)}"
        return None, [f"not-{fmt}: the record does not have {SHAPES[fmt][1]}; {what}{hint}"]
    counts["matched"] += 1
    try:
        record = {"messages": converter.convert(fmt, value)}
    except Rejected as exc:
        return None, [f"{exc.key}: {exc}"]
    errors = record_errors(record, profile, selected)
    if errors:
        return None, [reason(f.code, f.pointer, f.message) for f in errors]
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, [reason("FT016", "", "a string holds an unpaired surrogate escape (like \\ud800); it is not a valid character")]
    except (ValueError, TypeError):
        return None, [
            reason("FT009", "", "the record holds a number JSON cannot write back exactly (NaN, Infinity or an over-long integer)")
        ]
    counts["folded"] += converter.folded
    return line, []
