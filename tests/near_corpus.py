"""A generated corpus for FT504: families of edited copies mixed with unrelated records.

Shared by tests/test_near_duplicates.py and benchmarks/bench_near_duplicates.py. Each family is
a base record and 1-3 copies; a copy gets word-level edits (adjacent words swapped, a word
inserted, deleted or replaced; characters for Chinese) at ``edit_every`` units per edit (at
least one), plus edits that should not count: punctuation, whitespace and case. Unrelated
records include hard negatives: records that share a long instruction with others but answer
something else.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

EN = ["order", "address", "delivery", "courier", "parcel", "refund", "payment", "account", "password", "login", "email", "phone", "invoice", "price", "discount", "member", "points", "warehouse", "shipping", "return", "exchange", "product", "size", "colour", "stock", "cart", "checkout", "coupon", "service", "support", "model", "data", "training", "file", "record", "message", "token", "learning", "rate", "batch", "epoch", "server", "request", "response", "error", "log", "config", "format", "check", "validate", "result", "report", "please", "could", "would", "should", "must", "can", "will", "may", "first", "second", "finally", "example", "step", "note", "important", "confirm", "cancel", "update", "save", "delete", "add", "query", "translate", "summarize", "explain", "customer", "network", "latency", "memory", "disk", "stable", "secure", "quickly", "python", "json", "api", "http", "gpu", "cpu", "the", "a", "an", "of", "to", "and", "in", "is", "it", "that", "for", "on", "with", "as", "was", "by"]
ZH = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理"
PUNCT_EN = [",", ".", ";", "!", "?", " -", ":"]
PUNCT_ZH = ["，", "。", "；", "！", "？", "、", "："]


@dataclass
class Corpus:
    lines: list[str] = field(default_factory=list)
    family: list[int] = field(default_factory=list)  # per line: its family (-1: unrelated)

    def positives(self) -> set[int]:
        """1-based lines that have an earlier line of their family."""
        seen: set[int] = set()
        out = set()
        for n, fam in enumerate(self.family, 1):
            if fam >= 0:
                if fam in seen:
                    out.add(n)
                seen.add(fam)
        return out

    def score(self, found: list[tuple[int, int]]) -> tuple[float, float]:
        """(recall, precision) of ``found`` = [(line, line it names)]."""
        right = {line for line, first in found if self.family[line - 1] >= 0 and self.family[line - 1] == self.family[first - 1]}
        positives = self.positives()
        recall = len(right & positives) / len(positives) if positives else 1.0
        precision = len(right) / len(found) if found else 1.0
        return recall, precision


def _words(rng: random.Random, zh: bool, count: int) -> list[str]:
    return rng.choices(ZH, k=count) if zh else rng.choices(EN, k=count)


def _render(rng: random.Random, units: list[str], zh: bool) -> str:
    """Units as text, with punctuation every few units."""
    out = []
    for i, unit in enumerate(units):
        out.append(unit)
        if rng.random() < 0.1 and i + 1 < len(units):
            out.append(rng.choice(PUNCT_ZH if zh else PUNCT_EN))
        if not zh:
            out.append(" ")
    return "".join(out).strip()


def _edit(rng: random.Random, units: list[str], zh: bool, edits: int) -> list[str]:
    units = list(units)
    for _ in range(edits):
        at = rng.randrange(len(units) - 1)
        kind = rng.choice(("swap", "insert", "delete", "replace"))
        if kind == "swap":
            units[at], units[at + 1] = units[at + 1], units[at]
        elif kind == "insert":
            units.insert(at, _words(rng, zh, 1)[0])
        elif kind == "delete":
            del units[at]
        else:
            units[at] = _words(rng, zh, 1)[0]
    return units


def _noise(rng: random.Random, text: str, zh: bool) -> str:
    """Edits that must not count: punctuation, whitespace, case."""
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(("punct", "space", "case"))
        if kind == "punct":  # between two words (any two characters in Chinese)
            at = rng.randrange(len(text)) if zh else text.find(" ", rng.randrange(len(text)))
            if at > 0:
                text = text[:at] + rng.choice(PUNCT_ZH if zh else PUNCT_EN) + text[at:]
        elif kind == "space":
            text = text.replace(" ", "  ", 1) if not zh else text.replace("，", " ，", 1)
        else:
            text = text.upper() if rng.random() < 0.2 else text.capitalize()
    return text


def _record(user: str, answer: str, system: str | None = None) -> str:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": msgs}, ensure_ascii=False)


def make_corpus(seed: int = 15, families: int = 300, unrelated: int = 900, edit_every: int = 60) -> Corpus:
    """Families of edited copies and unrelated records, shuffled (see the module docstring)."""
    rng = random.Random(seed)
    items: list[tuple[str, int]] = []
    previous: tuple[list[str], list[str], bool] | None = None
    instructions = [_render(rng, _words(rng, False, 40), False) for _ in range(3)]
    for fam in range(families + unrelated):
        zh = rng.random() < 0.5
        long = rng.random() < 0.15
        user = _words(rng, zh, rng.randint(10, 40))
        answer = _words(rng, zh, rng.randint(300, 900) if long else rng.randint(50, 300))
        system = "You are a helpful assistant." if rng.random() < 0.5 else None
        if fam >= families:
            if rng.random() < 0.2:  # a hard negative: a shared instruction, its own question and answer
                items.append((_record(rng.choice(instructions) + "\n" + _render(rng, user, zh), _render(rng, answer, zh)), -1))
            elif rng.random() < 0.15 and previous:  # another: the same question, half the answer rewritten
                user, answer, zh = previous
                answer = answer[: len(answer) // 2] + _words(rng, zh, len(answer) - len(answer) // 2)
                items.append((_record(_render(rng, user, zh), _render(rng, answer, zh)), -1))
            else:
                items.append((_record(_render(rng, user, zh), _render(rng, answer, zh), system), -1))
                previous = (user, answer, zh)
            continue
        items.append((_record(_render(rng, user, zh), _render(rng, answer, zh), system), fam))
        for _ in range(rng.randint(1, 3)):
            edits = max(1, round((len(user) + len(answer)) / edit_every))
            share = len(user) / (len(user) + len(answer))
            on_user = sum(rng.random() < share for _ in range(edits))
            copy_user = _noise(rng, _render(rng, _edit(rng, user, zh, on_user), zh), zh)
            copy_answer = _noise(rng, _render(rng, _edit(rng, answer, zh, edits - on_user), zh), zh)
            items.append((_record(copy_user, copy_answer, system if rng.random() < 0.7 else "Answer briefly."), fam))
    items_in_order = list(items)
    rng.shuffle(items)
    # a copy is made from a record already there: each family's base takes its first position
    bases = {fam: line for line, fam in reversed(items_in_order) if fam >= 0}
    slots: dict[int, list[int]] = {}
    for at, (_, fam) in enumerate(items):
        slots.setdefault(fam, []).append(at)
    for fam, at in slots.items():
        if fam >= 0:
            copies = [line for line, f in items_in_order if f == fam and line != bases[fam]]
            for slot, line in zip(at, [bases[fam], *copies]):
                items[slot] = (line, fam)
    return Corpus([line for line, _ in items], [fam for _, fam in items])
