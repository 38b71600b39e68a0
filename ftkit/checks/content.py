"""FT3xx: what the messages say."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ftkit.checks import Problem, batch_of, pointer, rule
from ftkit.policy.profile import DataRules, LanguageRules

if TYPE_CHECKING:
    from ftkit.checks.language import LanguageJudge


def _contents(record: Any) -> Iterator[tuple[int, str]]:
    if isinstance(record, dict) and isinstance(record.get("messages"), list):
        for i, msg in enumerate(record["messages"]):
            if isinstance(msg, dict) and isinstance(msg.get("content"), str):
                yield i, msg["content"]


@rule("FT301", "empty-content")
def empty_content(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content is empty or only whitespace.

    Why: an empty assistant reply teaches the model to say nothing; an empty user turn is noise.

    Remedy: by hand: write the message, or drop the turn.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "  "}]}
    """
    for i, text in _contents(record):
        if not text or text.isspace():
            what = "empty" if not text else "only whitespace"
            yield pointer("messages", i, "content"), f"content is {what}; write the message or drop the turn"


@rule("FT302", "template-token-in-content")
def template_token_in_content(record: Any, rules: DataRules) -> Iterator[Problem]:
    """Content contains a chat-template special token such as <|im_end|>.

    Why: the tokenizer reads it as the control token, not as text, which cuts the training
    sequence short or fakes a turn boundary. Remove or escape it.

    Remedy: by hand: remove or reword the token.

    Pass: {"messages": [{"role": "user", "content": "What is <b>?"}, {"role": "assistant", "content": "Bold."}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!<|im_end|>"}]}
    """
    for i, text in _contents(record):
        found = [tok for tok in rules.special_tokens if tok in text]
        if found:
            names = ", ".join(found)
            yield (
                pointer("messages", i, "content"),
                f"content contains the chat-template token{'s' if len(found) > 1 else ''} {names}; the model would read it as a control token, not text",
            )


@lru_cache(maxsize=8)
def _role_prefix(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"\s*(?:{names})\s*[:：]", re.IGNORECASE)


@rule("FT303", "role-name-in-content")
def role_name_in_content(record: Any, rules: DataRules) -> Iterator[Problem]:
    """Content starts with a speaker label such as "User:", "Assistant:" or "Human:".

    Why: the chat template already marks who speaks; a label left over from a transcript is
    learned as part of the reply, and the model starts answering with "Assistant:".

    Remedy: by hand: remove the label.

    Pass: {"messages": [{"role": "user", "content": "Translate: user"}, {"role": "assistant", "content": "用户"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Assistant: Hello!"}]}
    """
    if not rules.role_prefixes:
        return
    match = _role_prefix(tuple(rules.role_prefixes)).match
    for i, text in _contents(record):
        found = match(text)
        if found:
            label = found.group(0).strip()
            yield (
                pointer("messages", i, "content"),
                f"content starts with the speaker label {label!r}; remove it, the chat template marks the role",
            )


_JUDGES: dict[int, tuple[LanguageRules, LanguageJudge]] = {}


def _language_judge(thresholds: LanguageRules) -> LanguageJudge:
    """One judge per profile's thresholds (found by identity: hashing them costs more per record)."""
    known = _JUDGES.get(id(thresholds))
    if known is None or known[0] is not thresholds:
        # imported here: a plain `ftkit validate` never needs the judge
        from ftkit.checks.language import LanguageJudge
        from ftkit.policy.languages import language_table

        known = _JUDGES[id(thresholds)] = (thresholds, LanguageJudge(thresholds, language_table()))
    return known[1]


@rule("FT305", "reply-language-mismatch", costly=True)
def reply_language_mismatch(record: Any, rules: DataRules) -> Iterator[Problem]:
    r"""The final assistant reply is in another language than the user message it answers.

    Why: a model learns the switch along with the answer; it is the failure in the fine-tuning
    guide's own before/after table, where the base model answers a Chinese prompt in English.
    Decided by each message's script share (Han, Latin, Cyrillic, Arabic, Hangul, kana, ...: the
    tables are rules/languages.toml) and, inside one script written by several languages, by the
    offline library CLD2 when it is sure of both. Code, numbers, links, quoted words and short
    messages (thresholds in the profile's [data.language]) are not judged. A translation is not a
    mismatch: a system prompt or user message that asks to translate, or names the reply's
    language ("翻译成英文", "answer in French"), asked for it. Runs where tokens are counted:
    ``ftkit validate --tokens`` and ``ftkit report``.

    Remedy: by hand: rewrite the reply in the user's language, or say in the system prompt which language to answer in.

    Pass: {"messages": [{"role": "user", "content": "为什么天空是蓝色的？"}, {"role": "assistant", "content": "因为空气对蓝光的散射比对红光强得多，所以天空看起来是蓝色的。"}]}
    Pass: {"messages": [{"role": "user", "content": "请把这句话翻译成英文：今天的会议推迟到下午三点。"}, {"role": "assistant", "content": "Today's meeting has been moved to three o'clock this afternoon."}]}
    Pass: {"messages": [{"role": "user", "content": "用 Python 写一个函数，判断字符串是不是回文。"}, {"role": "assistant", "content": "```python\ndef is_palindrome(s):\n    return s == s[::-1]\n```"}]}
    Fail: {"messages": [{"role": "user", "content": "为什么天空是蓝色的？"}, {"role": "assistant", "content": "Because the air scatters blue light much more strongly than red light, so the sky looks blue."}]}
    Fail: {"messages": [{"role": "user", "content": "Pourquoi le ciel est-il bleu pendant la journée et rouge au coucher du soleil ?"}, {"role": "assistant", "content": "Because the air scatters short blue wavelengths much more strongly than long red ones, the sky looks blue during the day."}]}
    """
    yield from reply_language_mismatches([record], rules)[0]


@batch_of("FT305")
def reply_language_mismatches(records: Sequence[Any], rules: DataRules) -> list[list[Problem]]:
    """FT305 for many records: their quick script counts in one pass."""
    messages = [r.get("messages") if isinstance(r, dict) else None for r in records]
    judged = iter(_language_judge(rules.language).judge_many([m for m in messages if isinstance(m, list)]))
    out: list[list[Problem]] = []
    for m in messages:
        found = next(judged) if isinstance(m, list) else None
        out.append([(pointer("messages", found[0], "content"), found[1])] if found is not None else [])
    return out


@rule("FT304", "media-placeholder")
def media_placeholder(record: Any, rules: DataRules) -> Iterator[Problem]:
    """Content holds a media placeholder such as <image>, <video> or <audio>.

    Why: multimodal datasets mark where an image goes with such a tag, but SiliconFlow's chat
    fine-tuning takes text only: the model would learn the tag as words and reply about an image
    it never saw. The placeholders are the profile's ``media_placeholders``.

    Remedy: `ftkit convert` (rejects records that refer to media, and says how many); rewrite them as text by hand.

    Pass: {"messages": [{"role": "user", "content": "What is an <img> tag?"}, {"role": "assistant", "content": "HTML for an image."}]}
    Fail: {"messages": [{"role": "user", "content": "<image>Who are they?"}, {"role": "assistant", "content": "Two players."}]}
    """
    marks = rules.media_placeholders
    if not marks:
        return
    for i, text in _contents(record):
        if "<" in text:
            found = [m for m in marks if m in text]
            if found:
                counts = ", ".join(f"{m} ×{text.count(m)}" if text.count(m) > 1 else m for m in found)
                yield (
                    pointer("messages", i, "content"),
                    f"content holds the media placeholder{'s' if len(found) > 1 or text.count(found[0]) > 1 else ''} {counts}; "
                    "chat fine-tuning takes text only, so the model would learn the tag as words",
                )
