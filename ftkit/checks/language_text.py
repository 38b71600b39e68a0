"""FT305's counting of letters per script (``rules/languages.toml``): a text's units per script.

A unit is about a word: a script's letters over its ``chars_per_unit``. Digits, punctuation and
emoji belong to no script. Text below U+0100 (English, most of French, German, Spanish...) needs
no numpy when the letters there all belong to one script: ``bytes.translate`` deletes the rest.
Other texts are looked up in a table of every code point, many texts in one numpy pass
(``ScriptCounter.units_many``, the same figures as one at a time); numpy (a tenth of a second to
import) is loaded with the first such text. A script that ``joins`` others (hiragana takes kanji
and katakana in) takes their units in a text where it holds at least its ``join_share``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ftkit.errors import ProfileError
from ftkit.policy.languages import LanguageTable

if TYPE_CHECKING:
    import numpy as np


class ScriptCounter:
    """Units per script of texts, in the order of ``table.scripts``."""

    def __init__(self, table: LanguageTable) -> None:
        self.scripts = scripts = table.scripts
        if len(scripts) > 254:
            raise ProfileError("rules/languages.toml: at most 254 scripts (one byte per code point)")
        self.per_unit = [1.0 / s.chars_per_unit for s in scripts]
        script_of = [0] * 256
        for i, script in enumerate(scripts):
            for lo, hi in script.ranges:
                for point in range(lo, min(hi, 255) + 1):
                    script_of[point] = i + 1
        latin1 = set(script_of) - {0}
        self.latin1_script = latin1.pop() - 1 if len(latin1) == 1 else None
        self.latin1_weight = self.per_unit[self.latin1_script] if self.latin1_script is not None else 0.0
        self.latin1_drop = bytes(i for i in range(256) if script_of[i] == 0)
        self.np: Any = None
        index = {s.name: i for i, s in enumerate(scripts)}
        #: (script, the scripts it joins, its join share)
        self.joins = [(index[s.name], [index[j] for j in s.joins], s.join_share) for s in scripts if s.joins]

    def units(self, sample: str) -> list[float]:
        """The units of each script in ``sample``."""
        if self.latin1(sample):
            units = [0.0] * len(self.scripts)
            units[self.latin1_script] = len(sample.encode("latin-1").translate(None, self.latin1_drop)) * self.latin1_weight  # type: ignore[index]  # latin1(): not None
            return units
        np_ = self._numpy()
        points = np_.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype=self.utf32)
        return self._joined((np_.bincount(self.lut[points], minlength=len(self.scripts) + 1)[1:] * self.weights).tolist())

    def units_many(self, texts: Sequence[str]) -> list[list[float]]:
        """``units`` of each text: text below U+0100 by ``bytes.translate``, all other texts
        together in one numpy pass (the same figures as one at a time)."""
        units: list[list[float]] = [[] for _ in texts]
        wide = []
        for i, t in enumerate(texts):
            if self.latin1(t):
                units[i] = self.units(t)
            else:
                wide.append(i)
        if wide:
            n = len(self.scripts) + 1
            np_ = self._numpy()
            points = np_.frombuffer("".join([texts[i] for i in wide]).encode("utf-32-le", "surrogatepass"), dtype=self.utf32)
            # each text's own bins: its row times n plus the script; two bytes a character will do
            # for a scan's batch (a quarter of the memory traffic of intp)
            bins_type = np_.uint16 if len(wide) * n <= 0x10000 else np_.intp
            owner = np_.repeat(np_.arange(0, len(wide) * n, n, dtype=bins_type), [len(texts[i]) for i in wide])
            bins = np_.bincount(self.lut[points] + owner, minlength=len(wide) * n).reshape(len(wide), n)
            for i, row in zip(wide, (bins[:, 1:] * self.weights).tolist()):
                units[i] = self._joined(row)
        return units

    def latin1(self, sample: str) -> bool:
        """True for text below U+0100 (English, most European languages), counted without numpy."""
        return self.latin1_script is not None and below_256(sample)

    def _numpy(self) -> Any:
        """numpy and the code point table, on first need."""
        if self.np is None:
            import numpy

            lut = numpy.zeros(0x110000, dtype=numpy.uint8)  # every code point: one lookup, no bounds test
            for i, script in enumerate(self.scripts):
                for lo, hi in script.ranges:
                    lut[lo : hi + 1] = i + 1  # 0: no script
            self.lut: np.ndarray[Any, np.dtype[np.uint8]] = lut
            self.weights = numpy.array(self.per_unit)
            self.utf32 = numpy.dtype("<u4")
            self.np = numpy
        return self.np

    def _joined(self, units: list[float]) -> list[float]:
        for script, joined, share in self.joins:
            own = units[script]
            if own and own >= share * (own + sum(units[j] for j in joined)):
                for j in joined:
                    units[script] += units[j]
                    units[j] = 0.0
        return units


def below_256(text: str) -> bool:
    """True when every character of ``text`` is below U+0100."""
    # C speed; max(text) walks the string in Python objects, ten times slower, and a failed
    # strict encode (most non-ASCII text here: Chinese) costs twice this in its exception
    return text.isascii() or len(text.encode("latin-1", "ignore")) == len(text)
