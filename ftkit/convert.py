"""Bring chat data in from other formats as SiliconFlow messages JSONL, losing no record.

Inputs: a JSON array of records (loaded whole: a .json dataset is one value) or JSON Lines
(streamed; blank lines are skipped, a BOM and CR line ends are ignored).

Formats (``--from``; ``auto`` picks the shape most of the first 100 records have)
  alpaca             {"instruction", "input", "output", "system"?, "history"?: [[q, a], ...]}:
                     system first, then the history pairs, then instruction and input joined by
                     "\\n" (LLaMA-Factory's rule) as the user message, output as the reply
  sharegpt           {"conversations": [{"from", "value"}], "system"?, "tools"?}: speakers are
                     mapped with the profile's roles and ``data.role_aliases`` (human -> user,
                     gpt -> assistant); "role"/"content" turns are read too
  prompt-completion  {"prompt", "completion"}: one user message and its reply, text unchanged
  openai             {"messages": [...], "tools"?, "system"?}: roles mapped as above, a content
                     list of text parts ("text" or LLaMA-Factory's "value") joined by "\\n", a
                     top-level "system" string (Anthropic style) made the first message unless
                     there is one; a reply with weight (or loss_weight) 0 is rejected

Tool use (``tools``): SiliconFlow chat fine-tuning takes plain text. ``reject`` (default) rejects
a record with a function-call or observation turn (ShareGPT), a tool/function message or
``tool_calls`` (OpenAI); tool definitions of other records are dropped (counted in
``ignored_keys``). ``fold`` writes them as text: a call as an assistant message
``[function call] {"name": ..., "arguments": ...}``, a result as a user message
``[function result] ...``, a folded turn joined by "\\n" onto a message of the same role just
before it, and the tool definitions at the end of the system message after
``Available functions (JSON):`` (a system message is added when there is none). Qwen's own
``<tool_call>`` tags are not used: they are special tokens (FT302).

Every record is either written or rejected with reasons: records without the format's shape,
with turns that cannot be mapped, and converted records with an error under the profile's rules
(e.g. FT204, a conversation ending with a user message) go to the rejects file, one JSON object a
line: ``{"index"}`` (position in a JSON array, from 0) or ``{"line"}`` (JSONL), ``"reasons"``,
and ``"source"`` (the input record) or ``"text"`` / ``"base64"`` / ``"omitted_bytes"`` for a
line that is not JSON. Keys of the input that are not carried over are counted per key.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, Field

from ftkit.checks import describe
from ftkit.checks.structure import _intended_role as intended_role
from ftkit.fix import JsonLines, OutputCheck, RepairError, beside, check_output, check_paths, reason, record_errors
from ftkit.outputs import atomic_write
from ftkit.profile import DataRules, Profile, load_profile
from ftkit.reader import UTF8_BOM, iter_lines, parse_text, sniff

Format = Literal["alpaca", "sharegpt", "prompt-completion", "openai"]
FORMATS: tuple[Format, ...] = get_args(Format)
ToolMode = Literal["reject", "fold"]
Container = Literal["json-array", "jsonl"]

#: How ``tools="fold"`` writes tool use as plain text (ftkit's convention, see the docstring).
FOLD_CALL = "[function call] "
FOLD_RESULT = "[function result] "
FOLD_TOOLS = "Available functions (JSON):\n"

_SAMPLE = 100  # records looked at by --from auto
_CALL_SPEAKERS = ("function_call",)
_RESULT_SPEAKERS = ("observation", "tool", "function")
_SHAPES: dict[Format, tuple[Callable[[dict[str, Any]], bool], str]] = {
    "openai": (lambda r: isinstance(r.get("messages"), list), 'a "messages" array'),
    "sharegpt": (lambda r: isinstance(r.get("conversations"), list), 'a "conversations" array'),
    "alpaca": (lambda r: "instruction" in r and "output" in r, '"instruction" and "output"'),
    "prompt-completion": (lambda r: "prompt" in r and "completion" in r, '"prompt" and "completion"'),
}


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


class _Reject(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def shape_of(record: Any) -> Format | None:
    """The format whose shape the record has (the first, in the order of ``_SHAPES``)."""
    if isinstance(record, dict):
        for fmt, (test, _) in _SHAPES.items():
            if test(record):
                return fmt
    return None


class _Converter:
    """Turns one input record into messages; counts what it leaves out."""

    def __init__(self, data: DataRules, tools: ToolMode) -> None:
        missing = {"system", "user", "assistant"} - set(data.roles)
        if missing:
            raise ConvertError(f"the profile has no {', '.join(sorted(missing))} role; convert writes system, user and assistant messages")
        self.data, self.tools = data, tools
        self.ignored: Counter[str] = Counter()
        self.folded = False

    def convert(self, fmt: Format, record: dict[str, Any]) -> list[Any]:
        self.folded = False
        return getattr(self, "_" + fmt.replace("-", "_"))(record)

    def _ignore(self, obj: dict[str, Any], used: tuple[str, ...], prefix: str = "") -> None:
        self.ignored.update(prefix + k for k in obj if k not in used)

    def _role(self, speaker: Any) -> str | None:
        if not isinstance(speaker, str):
            return None
        return speaker if speaker in self.data.roles else intended_role(speaker, self.data)

    def _tool_turn(self, msgs: list[Any], role: str, text: str, where: str, what: str) -> None:
        if self.tools == "reject":
            raise _Reject("tool-use", f"{where} is {what}; chat fine-tuning takes plain text (--tools fold writes calls and results as text)")
        self.folded = True
        prev = msgs[-1] if msgs else None
        if isinstance(prev, dict) and prev.get("role") == role and isinstance(prev.get("content"), str):
            prev["content"] = f"{prev['content']}\n{text}" if prev["content"].strip() else text
        else:
            msgs.append({"role": role, "content": text})

    def _tool_definitions(self, msgs: list[Any], tools: Any, key: str) -> None:
        if tools in (None, "", [], "[]", {}):
            return
        if self.tools == "reject":
            self.ignored[key] += 1
            return
        block = FOLD_TOOLS + (tools if isinstance(tools, str) else json.dumps(tools, ensure_ascii=False))
        first = msgs[0] if msgs else None
        if isinstance(first, dict) and first.get("role") == "system" and isinstance(first.get("content"), str):
            first["content"] = f"{first['content']}\n\n{block}" if first["content"].strip() else block
        else:
            msgs.insert(0, {"role": "system", "content": block})

    def _alpaca(self, rec: dict[str, Any]) -> list[Any]:
        if isinstance(rec.get("output"), list):
            raise _Reject("not-text", '"output" is a list (a ranking or preference dataset?); expected one reply string')
        instruction, extra, output = _text(rec, "instruction"), _text(rec, "input", True), _text(rec, "output")
        system = _text(rec, "system", True)
        msgs = [{"role": "system", "content": system}] if system else []
        history = rec.get("history") or []
        if not isinstance(history, list):
            raise _Reject("bad-history", f'"history" is {describe(history)}, expected a list of [question, answer] pairs')
        for k, pair in enumerate(history):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
                raise _Reject("bad-history", f'"history" item {k} is {describe(pair)}, expected [question, answer] strings')
            msgs += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
        msgs.append({"role": "user", "content": "\n".join(t for t in (instruction, extra) if t)})
        msgs.append({"role": "assistant", "content": output})
        self._ignore(rec, ("instruction", "input", "output", "system", "history"))
        return msgs

    def _sharegpt(self, rec: dict[str, Any]) -> list[Any]:
        system = _text(rec, "system", True)
        msgs: list[Any] = [{"role": "system", "content": system}] if system else []
        for i, turn in enumerate(rec["conversations"]):
            where = f"conversations[{i}]"
            if not isinstance(turn, dict):
                raise _Reject("bad-turn", f"{where} is {describe(turn)}, expected an object with \"from\" and \"value\"")
            speaker = turn.get("from", turn.get("role"))
            value = turn.get("value", turn.get("content"))
            if not isinstance(value, str):
                raise _Reject("not-text", f"{where} has {describe(value)} as its value, expected a string")
            if speaker in _CALL_SPEAKERS:
                self._tool_turn(msgs, "assistant", FOLD_CALL + value, where, f"a {speaker!r} turn (a tool call)")
            elif speaker in _RESULT_SPEAKERS:
                self._tool_turn(msgs, "user", FOLD_RESULT + value, where, f"a {speaker!r} turn (a tool result)")
            else:
                role = self._role(speaker)
                if role is None:
                    raise _Reject("unknown-role", f"{where} is from {speaker!r}, not a chat role ({', '.join(self.data.roles)} or an alias)")
                msgs.append({"role": role, "content": value})
            self._ignore(turn, ("from", "value", "role", "content"), "conversations[].")
        self._tool_definitions(msgs, rec.get("tools"), "tools")
        self._ignore(rec, ("conversations", "system", "tools"))
        return msgs

    def _prompt_completion(self, rec: dict[str, Any]) -> list[Any]:
        self._ignore(rec, ("prompt", "completion"))
        return [{"role": "user", "content": _text(rec, "prompt")}, {"role": "assistant", "content": _text(rec, "completion")}]

    def _openai(self, rec: dict[str, Any]) -> list[Any]:
        msgs: list[Any] = []
        for i, msg in enumerate(rec["messages"]):
            where = f"messages[{i}]"
            if not isinstance(msg, dict):
                msgs.append(msg)  # FT105 rejects it with its reason
                continue
            role, content = msg.get("role"), msg.get("content")
            weight = next((k for k in ("weight", "loss_weight") if msg.get(k) == 0), None)
            if weight and self._role(role) == "assistant":
                raise _Reject("weight-zero", f"{where} is a reply with {weight} 0 (not to be trained on); the platform has no per-message weight: drop that turn first")
            calls = msg.get("tool_calls") or ([msg["function_call"]] if msg.get("function_call") else [])
            if role in _RESULT_SPEAKERS:
                self._tool_turn(msgs, "user", FOLD_RESULT + _plain_text(content, where), where, f"a {role} message (a tool result)")
            elif calls:
                text = "\n".join(_call_text(call) for call in calls)
                if isinstance(content, str) and content.strip():
                    text = f"{content}\n{text}"
                self._tool_turn(msgs, "assistant", text, where, "an assistant tool call (tool_calls)")
            else:
                out = {"role": self._role(role) or role}  # an unknown role stays: FT109 rejects it with its reason
                if "content" in msg:
                    out["content"] = _plain_text(content, where) if isinstance(content, list) else content
                msgs.append(out)
            self._ignore(msg, ("role", "content", "tool_calls", "function_call", "weight", "loss_weight"), "messages[].")
        system = rec.get("system")  # Anthropic style: the system prompt beside the messages
        if isinstance(system, str) and system.strip() and not (msgs and isinstance(msgs[0], dict) and msgs[0].get("role") == "system"):
            msgs.insert(0, {"role": "system", "content": system})
            used: tuple[str, ...] = ("messages", "tools", "functions", "system")
        else:
            used = ("messages", "tools", "functions")
        self._tool_definitions(msgs, rec.get("tools") or rec.get("functions"), "tools" if rec.get("tools") else "functions")
        self._ignore(rec, used)
        return msgs


def _text(rec: dict[str, Any], key: str, optional: bool = False) -> str:
    value = rec.get(key)
    if value is None:
        if optional:
            return ""
        raise _Reject("missing-field", f'the record has no "{key}"' if key not in rec else f'"{key}" is null, expected a string')
    if not isinstance(value, str):
        raise _Reject("not-text", f'"{key}" is {describe(value)}, expected a string')
    return value


def _plain_text(content: Any, where: str) -> Any:
    """A list of text parts as one string; anything else as it is (the rules judge it)."""
    if not isinstance(content, list):
        return content
    texts = []
    for part in content:
        text = part.get("text", part.get("value")) if isinstance(part, dict) and part.get("type") == "text" else None
        if not isinstance(text, str):
            kind = part.get("type") if isinstance(part, dict) else describe(part)
            raise _Reject("not-text", f"{where} has a content part of type {kind!r} with no text string; chat fine-tuning takes text only")
        texts.append(text)
    return "\n".join(texts)


def _call_text(call: Any) -> str:
    """One OpenAI tool call as ``[function call] {"name": ..., "arguments": ...}``."""
    func = call.get("function", call) if isinstance(call, dict) else {}
    args = func.get("arguments") if isinstance(func, dict) else None
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            pass
    name = func.get("name") if isinstance(func, dict) else None
    return FOLD_CALL + json.dumps({"name": name, "arguments": args}, ensure_ascii=False)


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
                    yield {"line": n}, _Unparsed([reason("FT013", "", f"line is {raw:,} bytes, longer than the {max_line_bytes:,}-byte limit")], {"omitted_bytes": raw})
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
        return _Unparsed([reason("FT003", "", f"invalid UTF-8 at byte {exc.start + 1} of the line")], {"base64": base64.b64encode(line).decode("ascii")})
    parsed = parse_text(text)  # explains the error; also takes what orjson refuses (huge integers)
    if not parsed.ok or parsed.findings:
        return _Unparsed([reason(*f) for f in parsed.findings], {"text": text})
    return parsed.value


def _detect(sample: list[Any], src: Path) -> Format:
    votes = Counter(shape_of(v) for _, v in sample)
    votes.pop(None, None)
    if not votes:
        if all(isinstance(v, _Unparsed) for _, v in sample):
            where, first = sample[0]
            raise ConvertError(f"{src} is neither a JSON array nor JSON Lines: line {where.get('line')}: {first.reasons[0]}")
        shapes = "; ".join(f"{fmt}: {hint}" for fmt, (_, hint) in _SHAPES.items())
        raise ConvertError(f"cannot tell the format of {src}: none of its first {len(sample)} records has a known shape ({shapes}); pass --from")
    best = max(votes.values())
    return next(fmt for fmt in _SHAPES if votes.get(fmt) == best)


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
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
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
    converter = _Converter(prof.data, tools)
    counts: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    try:
        with atomic_write(out) as o, atomic_write(rej) as r:
            rejected = JsonLines(r)
            for where, value in chain(sample, items):
                counts["records"] += 1
                line, reasons = _convert_one(fmt, value, converter, prof, counts)
                if line is not None:
                    o.write(line + b"\n")
                    counts["written"] += 1
                    continue
                by_reason.update({r.split(" ", 1)[0].rstrip(":") for r in reasons})
                keep = value.keep if isinstance(value, _Unparsed) else {"source": value}
                rejected.add({**where, "reasons": reasons, **keep})
    except OSError as exc:
        raise ConvertError(f"cannot write {out}: {exc.strerror or exc}") from None
    return ConvertResult(
        input=str(src), output=str(out), rejects=str(rej), format=fmt, detected=source_format == "auto", container=container,
        records=counts["records"], matched=counts["matched"], written=counts["written"], rejected=rejected.count,
        folded=counts["folded"], rejected_by_reason=dict(sorted(by_reason.items())),
        ignored_keys=dict(sorted(converter.ignored.items())), output_check=check_output(out, prof),
    )


def _convert_one(fmt: Format, value: Any, converter: _Converter, prof: Profile, counts: Counter[str]) -> tuple[bytes | None, list[str]]:
    """The output line for one input record, or None and the reasons it is rejected."""
    if isinstance(value, _Unparsed):
        return None, value.reasons
    if not isinstance(value, dict) or not _SHAPES[fmt][0](value):
        other = shape_of(value)
        hint = f" (it looks like {other})" if other else ""
        what = f"its keys: {', '.join(map(str, value))}" if isinstance(value, dict) else f"it is {describe(value)}"
        return None, [f"not-{fmt}: the record does not have {_SHAPES[fmt][1]}; {what}{hint}"]
    counts["matched"] += 1
    try:
        record = {"messages": converter.convert(fmt, value)}
    except _Reject as exc:
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
