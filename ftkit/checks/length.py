"""FT4xx: token lengths. Found from the per-record token table (``ftkit validate --tokens``)."""

from __future__ import annotations

from ftkit.checks import documented


@documented("FT401", "over-max-tokens")
def _over_max_tokens() -> None:
    """A record is longer than Max Tokens once templated; the end would be cut off in training.

    Why: SiliconFlow truncates at Max Tokens (at most 4096); the cut part is usually the
    assistant's answer, which is what the model should learn. Shorten or split the conversation.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
