"""FT4xx: token lengths, decided from the per-record token counts (where tokens are counted:
``ftkit validate --tokens``, stats, the report). These rules see numbers, never the tokenizer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ftkit.checks import documented
from ftkit.findings import Finding


@documented("FT401", "over-max-tokens")
def _over_max_tokens() -> None:
    """A record is longer than Max Tokens once templated; the end would be cut off in training.

    Why: SiliconFlow truncates at Max Tokens (at most 4096); the cut part is usually the
    assistant's answer, which is what the model should learn. Shorten or split the conversation.

    Remedy: by hand: shorten or split the conversation (Max Tokens is at most 4096).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


def over_max_tokens(rows: Iterable[tuple[int, int]], limit: int) -> Iterator[Finding]:
    """FT401 for each ``(line, templated tokens)`` longer than ``limit``."""
    for line, total in rows:
        if total > limit:
            over = total - limit
            yield Finding(
                line,
                "FT401",
                "",
                f"record is {total:,} tokens with the chat template, {over:,} over Max Tokens {limit:,}; the last {over:,} tokens would be cut",
            )
