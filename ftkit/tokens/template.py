"""Chat templates: how a record's messages become the text the model is trained on, and the
token counts that follow (templated total, trainable tokens, content per role).

The templates are data (``rules/tokenizers.toml``); nothing about ChatML is written here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ftkit.tokens.tokenizer import Tokenizer, token_config

Messages = Sequence[Mapping[str, Any]]


class RecordTokens(NamedTuple):
    """Token counts of one chat record; role fields are content tokens (no template)."""

    system: int  # system messages of the record (the default system prompt is not included)
    user: int
    assistant: int
    total: int  # the whole templated conversation, default system prompt included
    trainable: int  # assistant content + its end token (trainable_suffix) per assistant message
    turns: int  # number of assistant messages


class ChatTemplate:
    """A per-message chat template, e.g. ChatML ``<|im_start|>{role}\\n{content}<|im_end|>\\n``.

    With ``default_system`` (and a ``system_prompt``), a record whose first message is not a
    system message gets the default system message, as the Qwen2.5 chat template does.
    """

    def __init__(
        self, name: str, message: str, system_prompt: str | None = None, trainable_suffix: str = "",
        *, default_system: bool = True,
    ) -> None:  # fmt: skip
        self.name, self.message, self.system_prompt = name, message, system_prompt
        self.trainable_suffix, self.default_system = trainable_suffix, default_system
        self._overhead: dict[tuple[str, str], int] = {}

    @classmethod
    def from_spec(cls, model: str | None = None, *, default_system: bool = True, config: Mapping[str, Any] | None = None) -> ChatTemplate:
        """Template of a model name (``[models]``) or template key (``[templates]``); None: the
        default profile's model."""
        if model is None:
            from ftkit.policy.profile import load_profile

            model = load_profile().tokens.default_model
        cfg = token_config(config)
        key = cfg["models"][model]["template"] if model in cfg["models"] else model
        if (t := cfg["templates"].get(key)) is None:
            raise ValueError(f"no chat template for {model!r}")
        suffix = t.get("trainable_suffix", "")
        return cls(key, t["message"], t.get("default_system"), suffix, default_system=default_system)

    def render(self, role: str, content: str) -> str:
        """One templated message."""
        return self.message.replace("{role}", role).replace("{content}", content)

    def wrapper(self, role: str) -> tuple[str, str]:
        """The template's text before and after the content of one ``role`` message."""
        pre, _, post = self.message.partition("{content}")
        return pre.replace("{role}", role), post.replace("{role}", role)

    def tail(self, tok: Tokenizer) -> int:
        """Tokens of an assistant message after its trainable end token (ChatML: the newline).

        The trainable span of an assistant message is taken to be the last ``content tokens +
        end token`` tokens before these: exactly the content and its end token when the message
        is additive, and the same count, right-aligned, when a leading newline of the content
        merged with the template's (see ``ftkit.tokens.table.COLUMNS``)."""
        post = self.wrapper("assistant")[1]
        suffix = tok.count(self.trainable_suffix) if self.trainable_suffix else 0
        return max(0, tok.count(post) - suffix)

    def head(self, messages: Messages) -> str:
        """The default system message when the record needs one (rendered), else ""."""
        if not (self.default_system and self.system_prompt) or (messages and messages[0].get("role") == "system"):
            return ""
        return self.render("system", self.system_prompt)

    def render_record(self, messages: Messages) -> str:
        """The whole templated conversation, as the model's chat template renders it."""
        body = "".join(self.render(str(m.get("role")), _text(m.get("content"))) for m in messages)
        return self.head(messages) + body

    def overhead(self, tok: Tokenizer, role: str) -> int:
        """Tokens the wrapper adds to one ``role`` message (5 for ChatML)."""
        if (key := (tok.name, role)) not in self._overhead:
            self._overhead[key] = tok.count(self.render(role, ""))
        return self._overhead[key]

    def count_record(self, messages: Messages, tok: Tokenizer) -> RecordTokens:
        """Token counts of one record (``messages`` as in the fine-tuning JSONL)."""
        texts = [_text(m.get("content")) for m in messages]
        return self._tally(messages, texts, [tok.count(t) for t in texts], tok)

    def additive(self, tok: Tokenizer) -> bool:
        """Whether per-message counts add up: every message starts with an added token and its
        content sits between a newline and an added token (so no BPE merge crosses them)."""
        pre, _, post = self.message.partition("{content}")
        marks = tok.added_tokens
        return pre.endswith("\n") and any(map(pre.startswith, marks)) and any(map(post.startswith, marks))

    def _tally(self, messages: Messages, texts: list[str], counts: list[int], tok: Tokenizer) -> RecordTokens:
        per, trainable, turns = {"system": 0, "user": 0, "assistant": 0}, 0, 0
        exact = not self.additive(tok)  # then count the rendered record as a whole
        total = tok.count(self.render_record(messages) if exact else self.head(messages))
        suffix = tok.count(self.trainable_suffix) if self.trainable_suffix else 0
        for m, text, n in zip(messages, texts, counts):
            role = str(m.get("role"))
            per[role] = per.get(role, 0) + n
            if not exact:  # leading whitespace may merge with the newline before the content
                total += tok.count(self.render(role, text)) if text[:1].isspace() else n + self.overhead(tok, role)
            if role == "assistant":
                turns, trainable = turns + 1, trainable + n + suffix
        return RecordTokens(per["system"], per["user"], per["assistant"], total, trainable, turns)


def _text(content: Any) -> str:
    return content if isinstance(content, str) else ""
