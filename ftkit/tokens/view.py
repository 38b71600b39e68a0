"""One record token by token, as the model's tokenizer receives it: the ids of each templated
message and which of them are trainable (``ftkit show``).

It works from the same template data as the token table (``ChatTemplate``: the per-message
text, the default system prompt, the trainable suffix and the tail after it), but encodes each
templated message for real instead of adding counts, so that a test can hold the two equal.
The trainable span of an assistant message is placed as the table places it: its content
tokens and end token, just before the template's tail (``ChatTemplate.tail``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ftkit.tokens.template import ChatTemplate
from ftkit.tokens.tokenizer import Tokenizer


class MessageTokens(NamedTuple):
    """One templated message of a record, token by token."""

    message: int | None  # index in "messages"; None for the template's default system prompt
    role: str
    content: str
    content_tokens: int  # the content alone, as the table counts it
    ids: list[int]  # the templated message
    trainable: list[bool]  # per id


def record_tokens(messages: Sequence[Mapping[str, Any]], template: ChatTemplate, tok: Tokenizer) -> list[MessageTokens]:
    """The templated messages of a record (its default system prompt first, when the template
    adds one). ``messages`` must hold string roles and contents (``TypeError`` otherwise)."""
    out = []
    if template.head(messages):
        prompt = template.system_prompt or ""
        ids = tok.encode(template.render("system", prompt))
        out.append(MessageTokens(None, "system", prompt, tok.count(prompt), ids, [False] * len(ids)))
    suffix = tok.count(template.trainable_suffix) if template.trainable_suffix else 0
    tail = template.tail(tok)
    for i, m in enumerate(messages):
        role, text = m.get("role"), m.get("content")
        if not isinstance(role, str) or not isinstance(text, str):
            raise TypeError(f"message {i} has no string role and content")
        n = tok.count(text)
        ids = tok.encode(template.render(role, text))
        flags = [False] * len(ids)
        if role == "assistant":
            end = len(ids) - tail
            for p in range(max(0, end - n - suffix), end):
                flags[p] = True
        out.append(MessageTokens(i, role, text, n, ids, flags))
    return out
