"""Records that hold more than one reply, or a judgement of their reply: preference pairs (DPO,
ORPO) and labelled records (KTO). Each becomes a plain record of one of the layouts, or is
rejected with its reason.

Preference pairs: ``chosen``/``rejected`` (a ShareGPT turn, a message, a string, or a list of
them) beside ``conversations``, ``messages``, ``prompt`` (a string or a list of messages) or
``instruction``; or ``chosen``/``rejected`` (or ``chosen_messages``/``rejected_messages``) as whole
conversations. SiliconFlow's chat fine-tuning learns one reply per prompt, so by default the
record is rejected ("preference pair: ..."); ``preference="chosen"`` writes the prompt with the
chosen reply and logs that the rejected one was dropped.

Labelled records: a ``label`` that is true or false, or a ``kto_tag``. False marks a reply the
model should NOT give: such a record is never written ("labelled undesirable"). True: written,
and the label's reading is logged.
"""

from __future__ import annotations

from typing import Any

from ftkit.checks import describe, pointer
from ftkit.checks.shapes import label_key, preference_keys
from ftkit.repair.chat_formats import Converter, Rejected


def choose_reply(conv: Converter, rec: dict[str, Any]) -> dict[str, Any]:
    """The record with only its chosen reply (``preference="chosen"``), or ``Rejected``."""
    pair = preference_keys(rec)
    if pair is None:
        return rec
    chosen_key, rejected_key = pair
    if conv.preference == "reject":
        raise Rejected(
            "preference",
            f'preference pair: the record holds a chosen and a rejected reply ("{chosen_key}", "{rejected_key}": DPO/ORPO data); '
            "SiliconFlow's chat fine-tuning learns one reply per prompt: use --preference chosen to write each prompt with its chosen reply",
        )
    chosen = rec[chosen_key]
    base = {k: v for k, v in rec.items() if k not in pair}
    conv.log(
        "preference", pointer(rejected_key), f'dropped "{rejected_key}": the rejected reply of a preference pair (--preference chosen)'
    )
    src = pointer(chosen_key)
    for key, style in (("conversations", "sharegpt"), ("messages", "openai")):
        if isinstance(base.get(key), list):
            base[key] = _extend(conv, key, base[key], chosen, src, style)
            return base
    if "prompt" in base:
        return _with_prompt(conv, base, chosen, src)
    if "instruction" in base:
        if not isinstance(chosen, str):
            raise Rejected("not-text", f'"{chosen_key}" is {describe(chosen)}, expected the reply string of an Alpaca pair')
        base["output"] = chosen
        conv.move("/output", src)
        return base
    if isinstance(chosen, list):  # a whole conversation
        key = "conversations" if any(isinstance(t, dict) and "from" in t for t in chosen) else "messages"
        base[key] = chosen
        conv.move(pointer(key), src)
        return base
    raise Rejected("no-turns", f'a preference pair with no prompt: "{chosen_key}" is {describe(chosen)} and nothing asks for it')


def _turns(chosen: Any, style: str, where: str) -> list[Any]:
    if isinstance(chosen, list):
        return chosen
    if isinstance(chosen, dict):
        return [chosen]
    if isinstance(chosen, str):
        return [{"from": "gpt", "value": chosen} if style == "sharegpt" else {"role": "assistant", "content": chosen}]
    raise Rejected("not-text", f"{where} is {describe(chosen)}, expected a reply (a string, a turn or a list of turns)")


def _extend(conv: Converter, key: str, turns: list[Any], chosen: Any, src: str, style: str) -> list[Any]:
    added = _turns(chosen, style, src)
    for k in range(len(added)):
        conv.move(pointer(key, len(turns) + k), f"{src}/{k}" if isinstance(chosen, list) else src)
    return [*turns, *added]


def _with_prompt(conv: Converter, base: dict[str, Any], chosen: Any, src: str) -> dict[str, Any]:
    prompt = base.pop("prompt")
    if isinstance(prompt, str) and isinstance(chosen, str):
        base["prompt"], base["completion"] = prompt, chosen
        conv.move("/completion", src)
        return base
    if isinstance(prompt, str):
        opens = isinstance(chosen, list) and chosen and isinstance(chosen[0], dict) and chosen[0].get("role") == "user"
        if opens and chosen[0].get("content") == prompt:  # the whole conversation, its first message the prompt
            base["messages"] = chosen
            conv.move("/messages", src)
            return base
        lead: list[Any] = [{"role": "user", "content": prompt}]
        conv.move("/messages/0/content", "/prompt")
    elif isinstance(prompt, list):  # a conversational prompt (TRL): its messages, then the reply
        lead = prompt
        for i in range(len(prompt)):
            conv.move(pointer("messages", i), pointer("prompt", i))
    else:
        raise Rejected("not-text", f'"prompt" is {describe(prompt)}, expected a string or a list of messages')
    base["messages"] = _extend(conv, "messages", lead, chosen, src, "openai")
    return base


def read_label(conv: Converter, rec: dict[str, Any]) -> dict[str, Any]:
    """The record without its KTO label when the label is true; ``Rejected`` when it is false."""
    key = label_key(rec)
    if key is None:
        return rec
    value = rec[key]
    if value is False:
        raise Rejected(
            "undesirable",
            f'labelled undesirable ("{key}": false): a KTO example of a reply the model should not give; '
            "SiliconFlow trains on every reply it is given, so this one is never written",
        )
    if value is not True:
        raise Rejected("bad-label", f'"{key}" is {describe(value)}, expected true (a desirable reply) or false (an undesirable one)')
    conv.log("label", pointer(key), f'read "{key}": true, a desirable reply (written; the label itself is not)')
    return {k: v for k, v in rec.items() if k != key}
