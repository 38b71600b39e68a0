"""The chat formats ``ftkit convert`` reads, and how one record of each becomes SiliconFlow messages.

Formats (``auto`` in ``ftkit.repair.convert`` picks the shape most of the first 100 records have)
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
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, get_args

from ftkit.checks import describe
from ftkit.checks.structure import intended_role
from ftkit.policy.profile import DataRules

Format = Literal["alpaca", "sharegpt", "prompt-completion", "openai"]
FORMATS: tuple[Format, ...] = get_args(Format)
ToolMode = Literal["reject", "fold"]

#: How ``tools="fold"`` writes tool use as plain text (ftkit's convention, see the docstring).
FOLD_CALL = "[function call] "
FOLD_RESULT = "[function result] "
FOLD_TOOLS = "Available functions (JSON):\n"

_CALL_SPEAKERS = ("function_call",)
_RESULT_SPEAKERS = ("observation", "tool", "function")

#: Each format's test for a record of its shape, and how that shape is described in messages.
SHAPES: dict[Format, tuple[Callable[[dict[str, Any]], bool], str]] = {
    "openai": (lambda r: isinstance(r.get("messages"), list), 'a "messages" array'),
    "sharegpt": (lambda r: isinstance(r.get("conversations"), list), 'a "conversations" array'),
    "alpaca": (lambda r: "instruction" in r and "output" in r, '"instruction" and "output"'),
    "prompt-completion": (lambda r: "prompt" in r and "completion" in r, '"prompt" and "completion"'),
}


class Rejected(Exception):
    """The record cannot be converted; ``key`` names why in the rejects file (e.g. ``tool-use``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def shape_of(record: Any) -> Format | None:
    """The format whose shape the record has (the first, in the order of ``SHAPES``)."""
    if isinstance(record, dict):
        for fmt, (test, _) in SHAPES.items():
            if test(record):
                return fmt
    return None


class Converter:
    """Turns one input record into messages; counts what it leaves out."""

    def __init__(self, data: DataRules, tools: ToolMode) -> None:
        """``data`` must have the system, user and assistant roles (the messages written)."""
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
            raise Rejected(
                "tool-use", f"{where} is {what}; chat fine-tuning takes plain text (--tools fold writes calls and results as text)"
            )
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
        self._ignore(rec, ("instruction", "input", "output", "system", "history"))
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
                self._tool_turn(msgs, "assistant", FOLD_CALL + value, where, f"a {speaker!r} turn (a tool call)")
            elif speaker in _RESULT_SPEAKERS:
                self._tool_turn(msgs, "user", FOLD_RESULT + value, where, f"a {speaker!r} turn (a tool result)")
            else:
                role = self._role(speaker)
                if role is None:
                    raise Rejected(
                        "unknown-role", f"{where} is from {speaker!r}, not a chat role ({', '.join(self.data.roles)} or an alias)"
                    )
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
                raise Rejected(
                    "weight-zero",
                    f"{where} is a reply with {weight} 0 (not to be trained on); the platform has no per-message weight: drop that turn first",
                )
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
        raise Rejected("missing-field", f'the record has no "{key}"' if key not in rec else f'"{key}" is null, expected a string')
    if not isinstance(value, str):
        raise Rejected("not-text", f'"{key}" is {describe(value)}, expected a string')
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
            raise Rejected("not-text", f"{where} has a content part of type {kind!r} with no text string; chat fine-tuning takes text only")
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
