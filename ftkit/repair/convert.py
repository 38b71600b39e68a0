"""Bring chat data in from other formats as SiliconFlow messages JSONL: keep every piece of
meaning, or refuse the record and say why.

Inputs (``ftkit.repair.containers``): JSON Lines (streamed), a JSON array (loaded whole), one
JSON object (pretty-printed or not), or Parquet. Every record gets the careful parse.

Formats (``--from``; ``auto`` picks the shape most of the first 100 records have, and says which
keys told it): openai, sharegpt, alpaca, prompt-completion, bedrock, preference, kto, multimodal,
and columns (``--map``). How each becomes messages is in ``ftkit.repair.chat_formats``.

Every record is either written or rejected with reasons: records without the format's shape,
with turns that cannot be mapped, that refer to media, that are preference pairs (unless
``preference="chosen"``), labelled undesirable, carry reasoning (unless ``reasoning="drop"``) or
tool use (unless ``tools="fold"``), and converted records with an error under the profile's
rules (e.g. FT204) go to the rejects file, one JSON object a line: ``{"line"}`` (where the
record starts; ``"index"`` too in a JSON array or a Parquet file, from 0), ``"reasons"``, and the
record as written in the input (``"text"``; ``"base64"`` for bytes that are not UTF-8,
``"omitted_bytes"`` for a line too long to keep).

Meaning is conserved, and checked (``ftkit.repair.conserve``): each written record holds every
piece of text of the input record, or its entries in the change log (``ftkit.repair.changelog``:
``OUT-stem.changes.json``) name what was moved or dropped and why. A record that would lose text
without such an entry is rejected (``unconverted-text``) instead of written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from itertools import chain, islice
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from ftkit.checks import Selector, describe
from ftkit.checks.shapes import (
    DESCRIPTIONS,
    HINTS,
    describe_media,
    evidence,
    failure_shape,
    has_shape,
    layout_of,
    media_of,
    shape_message,
    shape_of,
)
from ftkit.errors import DataError, ParameterError, ProfileError
from ftkit.models import Shape
from ftkit.outputs import RejectsFile, atomic_outputs, reason
from ftkit.policy.profile import Profile
from ftkit.repair.bedrock import bedrock_messages
from ftkit.repair.changelog import ChangeLog
from ftkit.repair.chat_formats import (
    FOLD_CALL,
    FOLD_RESULT,
    FOLD_TOOLS,
    FORMATS,
    Converter,
    Format,
    PreferenceMode,
    ReasoningMode,
    Rejected,
    ToolMode,
)  # fmt: skip
from ftkit.repair.common import OutputCheck, beside, check_output, check_paths, record_errors
from ftkit.repair.conserve import lost_text
from ftkit.repair.containers import Container, Item, Unparsed, open_records
from ftkit.repair.pairs import choose_reply, read_label
from ftkit.scan.inputs import Input

# The names of the formats and of the fold markers stay importable from here, where they used to live.
__all__ = ["FOLD_CALL", "FOLD_RESULT", "FOLD_TOOLS", "FORMATS", "ConvertResult", "Format", "ToolMode", "convert_file", "shape_of",
           "to_messages"]  # fmt: skip

_SAMPLE = 100  # records looked at by --from auto
_ROLES = ("system", "user", "assistant")


class Detection(BaseModel):
    """What ``--from auto`` went by."""

    keys: list[str] = Field(description="the keys that gave the records the format's shape")
    records: int = Field(description="records of the sample with that shape")
    sample: int = Field(description="records looked at (the first 100)")


class ConvertResult(BaseModel):
    """What ``convert_file`` returns; the CLI's JSON output."""

    input: str
    output: str
    rejects: str
    changes: str = Field(description="the change log: what was moved or dropped in each written record, and why")
    format: Format
    detected: bool = Field(description="the format was detected (--from auto)")
    detection: Detection | None = Field(description="with --from auto: the keys and records it went by")
    container: Container = Field(description="jsonl (streamed), json-array or json-object (loaded whole), or parquet")
    records: int = Field(description="input records: array elements, rows or non-blank lines")
    matched: int = Field(description="records with the format's shape")
    written: int
    rejected: int
    folded: int = Field(description="records written with tool use folded into text")
    changed: int = Field(description="records written with at least one entry in the change log")
    rejected_by_reason: dict[str, int] = Field(description="rejected records per rule code or conversion reason")
    reason_examples: dict[str, str] = Field(description="the first reason given for each key of rejected_by_reason, in full")
    changes_by_code: dict[str, int] = Field(description="change-log entries per kind of change")
    ignored_keys: dict[str, int] = Field(description="input keys not carried over: records per key")
    shape: Shape | None = Field(description="what the file looks like, when most records are rejected for one rule and share a shape")
    output_check: OutputCheck


def to_messages(conv: Converter, fmt: Format, record: dict[str, Any], text: str | None = None) -> list[Any]:
    """The messages of one record that has ``fmt``'s shape; raises ``Rejected`` (see the module
    docstring). ``text``: the record's JSON as read, if known (a text without "<", however
    escaped, holds no placeholder: the search through its strings is skipped)."""
    conv.start()
    marks = conv.data.media_placeholders
    if text is not None and "<" not in text and "\\u003c" not in text.lower():
        marks = ()
    media = media_of(record, marks)
    if media:
        raise Rejected("media", f"SiliconFlow chat fine-tuning takes text only ({describe_media(media)}); the record refers to media")
    if fmt == "columns":
        return conv.columns_messages(read_label(conv, record))
    base = read_label(conv, choose_reply(conv, record))
    layout = layout_of(base)
    if layout is None:
        raise Rejected("no-turns", f"no turns to write: the record has {', '.join(map(repr, base)) or 'no keys'}")
    if layout == "bedrock":
        return bedrock_messages(conv, base)
    return conv.layout_messages(layout, base)


def convert_file(
    item: Input,
    output: Path,
    profile: Profile,
    selected: Selector,
    *,
    source_format: Format | Literal["auto"] = "auto",
    rejects: Path | None = None,
    changes: Path | None = None,
    tools: ToolMode = "reject",
    reasoning: ReasoningMode = "reject",
    preference: PreferenceMode = "reject",
    columns: Mapping[str, str] | None = None,
    force: bool = False,
    counter: Any = None,
) -> ConvertResult:
    """Convert one input into SiliconFlow messages JSONL at ``output`` (see the module docstring).

    ``columns``: role -> column for flat records (``{"user": "text", "assistant": "ground_truth"}``).
    Raises an ``FtkitError`` when it cannot start or finish (nothing is left half-written).
    Never prints, never exits.
    """
    _check_options(source_format, tools, reasoning, preference, columns)
    rej = rejects or beside(output, ".rejects.jsonl")
    log = changes or beside(output, ".changes.json")
    check_paths(item, output, [rej, log], profile.data, force)
    missing = set(_ROLES) - set(profile.data.roles)
    if missing:
        raise ProfileError(f"the profile has no {', '.join(sorted(missing))} role; convert writes system, user and assistant messages")
    container, items = open_records(item, profile, selected, counter)
    sample = list(islice(items, _SAMPLE))
    fmt, detection = _choose(source_format, columns, sample, item.name)
    conv = Converter(profile.data, tools, reasoning=reasoning, preference=preference, columns=dict(columns or {}))
    counts: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    shapes: Counter[str] = Counter()
    examples: dict[str, str] = {}
    with atomic_outputs([output, rej, log], like=item.path, force=force) as (o, r, c):
        rejected, changelog = RejectsFile(r), ChangeLog(c)
        for where, value, keep in chain(sample, items):
            counts["records"] += 1
            line, reasons, kind = _convert_one(
                fmt, value, conv, profile, selected, counts, keep.get("text") if container != "parquet" else None
            )
            if line is not None:
                o.write(line + b"\n")
                counts["written"] += 1
                counts["changed"] += bool(conv.changes)
                for code, pointer, action in conv.changes:
                    changelog.add(where, code, pointer, action)
                continue
            for text in reasons:
                key = text.split(" ", 1)[0].rstrip(":")
                examples.setdefault(key, text)
            by_reason.update({x.split(" ", 1)[0].rstrip(":") for x in reasons})
            if kind is not None:
                shapes[kind] += 1
            rejected.add(where, reasons, value.keep if isinstance(value, Unparsed) else keep)
        changelog.close()
        if not counts["records"]:
            raise DataError(f"{item.name}: FT002 the file holds no records; nothing was written")
    return ConvertResult(
        input=item.name, output=str(output), rejects=str(rej), changes=str(log), format=fmt, detected=detection is not None,
        detection=detection, container=container, records=counts["records"], matched=counts["matched"], written=counts["written"],
        rejected=rejected.count, folded=counts["folded"], changed=counts["changed"], rejected_by_reason=dict(sorted(by_reason.items())),
        reason_examples={k: examples[k] for k in sorted(by_reason)},
        changes_by_code=dict(sorted(changelog.by_code.items())), ignored_keys=dict(sorted(conv.ignored.items())),
        shape=_shape(shapes, counts["records"], profile), output_check=check_output(output, profile, selected),
    )  # fmt: skip


def _check_options(source_format: str, tools: str, reasoning: str, preference: str, columns: Mapping[str, str] | None) -> None:
    if source_format != "auto" and source_format not in FORMATS:
        raise ParameterError(f"unknown format {source_format!r}; expected auto or one of {', '.join(FORMATS)}")
    for name, value, allowed in (
        ("tools", tools, ToolMode),
        ("reasoning", reasoning, ReasoningMode),
        ("preference", preference, PreferenceMode),
    ):
        if value not in get_args(allowed):
            raise ParameterError(f"unknown {name} mode {value!r}; expected {' or '.join(get_args(allowed))}")
    if columns is None:
        if source_format == "columns":
            raise ParameterError("--from columns needs the columns: --map user=COL --map assistant=COL [--map system=COL]")
        return
    if source_format not in ("auto", "columns"):
        raise ParameterError(f"--map names flat columns; it cannot be used with --from {source_format}")
    unknown = [role for role in columns if role not in _ROLES]
    if unknown:
        raise ParameterError(f"--map {unknown[0]}=...: the role must be system, user or assistant")
    if not {"user", "assistant"} <= set(columns):
        raise ParameterError("--map needs at least user=COL and assistant=COL")
    names = list(columns.values())
    if any(not isinstance(c, str) or not c for c in names) or len(set(names)) < len(names):
        raise ParameterError("--map: each role needs its own column name")


def _choose(source: str, columns: Mapping[str, str] | None, sample: list[Item], name: str) -> tuple[Format, Detection | None]:
    if columns is not None:
        return "columns", None
    if source != "auto":
        return source, None  # type: ignore[return-value]  # checked by _check_options
    if not sample:
        raise DataError(f"{name}: FT002 the file holds no records; nothing was written")
    votes = Counter(shape_of(v) for _, v, _ in sample)
    votes.pop(None, None)
    if not votes:
        if all(isinstance(v, Unparsed) for _, v, _ in sample):
            where, first, _ = sample[0]
            raise DataError(f"{name} is neither a JSON array nor JSON Lines: line {where.get('line')}: {first.reasons[0]}")
        raise ParameterError(f"cannot tell the format of {name}: none of its first {len(sample)} records has a known shape; "
                             + _shapes_hint(sample))  # fmt: skip
    best = max(votes.values())
    fmt = next(f for f in FORMATS if votes.get(f) == best)
    first = next(v for _, v, _ in sample if shape_of(v) == fmt)
    return fmt, Detection(keys=evidence(fmt, first), records=best, sample=len(sample))


def _shapes_hint(sample: list[Item]) -> str:
    shapes = "; ".join(f"{fmt}: {HINTS[fmt]}" for fmt in HINTS)
    keys = Counter(k for _, v, _ in sample if isinstance(v, dict) for k in v)
    if keys:
        common = ", ".join(k for k, _ in keys.most_common(6))
        return f"the records have the keys {common}: name the columns with --map user=COL --map assistant=COL, or pass --from ({shapes})"
    return f"pass --from ({shapes})"


def _matches(fmt: Format, value: Any, conv: Converter) -> bool:
    if fmt == "columns":
        return isinstance(value, dict) and conv.columns["user"] in value and conv.columns["assistant"] in value
    if fmt == "multimodal":  # a text-only record among them is written; the others are refused (media)
        return layout_of(value) is not None
    return has_shape(fmt, value)


def _convert_one(fmt: Format, value: Any, conv: Converter, profile: Profile, selected: Selector,
                 counts: Counter[str], text: str | None = None) -> tuple[bytes | None, list[str], str | None]:  # fmt: skip
    """The output line for one input record, or None, the reasons it is rejected and the shape
    of a converted record that the profile's rules reject."""
    if isinstance(value, Unparsed):
        return None, value.reasons, None
    if not _matches(fmt, value, conv):
        return None, [_not_the_format(fmt, value, conv.columns)], None
    counts["matched"] += 1
    try:
        record = {"messages": to_messages(conv, fmt, value, text)}
    except Rejected as exc:
        return None, [f"{exc.key}: {exc}"], None
    lost = lost_text(value, record, [where for _, where, _ in conv.changes])
    if lost:
        shown = ", ".join(lost[:3]) + (f" and {len(lost) - 3:,} more" if len(lost) > 3 else "")
        return None, [f"unconverted-text: the text at {shown} would not be in the output, and no rule says it may be dropped; "
                      "nothing is lost silently (please report this record)"], None  # fmt: skip
    errors = record_errors(record, profile, selected)
    if errors:
        return None, [reason(f.code, f.pointer, f.message) for f in errors], failure_shape(record, profile.data)
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, [reason("FT016", "", "a string holds an unpaired surrogate escape (like \\ud800); it is not a valid character")], None
    except (ValueError, TypeError):
        return (
            None,
            [reason("FT009", "", "the record holds a value JSON cannot write back exactly (NaN, Infinity, an over-long integer)")],
            None,
        )
    counts["folded"] += conv.folded
    return line, [], None


def _not_the_format(fmt: Format, value: Any, columns: dict[str, str]) -> str:
    other = shape_of(value)
    hint = f" (it looks like {DESCRIPTIONS[other]}: --from {other})" if other and other != fmt else ""
    what = f"its keys: {', '.join(map(str, value))}" if isinstance(value, dict) else f"it is {describe(value)}"
    shape = f"the columns {columns.get('user')!r} and {columns.get('assistant')!r}" if fmt == "columns" else HINTS[fmt]
    return f"not-{fmt}: the record does not have {shape}; {what}{hint}"


def _shape(shapes: Counter[str], records: int, profile: Profile) -> Shape | None:
    if not shapes:
        return None
    kind, n = shapes.most_common(1)[0]
    if n < profile.quality.file_shape_share * records:
        return None
    return Shape(kind=kind, records=n, message=shape_message(kind, n, records))
