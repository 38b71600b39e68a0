"""``rules/privacy.toml``: what FT601-FT606 and ``ftkit fix --redact`` look for, as one typed,
immutable object. Patterns stay strings here; ``ftkit.checks.sensitive`` compiles them.

Plain frozen dataclasses, checked by the profile loader's ``_build`` (no pydantic): ``ftkit
validate`` loads this file on every run, for its default kinds.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ftkit.errors import ProfileError
from ftkit.policy import rules_dir
from ftkit.policy.profile import _build


@dataclass(frozen=True)
class Mask:
    keep: int
    keep_from: int
    max_stars: int


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    placeholder: str
    in_validate: bool


@dataclass(frozen=True)
class EmailRules:
    source: str
    local: str
    domain: str
    reserved_domains: tuple[str, ...]
    reserved_tlds: tuple[str, ...]
    file_suffixes: tuple[str, ...]


@dataclass(frozen=True)
class PhoneRules:
    source: str
    mobile: str
    fixed: str
    international: str
    international_digits: tuple[int, ...]
    fictional: tuple[str, ...]


@dataclass(frozen=True)
class IdRules:
    source: str
    pattern: str
    weights: tuple[int, ...]
    check_characters: str
    region_prefixes: tuple[str, ...]
    min_birth_year: int


@dataclass(frozen=True)
class Issuer:
    name: str
    prefixes: tuple[str, ...]  # "4", or a range "2221-2720"
    lengths: tuple[int, ...]


@dataclass(frozen=True)
class CardRules:
    source: str
    pattern: str
    test_numbers: tuple[str, ...]
    issuers: tuple[Issuer, ...]


@dataclass(frozen=True)
class IpRules:
    source: str
    ipv4: str
    not_public: tuple[str, ...]
    ipv6_global: str
    version_words: tuple[str, ...]


@dataclass(frozen=True)
class SecretKey:
    name: str
    prefixes: tuple[str, ...]
    anchor: str
    pattern: str
    source: str


@dataclass(frozen=True)
class PasswordRules:
    keywords: tuple[str, ...]
    separators: tuple[str, ...]
    value: str
    stop: str
    min_length: int
    placeholder_starts: tuple[str, ...]
    placeholder_words: tuple[str, ...]
    placeholder_values: tuple[str, ...]


@dataclass(frozen=True)
class SecretRules:
    source: str
    placeholder_words: tuple[str, ...]
    min_distinct: int
    keys: tuple[SecretKey, ...]
    password: PasswordRules


@dataclass(frozen=True)
class PrivacyRules:
    """``rules/privacy.toml``."""

    version: int
    mask: Mask
    kinds: Mapping[str, Kind]
    email: EmailRules
    phone: PhoneRules
    id: IdRules
    card: CardRules
    ip: IpRules
    secret: SecretRules

    def kind_of(self, code: str) -> str | None:
        """The kind whose rule code is ``code`` (None for codes outside FT6xx)."""
        return next((name for name, kind in self.kinds.items() if kind.code == code), None)


KINDS = ("email", "phone", "id", "card", "ip", "secret")


@lru_cache(maxsize=4)
def load_privacy(path: str | None = None) -> PrivacyRules:
    """Load the privacy rules (default: ``rules/privacy.toml``)."""
    file = Path(path) if path else rules_dir() / "privacy.toml"
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        rules: PrivacyRules = _build(PrivacyRules, raw, "")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ProfileError) as exc:
        raise ProfileError(f"cannot read privacy rules {file}: {exc}") from None
    if tuple(rules.kinds) != KINDS:
        raise ProfileError(f"cannot read privacy rules {file}: [kinds] must be {', '.join(KINDS)}, in that order")
    for key in rules.secret.keys:
        if len(key.anchor) != 1 or not key.prefixes or not all(key.anchor in p for p in key.prefixes):
            raise ProfileError(f"cannot read privacy rules {file}: secret {key.name!r}: the anchor must be one character of every prefix")
    return rules


__all__ = ["KINDS", "PrivacyRules", "load_privacy"]
