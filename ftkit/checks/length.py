"""FT4xx: token lengths, decided from the per-record token counts (where tokens are counted:
``ftkit validate --tokens``, stats, the report). These rules see numbers, never the tokenizer.

What training does past Max Tokens is not documented; the profile's ``[tokens] truncation`` says
what ftkit assumes: ``"right"`` (the templated token sequence is cut at Max Tokens) or ``"drop"``
(a longer record is left out whole). The numbers come from the token table
(``ftkit.tokens.table.COLUMNS``: ``trainable``, ``trainable_kept``, ``reply_start``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ftkit.checks import documented
from ftkit.findings import Finding


@documented("FT401", "over-max-tokens")
def _over_max_tokens() -> None:
    """A record is longer than Max Tokens once templated; the end would be cut off in training.

    Why: SiliconFlow truncates at Max Tokens (its range is the profile's [parameters.max_tokens]); the cut part is usually the
    assistant's answer, which is what the model should learn. Shorten or split the conversation.

    Remedy: by hand: shorten or split the conversation, or raise Max Tokens within the platform's range.

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


@documented("FT402", "reply-cut")
def _reply_cut() -> None:
    """Part of the record's reply falls past Max Tokens; training cuts it off.

    Why: a supervised fine-tune learns only from the assistant's tokens. Cut at Max Tokens (the
    profile's truncation "right"), the reply ends mid-sentence, and the model learns to stop
    there. The message says how many of the reply's tokens are lost. Found where tokens are
    counted (`ftkit validate --tokens`, stats, the report). Shorten the conversation, split it,
    or raise Max Tokens.

    Remedy: by hand: shorten or split the conversation, or raise Max Tokens (`ftkit cost --max-tokens` shows what that costs).

    Pass: max_tokens=40 {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: max_tokens=40 {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"}]}
    """


@documented("FT403", "reply-lost")
def _reply_lost() -> None:
    """No token of the record's reply is within Max Tokens: the record trains on nothing.

    Why: every assistant token lies past the cut (or the record is dropped whole, with the
    profile's truncation "drop"), so all its labels are masked: the record costs tokens and
    teaches nothing, and a batch of such records gives a loss of 0 or NaN. Found where tokens
    are counted (`ftkit validate --tokens`, stats, the report). A profile may make it an error.
    Shorten the prompt (often a long system prompt or history) or raise Max Tokens.

    Remedy: by hand: shorten the prompt (often a long system prompt or history), or raise Max Tokens.

    Pass: max_tokens=40 {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"}]}
    Fail: max_tokens=40 {"messages": [{"role": "user", "content": "one two three four five six seven eight nine ten eleven twelve"}, {"role": "assistant", "content": "Hi"}]}
    """


#: What ``reply_cuts`` reads per record: line, templated tokens, trainable tokens, trainable
#: tokens kept at the limit, position of the first trainable token.
ReplyRow = tuple[int, int, int, int, int]


def reply_cuts(rows: Iterable[ReplyRow], limit: int, truncation: str = "right") -> Iterator[Finding]:
    """FT402 (some trainable tokens lost) and FT403 (none kept) for each ``ReplyRow``."""
    for line, total, trainable, kept, start in rows:
        if trainable <= 0 or kept >= trainable:
            continue
        lost = trainable - kept
        if kept:
            yield Finding(
                line,
                "FT402",
                "",
                f"the reply is cut: {lost:,} of its {trainable:,} trainable tokens fall past Max Tokens {limit:,} "
                f"(the record is {total:,} tokens with the chat template); shorten the conversation or raise Max Tokens",
            )
        elif truncation == "drop":
            yield Finding(
                line,
                "FT403",
                "",
                f"the record is {total:,} tokens with the chat template, over Max Tokens {limit:,}, and is left out of training "
                f'whole (truncation "drop"): all {trainable:,} trainable tokens are lost; shorten it or raise Max Tokens',
            )
        else:
            yield Finding(
                line,
                "FT403",
                "",
                f"the reply starts at token {start:,}, past Max Tokens {limit:,}: all {trainable:,} trainable tokens are cut "
                "and the record trains on nothing; shorten the prompt or raise Max Tokens",
            )
