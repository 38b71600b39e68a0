"""``rules/languages.toml`` as an immutable table: scripts, languages, translation keywords and
what is not language at all (code, links), for FT305 (reply-language-mismatch)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ftkit.errors import ProfileError
from ftkit.policy import rules_dir
from ftkit.policy.profile import FrozenDict


@dataclass(frozen=True)
class Script:
    name: str
    ranges: tuple[tuple[int, int], ...]
    #: letters that make one unit (about a word)
    chars_per_unit: float
    #: written by several languages, which the identification library tells apart
    shared: bool = False
    #: scripts whose letters count as this one's in a text that has this one (kana takes kanji)
    joins: tuple[str, ...] = ()
    #: ... once this script has at least this share of their letters together
    join_share: float = 0.0


@dataclass(frozen=True)
class Language:
    code: str
    label: str
    scripts: tuple[str, ...]
    #: how requests name the language, lower case
    names: tuple[str, ...]
    #: words that mark a text as plainly this language (lower case)
    function_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Ignore:
    """Text that is not language (code, links): a pattern tried only where a ``when`` string is."""

    what: str
    pattern: str
    when: tuple[str, ...]
    #: on the whole message (fenced code) rather than on its judged start
    whole: bool = False


@dataclass(frozen=True)
class LanguageTable:
    scripts: tuple[Script, ...]
    languages: Mapping[str, Language]
    translation: tuple[str, ...]
    #: ASCII symbols of code (a message full of them is not judged)
    code_symbols: str
    #: groups of identification codes that count as one language
    same: tuple[frozenset[str], ...]
    ignore: tuple[Ignore, ...]


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ProfileError(f"{where} in rules/languages.toml must be a list of strings")
    return tuple(raw)


def _script(name: str, raw: Any) -> Script:
    where = f"scripts.{name}"
    try:
        ranges = tuple((int(lo), int(hi)) for lo, hi in raw["ranges"])
        per_unit = float(raw["chars_per_unit"])
    except (KeyError, TypeError, ValueError):
        raise ProfileError(f"{where} in rules/languages.toml needs ranges ([[first, last], ...]) and chars_per_unit") from None
    if per_unit <= 0 or any(not 0 <= lo <= hi <= 0x10FFFF for lo, hi in ranges):
        raise ProfileError(f"{where} in rules/languages.toml has a code point range or chars_per_unit out of bounds")
    joins = _strings(raw.get("joins", []), f"{where}.joins")
    return Script(name, ranges, per_unit, bool(raw.get("shared", False)), joins, float(raw.get("join_share", 0.0)))


@lru_cache(maxsize=1)
def language_table() -> LanguageTable:
    """The packaged table (read once)."""
    path = rules_dir() / "languages.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from None
    scripts = tuple(_script(name, spec) for name, spec in raw.get("scripts", {}).items())
    known = {s.name for s in scripts}
    languages = {}
    for code, spec in raw.get("languages", {}).items():
        written = spec.get("script")
        written = [written] if isinstance(written, str) else written
        if not isinstance(written, list) or not written or not set(written) <= known:
            raise ProfileError(f"languages.{code}.script in rules/languages.toml must name known scripts, not {spec.get('script')!r}")
        names = tuple(n.casefold() for n in _strings(spec.get("names", []), f"languages.{code}.names"))
        words = frozenset(w.casefold() for w in _strings(spec.get("function_words", []), f"languages.{code}.function_words"))
        languages[code] = Language(code, str(spec.get("label", code)), tuple(written), names, words)
    for s in scripts:
        if not set(s.joins) <= known:
            raise ProfileError(f"scripts.{s.name}.joins in rules/languages.toml names an unknown script")
    ident = raw.get("identification", {})
    ignore = []
    for i, spec in enumerate(raw.get("ignore", [])):
        if not isinstance(spec, dict) or not isinstance(spec.get("pattern"), str):
            raise ProfileError(f"ignore[{i}] in rules/languages.toml needs a pattern")
        try:
            re.compile(spec["pattern"], re.ASCII | re.MULTILINE)
        except re.error as exc:
            raise ProfileError(f"ignore[{i}] ({spec.get('what', '')}) in rules/languages.toml: {exc}") from None
        when = _strings(spec.get("when", []), f"ignore[{i}].when")
        ignore.append(Ignore(str(spec.get("what", "")), spec["pattern"], when, bool(spec.get("whole", False))))
    return LanguageTable(
        scripts=scripts,
        languages=FrozenDict(languages),
        code_symbols=str(raw.get("code", {}).get("symbols", "")),
        translation=tuple(k.casefold() for k in _strings(raw.get("translation", {}).get("keywords", []), "translation.keywords")),
        same=tuple(frozenset(_strings(group, "identification.same")) for group in ident.get("same", [])),
        ignore=tuple(ignore),
    )
