"""Amazon Bedrock conversation records (``"schemaVersion": "bedrock-conversation-2024"``, the
format of Bedrock's and Nova's fine-tuning) as SiliconFlow messages.

- ``system``: a list of ``{"text": ...}`` blocks (or a string) becomes the first system message,
  its blocks joined by "\\n";
- ``messages[].content``: a list of blocks; text blocks are joined by "\\n" into the content
  string; ``reasoningContent`` is reasoning (rejected, or dropped with ``--reasoning drop``);
  ``toolUse`` and ``toolResult`` are tool use (rejected, or folded into text with ``--tools
  fold``, like OpenAI tool calls); ``image``, ``video`` and ``document`` blocks are media, which
  the platform cannot train on (rejected, naming the kind); ``cachePoint`` marks carry nothing;
- ``toolConfig``: tool definitions (dropped and logged, or folded into the system message).
"""

from __future__ import annotations

import json
from typing import Any

from ftkit.checks import describe, pointer
from ftkit.checks.shapes import BEDROCK_MEDIA
from ftkit.repair.chat_formats import FOLD_CALL, FOLD_RESULT, Converter, Rejected

_USED = ("schemaVersion", "system", "messages", "toolConfig")


def bedrock_messages(conv: Converter, rec: dict[str, Any]) -> list[Any]:
    msgs: list[Any] = []
    system = _system(rec.get("system"))
    if system:
        msgs.append({"role": "system", "content": system})
    for i, msg in enumerate(rec["messages"]):
        where, at = f"messages[{i}]", pointer("messages", i)
        if not isinstance(msg, dict):
            raise Rejected("bad-turn", f"{where} is {describe(msg)}, expected an object with role and content")
        role = conv.role(msg.get("role"))
        if role is None:
            raise Rejected("unknown-role", f"{where} has the role {msg.get('role')!r}, expected user or assistant")
        content = msg.get("content")
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):
            text = _blocks(conv, content, where, at)
        else:
            raise Rejected("not-text", f"{where} has {describe(content)} as its content, expected a list of blocks")
        msgs.append({"role": role, "content": text})
        conv.ignore(msg, ("role", "content"), at, "messages[].")
    tools = rec.get("toolConfig")
    conv.tool_definitions(msgs, tools.get("tools") if isinstance(tools, dict) else tools, "toolConfig")
    conv.ignore(rec, _USED)
    return msgs


def _system(system: Any) -> str:
    if system is None or isinstance(system, str):
        return system or ""
    if not isinstance(system, list):
        raise Rejected("not-text", f'"system" is {describe(system)}, expected a list of {{"text": ...}} blocks')
    texts = []
    for i, block in enumerate(system):
        if isinstance(block, dict) and "cachePoint" in block:
            continue
        text = block.get("text") if isinstance(block, dict) else None
        if not isinstance(text, str):
            raise Rejected("not-text", f'system[{i}] is {describe(block)}, expected a {{"text": ...}} block')
        texts.append(text)
    return "\n".join(texts)


def _blocks(conv: Converter, blocks: list[Any], where: str, at: str) -> str:
    texts: list[str] = []
    dropped = False
    for j, block in enumerate(blocks):
        here = f"{where}.content[{j}]"
        if not isinstance(block, dict) or not block:
            raise Rejected("not-text", f'{here} is {describe(block)}, expected a content block such as {{"text": ...}}')
        kind = next(iter(block))
        if kind == "text" and isinstance(block["text"], str):
            texts.append(block["text"])
        elif kind == "reasoningContent":
            conv.reasoning(here, f"{at}/content/{j}", "a reasoningContent block")
            dropped = True
        elif kind in ("toolUse", "toolResult"):
            texts.append(_tool_block(conv, kind, block[kind], here))
        elif kind in BEDROCK_MEDIA:
            raise Rejected(
                "media", f"{here} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} block: SiliconFlow chat fine-tuning takes text only"
            )
        elif kind == "cachePoint":
            continue
        else:
            raise Rejected("not-text", f"{here} is a {kind!r} block; chat fine-tuning takes text only")
    if dropped and not any(t.strip() for t in texts):
        raise Rejected("reasoning", f"{where} holds only reasoning: without it, the message is empty")
    return "\n".join(texts)


def _tool_block(conv: Converter, kind: str, value: Any, where: str) -> str:
    what = "a toolUse block (a tool call)" if kind == "toolUse" else "a toolResult block (a tool result)"
    if conv.tools == "reject":
        raise Rejected("tool-use", f"{where} is {what}; chat fine-tuning takes plain text (--tools fold writes calls and results as text)")
    conv.folded = True
    body = value if isinstance(value, dict) else {}
    if kind == "toolUse":
        return FOLD_CALL + json.dumps({"name": body.get("name"), "arguments": body.get("input")}, ensure_ascii=False)
    parts = []
    for item in body.get("content") or []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif isinstance(item, dict) and "json" in item:
            parts.append(json.dumps(item["json"], ensure_ascii=False))
        else:
            raise Rejected("not-text", f"{where} holds {describe(item)} as a result; expected text or json")
    return FOLD_RESULT + "\n".join(parts)
