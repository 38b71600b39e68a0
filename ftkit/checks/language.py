"""FT305's judge: which language a message is written in, and whether the final reply switched.

Scripts first: each message's letters are counted per script (``rules/languages.toml``;
``ftkit.checks.language_text``) on its first ``sample_chars`` characters; digits, punctuation and
emoji belong to no script. A unit is about a word (a script's letters over its
``chars_per_unit``), and a text is in the script that holds at least ``dominant_share`` of its
units. Two different scripts are two languages (Japanese is kana with kanji, and a Han-only
text may be Japanese too, so it must be long to count as Chinese against Japanese). Inside one
script written by several languages (Latin, Cyrillic, Arabic) the offline identification
library CLD2 (``pycld2``: its model is compiled in, nothing is downloaded) tells them apart, and
only when it calls both texts reliable.

A message is judged on its first and last characters (``sample_chars`` in all). Passes of
growing cost keep it cheap: two texts below U+0100 that plainly use one language's function
words (English with English) are alike at once; a quick count (only fenced code removed)
settles most other records; a record it suspects is counted again without anything that is not
language (inline code, links, tags, quoted words, code-like names and lines: the ``[[ignore]]``
table), skipped if it is mostly code symbols, judged again, and only then checked for a request
of the reply's language (``asked_for``) or a line quoting it (``_quotes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ftkit.checks.language_text import ScriptCounter, below_256
from ftkit.policy.languages import Language, LanguageTable
from ftkit.policy.profile import LanguageRules

_PLAIN_CHARS = 160  # function words are dense: the start of a text shows them

#: (language code, percent of the text) pairs, most likely first; None when the library is unsure.
#: A function of the text alone: the judge asks once per text and batch (``_identify``).
Identify = Callable[[str], "list[tuple[str, float]] | None"]


_UNASKED: Any = object()


def cld2_identify(text: str) -> list[tuple[str, float]] | None:
    """CLD2's reading of ``text``: its languages with their share of the text, or None."""
    try:
        import pycld2
    except ImportError:  # no wheel for this platform and no compiler: scripts alone decide
        return None
    try:
        reliable, _, details = pycld2.detect(text, isPlainText=True)
    except (pycld2.error, UnicodeEncodeError):  # not valid UTF-8: a lone surrogate (an FT016 error, unless ignored)
        return None
    if not reliable:
        return None
    return [(code, float(pct)) for _, code, pct, _ in details if code not in ("un", "xxx") and pct > 0] or None


class Counted:
    """One message as counted: units per script, the script that dominates it (-1: none) and
    (careful counts) its share of code symbols."""

    __slots__ = ("code_share", "sample", "script", "share", "total", "units")

    def __init__(self, sample: str, units: list[float], dominant_share: float, code_share: float = 0.0) -> None:
        self.sample, self.units, self.code_share = sample, units, code_share
        self.total = total = sum(units)
        top = max(units)
        self.share = top / total if total else 0.0
        self.script = units.index(top) if total and self.share >= dominant_share else -1


class LanguageJudge:
    """Decides FT305 for one record's messages (``judge``)."""

    def __init__(self, rules: LanguageRules, table: LanguageTable, identify: Identify = cld2_identify) -> None:
        self.rules, self.table, self.identify = rules, table, identify
        self.said: dict[str, list[tuple[str, float]] | None] = {}  # this batch's ``identify`` answers
        self.counter = counter = ScriptCounter(table)
        self.scripts = scripts = counter.scripts
        self.joins = counter.joins
        self.code_symbols = table.code_symbols.encode("ascii", "ignore")
        index = {s.name: i for i, s in enumerate(scripts)}
        flags = re.ASCII | re.MULTILINE
        # the character all of an entry's `when` strings start with: searched first, since
        # "`" in text costs a seventh of "```" in text (memchr), and whole entries run on every message
        self.whole = [(_first(i.when), i.when, re.compile(i.pattern, flags).sub) for i in table.ignore if i.whole]
        self.noise = [(i.when, re.compile(i.pattern, flags).sub) for i in table.ignore if not i.whole]
        self.same = {code: group for group in table.same for code in group}
        self.plain: dict[str, tuple[str, ...]] = {}  # function word -> the languages that have it
        for lang in table.languages.values():
            for word in lang.function_words:
                self.plain[word] = (*self.plain.get(word, ()), lang.code)
        self.plain_words = frozenset(self.plain)
        self.languages_of: list[list[Language]] = [[] for _ in scripts]
        for lang in table.languages.values():
            for name in lang.scripts:
                self.languages_of[index[name]].append(lang)
        self.names_of = [tuple(n for lang in langs for n in lang.names) for langs in self.languages_of]

    # --- counting -----------------------------------------------------------------------------------

    def count(self, text: str, careful: bool = False) -> Counted:
        """``text`` counted on its first ``sample_chars`` characters (fenced code removed; when
        ``careful``, everything else that is not language too)."""
        sample, code_share = self._sample(text), 0.0
        if careful:
            sample, code_share = self._careful(sample)
        return Counted(sample, self.counter.units(sample), self.rules.dominant_share, code_share)

    def _count_pairs(self, pairs: Sequence[tuple[str, str]], careful: bool = False) -> list[tuple[Counted, Counted]]:
        """``count`` of each pair of samples, all texts in one numpy pass (``units_many``)."""
        texts = [t for pair in pairs for t in pair]
        shares = [0.0] * len(texts)
        if careful:
            for i, t in enumerate(texts):
                texts[i], shares[i] = self._careful(t)
        units = self.counter.units_many(texts)
        share = self.rules.dominant_share
        counted = [Counted(t, u, share, c) for t, u, c in zip(texts, units, shares)]
        return list(zip(counted[::2], counted[1::2]))

    def _careful(self, sample: str) -> tuple[str, float]:
        """A sample without anything that is not language, and its share of code symbols."""
        raw = sample.encode("utf-8", "surrogatepass")
        visible = len(raw) - raw.count(b" ") - raw.count(b"\n") or 1
        code_share = (len(raw) - len(raw.translate(None, self.code_symbols))) / visible
        for when, sub in self.noise:
            if _holds(sample, when):
                sample = sub(" ", sample)
        return sample, code_share

    def _sample(self, text: str) -> str:
        for first, when, sub in self.whole:
            if first in text and _holds(text, when):
                text = sub(" ", text)
        size = self.rules.sample_chars
        # the start and the end: a long request often ends with its question
        return text if len(text) <= size else f"{text[: size - size // 3]}\n{text[-(size // 3) :]}"

    # --- the decision -------------------------------------------------------------------------------

    def judge(self, messages: Sequence[Any]) -> tuple[int, str] | None:
        """(index of the final reply, message) when the reply is in another language than the
        user message it answers and nothing asked for that; None otherwise, or when it cannot be
        told (too short, mixed, code, unsure)."""
        return self.judge_many([messages])[0]

    def judge_many(self, records: Sequence[Sequence[Any]]) -> list[tuple[int, str] | None]:
        """``judge`` of each record's messages; the quick script counts of all of them in one
        numpy pass (a few microseconds a record instead of fifteen), and the careful counts of
        those it suspects in another."""
        started = [self._start(messages) for messages in records]
        todo = [(s[2], s[3]) for s in started if s is not None]
        if not todo:  # all plainly one language (one English record alone, say)
            return [None] * len(started)
        self.said.clear()
        counted = iter(self._count_pairs(todo))
        suspects = [None if s is None else self._suspect(s, *next(counted)) for s in started]
        todo = [(s[2].sample, s[3].sample) for s in suspects if s is not None]
        if not todo:
            return [None] * len(suspects)
        careful = iter(self._count_pairs(todo, careful=True))
        return [None if s is None else self._confirm(s[0], s[1], *next(careful)) for s in suspects]

    def _start(self, messages: Sequence[Any]) -> tuple[Sequence[Any], int, str, str, str, str] | None:
        """The final reply and the user message it answers, sampled: (messages, index of that
        user message, reply sample, user sample, reply, user text); None when there is nothing
        to judge or the two are plainly one language."""
        if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
            return None
        reply_text = messages[-1].get("content")
        asked = len(messages) - 2
        while asked >= 0 and _role(messages[asked]) != "user":
            asked -= 1
        if asked < 0 or not isinstance(reply_text, str) or not isinstance(user_text := messages[asked].get("content"), str):
            return None
        reply_sample, user_sample = self._sample(reply_text), self._sample(user_text)
        if self._plain_pair(reply_sample, user_sample):
            return None
        return messages, asked, reply_sample, user_sample, reply_text, user_text

    def _suspect(self, started: tuple[Sequence[Any], int, str, str, str, str], quick_reply: Counted,
                 quick_user: Counted) -> tuple[Sequence[Any], int, Counted, Counted] | None:  # fmt: skip
        """``judge`` once the quick counts are known: (messages, index of the user message, the
        two quick counts) when the record is to be counted carefully, None when it is settled."""
        messages, asked, _, _, _, user_text = started
        rules = self.rules
        if quick_reply.total < rules.min_reply_units or quick_reply.script < 0:
            return None  # most records stop here or at the next test
        if quick_user.total < rules.min_identify_units and asked > 1:
            # a short turn ("continue", "続き") is in the language of the conversation
            users = [m["content"] for m in messages[:asked] if _role(m) == "user" and isinstance(m.get("content"), str)]
            if users:
                user_text = "\n".join([user_text, *reversed(users)])
                quick_user = self.count(user_text)
        if self._differ(quick_reply, quick_user) is None:
            return None
        return messages, asked, quick_reply, quick_user

    def _confirm(self, messages: Sequence[Any], asked: int, reply: Counted, user: Counted) -> tuple[int, str] | None:
        """The rest of ``judge`` once the careful counts of a suspect are known."""
        limit = self.rules.max_code_share
        if reply.code_share > limit or user.code_share > limit:
            return None
        found = self._differ(reply, user)
        if found is None or self._quotes(user, reply, found[0]) or self.asked_for(messages, reply, found[0]):
            return None
        return len(messages) - 1, (
            f"the final reply is in {self._label(reply, found[0])} but the user message it answers (/messages/{asked}) is in "
            f"{self._label(user, found[1])}; a model trained on it learns to answer in another language: translate or "
            "regenerate the reply, or say in the prompt which language to answer in"
        )

    def _differ(self, reply: Counted, user: Counted) -> tuple[str | None, str | None] | None:
        """The two languages (codes, None where only the script is known) when they differ."""
        rules = self.rules
        if reply.total < rules.min_reply_units or reply.script < 0 or user.total < rules.min_prompt_units or user.script < 0:
            return None
        if reply.script != user.script:
            if self._maybe_japanese(reply, user):
                return None
            named = self._named(reply), self._named(user)
            return None if named[0] is not None and named[0] == named[1] else named  # e.g. hiragana and katakana
        if not self.scripts[reply.script].shared or reply.total < rules.min_identify_units or user.total < rules.min_identify_units:
            return None
        if self._plainly_alike(reply.sample, user.sample):
            return None
        said_reply = self._identify(reply.sample)
        said_user = self._identify(user.sample) if said_reply else None
        if not said_reply or not said_user:
            return None
        top_reply, top_user = said_reply[0][0], said_user[0][0]
        if self._alike(top_reply, [c for c, _ in said_user]) or self._alike(top_user, [c for c, _ in said_reply]):
            return None  # one language, or each text holds some of the other's
        return top_reply, top_user

    def _identify(self, text: str) -> list[tuple[str, float]] | None:
        """``identify``, asked once per text in a batch: on the report benchmark's records half of
        its calls were repeats (a careful sample is often its quick one, nothing removed). Only
        misses if another thread's batch clears it: the answers depend on the text alone (and a
        miss is told by a sentinel, not by ``in`` then ``[]``, which a clear between them breaks)."""
        said = self.said.get(text, _UNASKED)
        if said is _UNASKED:
            said = self.said[text] = self.identify(text)
        return said

    def _quotes(self, user: Counted, reply: Counted, reply_code: str | None) -> bool:
        """True when a line of the user message is in the reply's language: the message quotes
        material, or asks about words, in another language ("What does this mean?\n\n超次元の…")."""
        for line in user.sample.splitlines():
            units = self.counter.units(line)
            if units[reply.script] < self.rules.bilingual_units or units[reply.script] < self.rules.dominant_share * sum(units):
                continue
            if not self.scripts[reply.script].shared:
                return True
            said = self._identify(line)
            if not said or reply_code is None or self._alike(reply_code, [c for c, _ in said]):
                return True  # unsure counts as the same: never flag on a guess
        return False

    def _plain_pair(self, reply: str, user: str) -> bool:
        """The common case settled first and cheaply: two texts below U+0100 (English, most
        European languages) plainly in one language by their function words."""
        if not self.plain or not below_256(reply) or not below_256(user):
            return False
        first = self._plain_language(reply)
        return first is not None and first == self._plain_language(user)

    def _plainly_alike(self, a: str, b: str) -> bool:
        """Both texts are plainly one language by its function words (a shortcut past the library)."""
        if not self.plain:
            return False
        first = self._plain_language(a)
        return first is not None and first == self._plain_language(b)

    def _plain_language(self, text: str) -> str | None:
        """The language whose function words the text uses: at least two, and at least twice as
        many as of any other language's; None when no language stands out."""
        found = self.plain_words.intersection(text[:_PLAIN_CHARS].lower().split())  # "the," is missed: more words remain
        if len(found) < 2:
            return None
        hits: dict[str, int] = {}
        for word in found:
            for code in self.plain[word]:
                hits[code] = hits.get(code, 0) + 1
        best, top, second = None, 0, 0
        for code, n in hits.items():
            if n > top:
                best, top, second = code, n, top
            elif n > second:
                second = n
        return best if top >= 2 and top >= 2 * second else None

    def _alike(self, code: str, others: list[str]) -> bool:
        group = self.same.get(code, frozenset((code,)))
        return any(o == code or o in group or o.split("-")[0] in group for o in others)

    def _maybe_japanese(self, reply: Counted, user: Counted) -> bool:
        """Han characters alone may be Japanese written in kanji: against Japanese, only a long
        Han-only text counts as another language."""
        for joiner, joined, _ in self.joins:
            for a, b in ((reply, user), (user, reply)):
                if a.script == joiner and b.script in joined and b.total < self.rules.min_identify_units:
                    return True
        return False

    def _named(self, text: Counted) -> str | None:
        """A text's language when its script names it: the script's one language, else (a shared
        script) what the library says when it is sure."""
        langs = self.languages_of[text.script]
        if not self.scripts[text.script].shared:
            return langs[0].code if len(langs) == 1 else None
        if text.total >= self.rules.min_identify_units and (said := self._identify(text.sample)):
            return said[0][0]
        return None

    def _label(self, text: Counted, code: str | None) -> str:
        lang = self.table.languages.get(code or "")
        return lang.label if lang is not None else code or f"a {self.scripts[text.script].name}-script language"

    def asked_for(self, messages: Sequence[Any], reply: Counted, code: str | None) -> bool:
        """True when the system prompt or a user message asks for a translation, or names the
        reply's language (its identified language; else any language of its script).

        This is how a translation task tells itself: "翻译成英文", "Translate into French",
        "Übersetze ins Englische", a system prompt "You are a translator", or any request that
        names the language of the reply ("answer in English", "用中文回答", "auf Deutsch")."""
        lang = self.table.languages.get(code or "")
        names = lang.names if lang is not None else self.names_of[reply.script]
        words = (*self.table.translation, *names)
        for m in messages[:-1]:
            if _role(m) in ("system", "user") and isinstance(text := m.get("content"), str):
                folded = text.casefold()
                if any(word in folded for word in words):
                    return True
        return False


def _holds(text: str, when: tuple[str, ...]) -> bool:
    for w in when:  # noqa: SIM110  # a plain loop: any() with a generator costs more here, on every message
        if w in text:
            return True
    return False


def _first(when: tuple[str, ...]) -> str:
    firsts = {w[:1] for w in when}
    return firsts.pop() if len(firsts) == 1 else ""


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None
