"""Bring chat data in from other formats as SiliconFlow messages JSONL, losing no record.

Inputs: a JSON array of records (loaded whole: a .json dataset is one value) or JSON Lines
(streamed; blank lines are skipped, a BOM and CR line ends are ignored).

Formats (``--from``; ``auto`` picks the shape most of the first 100 records have): alpaca,
sharegpt, prompt-completion and openai. How each becomes messages, and what ``tools`` (``reject``
or ``fold``) does with function calls and tool results, is described in ``ftkit.repair.chat_formats``.

Every record is either written or rejected with reasons: records without the format's shape,
with turns that cannot be mapped, and converted records with an error under the profile's rules
(e.g. FT204, a conversation ending with a user message) go to the rejects file, one JSON object a
line: ``{"index"}`` (position in a JSON array, from 0) or ``{"line"}`` (JSONL), ``"reasons"``,
and ``"source"`` (the input record) or ``"text"`` / ``"base64"`` / ``"omitted_bytes"`` for a
line that is not JSON. Keys of the input that are not carried over are counted per key.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, Field

from ftkit.repair.chat_formats import FOLD_CALL, FOLD_RESULT, FOLD_TOOLS, FORMATS, SHAPES, Converter, Format, Rejected, ToolMode, shape_of
from ftkit.checks import describe
from ftkit.outputs import atomic_write
from ftkit.policy.profile import Profile, as_profile
from ftkit.scan.reader import UTF8_BOM, iter_lines, parse_text, sniff
from ftkit.repair.rejects import RejectsFile, kept, reason
from ftkit.repair.common import OutputCheck, RepairError, beside, check_output, check_paths, record_errors

# The names of the formats and of the fold markers stay importable from here, where they used to live.
__all__ = ["FOLD_CALL", "FOLD_RESULT", "FOLD_TOOLS", "FORMATS", "ConvertError", "ConvertResult", "Format", "ToolMode", "convert_file", "shape_of"]

Container = Literal["json-array", "jsonl"]
_SAMPLE = 100  # records looked at by --from auto


class ConvertError(RepairError):
    """The conversion cannot start or finish: unreadable input, unknown format, outputs in the way."""


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
    """A JSONL line that holds no JSON value: why, and what to keep of it in the rejects file."""

    def __init__(self, reasons: list[str], keep: dict[str, Any]) -> None:
        self.reasons, self.keep = reasons, keep


Item = tuple[dict[str, int], Any]  # ({"index": i} or {"line": n}, value or _Unparsed)


def _container(src: Path) -> Container:
    try:
        with open(src, "rb") as stream:
            head = stream.read(1 << 16)
    except OSError as exc:
        raise ConvertError(f"cannot read {src}: {exc.strerror or exc}") from None
    found = sniff(head)
    if found and found[0] != "FT017":
        raise ConvertError(f"{src}: {found[2]}")
    if not head.strip():
        raise ConvertError(f"{src} is empty: no records to convert")
    return "json-array" if head.removeprefix(UTF8_BOM).lstrip()[:1] == b"[" else "jsonl"


def _array_items(src: Path) -> Iterator[Item]:
    try:
        text = src.read_bytes().decode("utf-8-sig")
        value = json.loads(text)
    except OSError as exc:
        raise ConvertError(f"cannot read {src}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConvertError(f"{src} is not UTF-8 text (invalid byte at offset {exc.start}); re-save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ConvertError(f"{src} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ConvertError(f"{src}: JSON nested too deep to parse") from None
    if not isinstance(value, list):
        raise ConvertError(f"{src} holds {describe(value)}, expected an array of records or one record per line")
    for i, record in enumerate(value):
        yield {"index": i}, record


def _jsonl_items(src: Path, max_line_bytes: int) -> Iterator[Item]:
    try:
        with open(src, "rb") as stream:
            for n, raw in enumerate(iter_lines(stream, max_line_bytes), 1):
                if type(raw) is int:
                    yield {"line": n}, _Unparsed([reason("FT013", "", f"line is {raw:,} bytes, longer than the {max_line_bytes:,}-byte limit")], kept(raw))
                    continue
                line = raw[:-1] if raw[-1:] == b"\r" else raw  # type: ignore[index]
                if n == 1:
                    line = line.removeprefix(UTF8_BOM)  # type: ignore[union-attr]
                if not line.strip():  # type: ignore[union-attr]
                    continue
                yield {"line": n}, _parse_line(line)  # type: ignore[arg-type]
    except OSError as exc:
        raise ConvertError(f"cannot read {src}: {exc.strerror or exc}") from None


def _parse_line(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _Unparsed([reason("FT003", "", f"invalid UTF-8 at byte {exc.start + 1} of the line")], kept(line))
    parsed = parse_text(text)  # explains the error; also takes what orjson refuses (huge integers)
    if not parsed.ok or parsed.findings:
        return _Unparsed([reason(*f) for f in parsed.findings], kept(text))
    return parsed.value


def _detect(sample: list[Any], src: Path) -> Format:
    if not sample:
        raise ConvertError(f"{src} holds no records to convert")
    votes = Counter(shape_of(v) for _, v in sample)
    votes.pop(None, None)
    if not votes:
        if all(isinstance(v, _Unparsed) for _, v in sample):
            where, first = sample[0]
            raise ConvertError(f"{src} is neither a JSON array nor JSON Lines: line {where.get('line')}: {first.reasons[0]}")
        shapes = "; ".join(f"{fmt}: {hint}" for fmt, (_, hint) in SHAPES.items())
        raise ConvertError(f"cannot tell the format of {src}: none of its first {len(sample)} records has a known shape ({shapes}); pass --from")
    best = max(votes.values())
    return next(fmt for fmt in SHAPES if votes.get(fmt) == best)


# --- the file ------------------------------------------------------------------------------------

def convert_file(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    source_format: Format | Literal["auto"] = "auto",
    rejects: str | os.PathLike[str] | None = None,
    tools: ToolMode = "reject",
    force: bool = False,
    profile: str | Profile = "siliconflow",
) -> ConvertResult:
    """Convert ``path`` into SiliconFlow messages JSONL at ``output`` (see the module docstring).

    Raises ``ConvertError`` when it cannot start or finish (nothing is left half-written) and
    ``ftkit.profile.ProfileError`` for an unknown profile. Never prints, never exits.
    """
    prof = as_profile(profile)
    if source_format != "auto" and source_format not in FORMATS:
        raise ConvertError(f"unknown format {source_format!r}; expected auto or one of {', '.join(FORMATS)}")
    if tools not in get_args(ToolMode):
        raise ConvertError(f"unknown tools mode {tools!r}; expected reject or fold")
    src, out = Path(path), Path(output)
    rej = Path(rejects) if rejects else beside(out, ".rejects.jsonl")
    check_paths(src, out, [rej], prof.data, force, ConvertError)
    container = _container(src)
    items = _array_items(src) if container == "json-array" else _jsonl_items(src, prof.data.max_line_bytes)
    sample = list(islice(items, _SAMPLE))
    fmt = _detect(sample, src) if source_format == "auto" else source_format
    missing = {"system", "user", "assistant"} - set(prof.data.roles)
    if missing:
        raise ConvertError(f"the profile has no {', '.join(sorted(missing))} role; convert writes system, user and assistant messages")
    converter = Converter(prof.data, tools)
    counts: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    try:
        with atomic_write(out) as o, atomic_write(rej) as r:
            rejected = RejectsFile(r)
            for where, value in chain(sample, items):
                counts["records"] += 1
                line, reasons = _convert_one(fmt, value, converter, prof, counts)
                if line is not None:
                    o.write(line + b"\n")
                    counts["written"] += 1
                    continue
                by_reason.update({r.split(" ", 1)[0].rstrip(":") for r in reasons})
                keep = value.keep if isinstance(value, _Unparsed) else {"source": value}
                rejected.add(where, reasons, keep)
    except OSError as exc:
        raise ConvertError(f"cannot write {out}: {exc.strerror or exc}") from None
    return ConvertResult(
        input=str(src), output=str(out), rejects=str(rej), format=fmt, detected=source_format == "auto", container=container,
        records=counts["records"], matched=counts["matched"], written=counts["written"], rejected=rejected.count,
        folded=counts["folded"], rejected_by_reason=dict(sorted(by_reason.items())),
        ignored_keys=dict(sorted(converter.ignored.items())), output_check=check_output(out, prof),
    )


def _convert_one(fmt: Format, value: Any, converter: Converter, prof: Profile, counts: Counter[str]) -> tuple[bytes | None, list[str]]:
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
    errors = record_errors(record, prof)
    if errors:
        return None, [reason(*e) for e in errors]
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, [reason("FT016", "", "a string holds an unpaired surrogate escape (like \\ud800); it is not a valid character")]
    counts["folded"] += converter.folded
    return line, []
