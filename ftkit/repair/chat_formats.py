"""The chat formats ``ftkit convert`` reads, and how one record of each becomes SiliconFlow messages.

Formats (``--from``; the shapes are in ``ftkit.checks.shapes``, most specific first)
  openai             {"messages": [...], "tools"?, "system"?}: roles mapped with the profile's
                     roles and ``data.role_aliases``, a content list of text parts ("text" or
                     LLaMA-Factory's "value") joined by "\\n"; a top-level "system" string
                     (Anthropic, Bedrock/Nova) becomes the first system message (before the
                     record's own system message, if that says something else); a reply with
                     weight (or loss_weight) 0 is rejected
  sharegpt           {"conversations": [{"from", "value"}], "system"?, "tools"?}: human -> user,
                     gpt -> assistant; "role"/"content" turns are read too
  alpaca             {"instruction", "input", "output", "system"?, "history"?: [[q, a], ...]}:
                     system, the history pairs, then instruction and input joined by "\\n"
                     (LLaMA-Factory's rule) as the user message, output as the reply
  prompt-completion  {"prompt", "completion"}: one user message and its reply, text unchanged
  bedrock            Amazon Bedrock conversation (``ftkit.repair.bedrock``)
  preference         chosen/rejected pairs in any of the layouts above (``ftkit.repair.pairs``)
  kto                records with a true/false ``label`` or ``kto_tag`` (``ftkit.repair.pairs``)
  multimodal         records that refer to images, video or audio: always rejected
  columns            flat records, with ``columns`` (``--map user=COL --map assistant=COL
                     [--map system=COL]``) naming the columns of each role

Whatever the format, a record that refers to media (media keys, media parts, ``<image>``-style
placeholders of the profile) is rejected ("SiliconFlow chat fine-tuning takes text only (2
images)"); a preference pair is rejected unless ``preference="chosen"``; a record labelled false
is rejected ("labelled undesirable"); reasoning (``reasoning_content``, parts of type reasoning)
is rejected unless ``reasoning="drop"`` (Qwen2.5's chat template has no thinking part).

Tool use (``tools``): ``reject`` (default) rejects a record with a function-call or observation
turn, a tool/function message or ``tool_calls``; tool definitions of other records are dropped
(and logged). ``fold`` writes them as text: a call as an assistant message ``[function call]
{"name": ..., "arguments": ...}``, a result as a user message ``[function result] ...``, a folded
turn joined by "\\n" onto a message of the same role just before it, and the tool definitions at
the end of the system message after ``Available functions (JSON):``. Qwen's own ``<tool_call>``
tags are not used: they are special tokens (FT302).

Every change that leaves something out (or moves it) is logged in ``Converter.changes`` as
``(code, pointer into the input record, action)``: ``system``, ``preference``, ``label``,
``reasoning``, ``tools``, ``not-carried`` (a key holding text that the platform does not read).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal, get_args

from ftkit.checks import describe, pointer
from ftkit.checks.shapes import REASONING_KEYS, REASONING_PARTS
from ftkit.checks.structure import intended_role
from ftkit.policy.profile import DataRules
from ftkit.repair.conserve import STRUCTURAL, has_content

Format = Literal["openai", "sharegpt", "alpaca", "prompt-completion", "bedrock", "preference", "kto", "multimodal", "columns"]
FORMATS: tuple[Format, ...] = get_args(Format)
ToolMode = Literal["reject", "fold"]
ReasoningMode = Literal["reject", "drop"]
PreferenceMode = Literal["reject", "chosen"]
Change = tuple[str, str, str]  # (code, pointer into the input record, action)

#: How ``tools="fold"`` writes tool use as plain text (ftkit's convention, see the docstring).
FOLD_CALL = "[function call] "
FOLD_RESULT = "[function result] "
FOLD_TOOLS = "Available functions (JSON):\n"

_CALL_SPEAKERS = ("function_call",)
_CALL_PARTS = ("tool_call", "function_call")
_RESULT_SPEAKERS = ("observation", "tool", "function")


class Rejected(Exception):
    """The record cannot be converted; ``key`` names why in the rejects file (e.g. ``tool-use``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class Converter:
    """Turns one input record into messages; logs what it leaves out (``changes``)."""

    def __init__(self, data: DataRules, tools: ToolMode = "reject", *, reasoning: ReasoningMode = "reject",
                 preference: PreferenceMode = "reject", columns: dict[str, str] | None = None) -> None:  # fmt: skip
        """``data`` must have the system, user and assistant roles (the messages written)."""
        self.data, self.tools, self.reasoning_mode, self.preference = data, tools, reasoning, preference
        self.columns = columns or {}
        self.ignored: Counter[str] = Counter()
        self.folded = False
        self.changes: list[Change] = []
        self._moves: list[tuple[str, str]] = []  # (pointer in the record converted, pointer in the input)

    def start(self) -> None:
        """Forget the previous record's changes (``to_messages`` calls it for each record)."""
        self.folded, self.changes, self._moves = False, [], []

    def columns_messages(self, record: dict[str, Any]) -> list[Any]:
        return self._columns(record)

    def layout_messages(self, layout: str, record: dict[str, Any]) -> list[Any]:
        """The messages of a record with one of the plain layouts (openai, sharegpt, alpaca, prompt-completion)."""
        return getattr(self, "_" + layout.replace("-", "_"))(record)

    # --- what every layout uses -----------------------------------------------------------------

    def move(self, converted: str, source: str) -> None:
        """Pointers below ``converted`` in the record being converted are ``source`` in the input."""
        self._moves.append((converted, source))

    def log(self, code: str, where: str, action: str) -> None:
        for converted, source in reversed(self._moves):
            if where == converted or where.startswith(converted + "/"):
                where = source + where[len(converted) :]
                break
        self.changes.append((code, where, action))

    def ignore(self, obj: dict[str, Any], used: tuple[str, ...], at: str = "", label: str = "") -> None:
        """Count the keys of ``obj`` not carried over; log those that hold text."""
        for key, value in obj.items():
            if key not in used:
                self.ignored[label + key] += 1
                if key not in STRUCTURAL and has_content(value):  # an "id" names the record, it says nothing
                    self.log(
                        "not-carried", at + pointer(key), f'dropped the key "{key}": the platform reads only role and content messages'
                    )

    def role(self, speaker: Any) -> str | None:
        if not isinstance(speaker, str):
            return None
        return speaker if speaker in self.data.roles else intended_role(speaker, self.data)

    def reasoning(self, where: str, at: str, what: str) -> None:
        """Reasoning found at ``at``: rejected, or dropped and logged (``reasoning="drop"``)."""
        if self.reasoning_mode == "reject":
            raise Rejected(
                "reasoning",
                f"{where} holds the model's reasoning ({what}); Qwen2.5's chat template has no thinking part: "
                "--reasoning drop writes the reply without it",
            )
        self.log("reasoning", at, f"dropped the reasoning ({what}): Qwen2.5's chat template has no thinking part (--reasoning drop)")

    def tool_turn(self, msgs: list[Any], role: str, text: str, where: str, what: str) -> None:
        if self.tools == "reject":
            raise Rejected(
                "tool-use", f"{where} is {what}; chat fine-tuning takes plain text (--tools fold writes calls and results as text)"
            )
        self.folded = True
        prev = msgs[-1] if msgs else None
        if isinstance(prev, dict) and prev.get("role") == role and isinstance(prev.get("content"), str):
            prev["content"] = f"{prev['content']}\n{text}" if prev["content"].strip() else text
        else:
            msgs.append({"role": role, "content": text})

    def tool_definitions(self, msgs: list[Any], tools: Any, key: str) -> None:
        if tools in (None, "", [], "[]", {}):
            return
        if self.tools == "reject":
            self.ignored[key] += 1
            if has_content(tools):
                self.log(
                    "tools",
                    pointer(key),
                    "dropped the tool definitions: no tool is used (--tools fold writes them into the system message)",
                )
            return
        block = FOLD_TOOLS + (tools if isinstance(tools, str) else json.dumps(tools, ensure_ascii=False))
        first = msgs[0] if msgs else None
        if isinstance(first, dict) and first.get("role") == "system" and isinstance(first.get("content"), str):
            first["content"] = f"{first['content']}\n\n{block}" if first["content"].strip() else block
        else:
            msgs.insert(0, {"role": "system", "content": block})

    def parts(self, content: list[Any], where: str, at: str) -> str:
        """A content list as one string: text parts joined by "\\n", reasoning rejected or dropped."""
        texts, dropped = [], False
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text", part.get("value")), str):
                texts.append(part.get("text", part.get("value")))
            elif kind in REASONING_PARTS:
                self.reasoning(f"{where}.content[{j}]", f"{at}/content/{j}", f"a part of type {kind!r}")
                dropped = True
            elif kind in _CALL_PARTS:  # LLaMA-Factory: {"type": "tool_call", "value": "{\"name\": ..., \"arguments\": ...}"}
                if self.tools == "reject":
                    raise Rejected("tool-use", f"{where}.content[{j}] is a tool call; chat fine-tuning takes plain text "
                                   "(--tools fold writes calls and results as text)")  # fmt: skip
                self.folded = True
                texts.append(_call_text(_json_or_text(part.get("value", part.get("text")))))
            else:
                what = f"a content part of type {kind!r}" if kind is not None else f"{describe(part)} in its content list"
                raise Rejected("not-text", f"{where} has {what} with no text string; chat fine-tuning takes text only")
        if dropped and not any(t.strip() for t in texts):
            raise Rejected("reasoning", f"{where} holds only reasoning: without it, the message is empty")
        return "\n".join(texts)

    # --- the layouts ------------------------------------------------------------------------------

    def _alpaca(self, rec: dict[str, Any]) -> list[Any]:
        if isinstance(rec.get("output"), list):
            raise Rejected("not-text", '"output" is a list (a ranking or preference dataset?); expected one reply string')
        instruction, extra, output = _text(rec, "instruction"), _text(rec, "input", True), _text(rec, "output")
        system = _text(rec, "system", True)
        msgs = [{"role": "system", "content": system}] if system else []
        history = rec.get("history") or []
        if not isinstance(history, list):
            raise Rejected("bad-history", f'"history" is {describe(history)}, expected a list of [question, answer] pairs')
        for k, pair in enumerate(history):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
                raise Rejected("bad-history", f'"history" item {k} is {describe(pair)}, expected [question, answer] strings')
            msgs += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
        msgs.append({"role": "user", "content": "\n".join(t for t in (instruction, extra) if t)})
        msgs.append({"role": "assistant", "content": output})
        self.ignore(rec, ("instruction", "input", "output", "system", "history"))
        return msgs

    def _sharegpt(self, rec: dict[str, Any]) -> list[Any]:
        system = _text(rec, "system", True)
        msgs: list[Any] = [{"role": "system", "content": system}] if system else []
        for i, turn in enumerate(rec["conversations"]):
            where = f"conversations[{i}]"
            if not isinstance(turn, dict):
                raise Rejected("bad-turn", f'{where} is {describe(turn)}, expected an object with "from" and "value"')
            speaker = turn.get("from", turn.get("role"))
            value = turn.get("value", turn.get("content"))
            if not isinstance(value, str):
                raise Rejected("not-text", f"{where} has {describe(value)} as its value, expected a string")
            if speaker in _CALL_SPEAKERS:
                self.tool_turn(msgs, "assistant", FOLD_CALL + value, where, f"a {speaker!r} turn (a tool call)")
            elif speaker in _RESULT_SPEAKERS:
                self.tool_turn(msgs, "user", FOLD_RESULT + value, where, f"a {speaker!r} turn (a tool result)")
            else:
                role = self.role(speaker)
                if role is None:
                    raise Rejected(
                        "unknown-role", f"{where} is from {speaker!r}, not a chat role ({', '.join(self.data.roles)} or an alias)"
                    )
                msgs.append({"role": role, "content": value})
            self.ignore(turn, ("from", "value", "role", "content"), pointer("conversations", i), "conversations[].")
        self.tool_definitions(msgs, rec.get("tools"), "tools")
        self.ignore(rec, ("conversations", "system", "tools"))
        return msgs

    def _prompt_completion(self, rec: dict[str, Any]) -> list[Any]:
        self.ignore(rec, ("prompt", "completion"))
        return [{"role": "user", "content": _text(rec, "prompt")}, {"role": "assistant", "content": _text(rec, "completion")}]

    def _openai(self, rec: dict[str, Any]) -> list[Any]:
        msgs: list[Any] = []
        for i, msg in enumerate(rec["messages"]):
            where, at = f"messages[{i}]", pointer("messages", i)
            if not isinstance(msg, dict):
                msgs.append(msg)  # FT105 rejects it with its reason
                continue
            role, content = msg.get("role"), msg.get("content")
            weight = next((k for k in ("weight", "loss_weight") if msg.get(k) == 0), None)
            if weight and self.role(role) == "assistant":
                raise Rejected(
                    "weight-zero",
                    f"{where} is a reply with {weight} 0 (not to be trained on); the platform has no per-message weight: drop that turn first",
                )
            for key in REASONING_KEYS:
                if isinstance(msg.get(key), str) and msg[key].strip():
                    self.reasoning(where, f"{at}/{key}", f'"{key}"')
            if isinstance(content, list):
                content = self.parts(content, where, at)
            calls = msg.get("tool_calls") or ([msg["function_call"]] if msg.get("function_call") else [])
            if role in _RESULT_SPEAKERS:
                self.tool_turn(msgs, "user", FOLD_RESULT + (content if isinstance(content, str) else json.dumps(content)), where,
                               f"a {role} message (a tool result)")  # fmt: skip
            elif calls:
                text = "\n".join(_call_text(call) for call in calls)
                if isinstance(content, str) and content.strip():
                    text = f"{content}\n{text}"
                self.tool_turn(msgs, "assistant", text, where, "an assistant tool call (tool_calls)")
            else:
                out = {"role": self.role(role) or role}  # an unknown role stays: FT109 rejects it with its reason
                if "content" in msg:
                    out["content"] = content
                msgs.append(out)
            used = ("role", "content", "tool_calls", "function_call", "weight", "loss_weight", *REASONING_KEYS)
            self.ignore(msg, used, at, "messages[].")
        used_keys: tuple[str, ...] = ("messages", "tools", "functions")
        system = rec.get("system")  # Anthropic, Bedrock/Nova: the system prompt beside the messages
        if isinstance(system, str) and system.strip():
            used_keys += ("system",)
            self._top_level_system(msgs, system)
        self.tool_definitions(msgs, rec.get("tools") or rec.get("functions"), "tools" if rec.get("tools") else "functions")
        self.ignore(rec, used_keys)
        return msgs

    def _top_level_system(self, msgs: list[Any], system: str) -> None:
        first = msgs[0] if msgs else None
        if not (isinstance(first, dict) and first.get("role") == "system"):
            msgs.insert(0, {"role": "system", "content": system})
            self.log("system", "/system", 'moved the top-level "system" string into a first system message')
        elif first.get("content") == system:
            self.log("system", "/system", 'dropped the top-level "system": the same text is the record\'s first system message')
        else:
            msgs.insert(0, {"role": "system", "content": system})
            self.log(
                "system",
                "/system",
                'moved the top-level "system" string before the record\'s own system message (FT206: two system messages)',
            )

    def _columns(self, rec: dict[str, Any]) -> list[Any]:
        msgs = []
        for role in ("system", "user", "assistant"):
            column = self.columns.get(role)
            if column is None:
                continue
            value = rec.get(column)
            if role == "system" and value in (None, ""):
                continue
            if value is None:
                raise Rejected("missing-field", f'the record has no column "{column}" (--map {role}={column})' if column not in rec
                               else f'column "{column}" (--map {role}={column}) is null, expected a string')  # fmt: skip
            if not isinstance(value, str):
                raise Rejected("not-text", f'column "{column}" (--map {role}={column}) is {describe(value)}, expected a string')
            msgs.append({"role": role, "content": value})
        for key, value in rec.items():
            if key not in self.columns.values():
                self.ignored[key] += 1
                if key not in STRUCTURAL and has_content(value):
                    self.log("not-carried", pointer(key), f'dropped the column "{key}": --map does not name it')
        return msgs


def _text(rec: dict[str, Any], key: str, optional: bool = False) -> str:
    value = rec.get(key)
    if value is None:
        if optional:
            return ""
        raise Rejected("missing-field", f'the record has no "{key}"' if key not in rec else f'"{key}" is null, expected a string')
    if not isinstance(value, str):
        raise Rejected("not-text", f'"{key}" is {describe(value)}, expected a string')
    return value


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return {"name": None, "arguments": value}
    return value


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
