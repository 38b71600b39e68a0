"""Platform profiles: the data in ``rules/profiles/*.toml`` loaded into one typed, immutable object.

A profile may ``extends = "other"`` another; tables are merged key by key, the child winning.
Profiles are cached, so they are deeply immutable (tuples and read-only mappings): changing one
would change every later command.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from ftkit.errors import ProfileError
from ftkit.policy import rules_dir

Severity = Literal["error", "warning", "info"]
#: What training does with a record longer than Max Tokens: cut at the right, or drop it whole.
Truncation = Literal["right", "drop"]


class FrozenDict(Mapping[str, Any]):
    """A read-only mapping (picklable, hashable by identity), for the tables of a cached profile."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (self._data,))


# Plain frozen dataclasses, checked by ``_build`` below: every ftkit command loads a profile,
# and pydantic models cost ~70 ms of start-up here, which the pre-commit hook would pay per run.


@dataclass(frozen=True)
class LanguageRules:
    """Thresholds of FT305 reply-language-mismatch (ftkit's choices, not platform facts). A unit is
    about a word: a script's letters divided by its chars_per_unit in rules/languages.toml, which
    holds the script and language tables."""

    #: a final reply with fewer units is not judged (short replies, numbers, links, code alone)
    min_reply_units: float = 6.0
    #: nor a reply to a user message with fewer
    min_prompt_units: float = 2.0
    #: two languages of one script (told apart by the identification library), or Han characters
    #: alone against Japanese, are judged only when both texts have this many
    min_identify_units: float = 8.0
    #: a text is in a script when that script has at least this share of its units
    dominant_share: float = 0.7
    #: a user message with a line of this many units in the reply's language is bilingual (it
    #: quotes material, or asks about words in another language): not judged
    bilingual_units: float = 3.0
    #: a message whose judged start has more than this share of code symbols is code: not judged
    max_code_share: float = 0.05
    #: characters judged at the start of each message, after removing code and links
    sample_chars: int = 300


@dataclass(frozen=True)
class DataRules:
    extensions: tuple[str, ...]
    roles: tuple[str, ...]
    record_keys: tuple[str, ...]
    message_keys: tuple[str, ...]
    min_records: int
    max_line_bytes: int
    role_aliases: Mapping[str, str] = field(default_factory=FrozenDict)
    #: Speaker labels that should not open a message's content (FT303).
    role_prefixes: tuple[str, ...] = ()
    #: Chat-template control tokens of the default model's tokenizer (from rules/tokenizers.toml).
    special_tokens: tuple[str, ...] = ()
    #: FT305's thresholds
    language: LanguageRules = field(default_factory=LanguageRules)
    #: Placeholders that stand for an image, a video or audio in multimodal data (FT304).
    media_placeholders: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityRules:
    """Thresholds of the dataset quality rules (not platform facts: ftkit's choices)."""

    short_reply_ratio: float = 0.1
    short_reply_min_median: int = 40
    short_reply_min_records: int = 20
    #: The share of a file's records that must have one shape for the file-level line (FileShape).
    file_shape_share: float = 0.5
    #: FT504: Jaccard similarity of two records' shingle sets from which they are near-duplicates
    near_duplicate_threshold: float = 0.8
    #: units (words; single Chinese/Japanese characters) per shingle
    near_duplicate_shingle: int = 5
    #: locality-sensitive hashing: bands x rows MinHash values per record
    near_duplicate_bands: int = 14
    near_duplicate_rows: int = 8
    #: characters of each record's text the signature reads (its first and last half; 0: all)
    near_duplicate_sample: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.near_duplicate_threshold <= 1:
            raise ProfileError(f"quality.near_duplicate_threshold is {self.near_duplicate_threshold}, expected a number in (0, 1]")
        for name in ("near_duplicate_shingle", "near_duplicate_bands", "near_duplicate_rows"):
            if getattr(self, name) < 1:
                raise ProfileError(f"quality.{name} is {getattr(self, name)}, expected 1 or more")
        if self.near_duplicate_bands * self.near_duplicate_rows > 1024:
            raise ProfileError("quality.near_duplicate_bands x near_duplicate_rows is over 1024; MinHash signatures that long buy nothing")
        if self.near_duplicate_sample < 0:
            raise ProfileError(f"quality.near_duplicate_sample is {self.near_duplicate_sample}, expected 0 (the whole text) or more")


@dataclass(frozen=True)
class OverlapRules:
    """FT508 evaluation-overlap (ftkit's choices): the n-gram test of the GPT-3 paper's
    decontamination and datatrove's."""

    #: a training record sharing this many consecutive words with an evaluation record overlaps
    #: (a character of a character_scripts script counts as a word: Chinese writes no spaces)
    ngram: int = 13
    #: scripts of rules/languages.toml whose every character is a word
    character_scripts: tuple[str, ...] = ("Han", "Hiragana", "Katakana")
    #: an n-gram found in at least this share of the evaluation records (and at least
    #: common_records of them) is a template the records share, not an example: not counted
    common_share: float = 0.05
    common_records: int = 3
    #: characters of the overlapping text quoted in a finding
    quote_chars: int = 80


@dataclass(frozen=True)
class TokenRules:
    max_tokens: int
    default_model: str
    default_system: bool = True
    #: Not documented by the platform: an assumption the profile states (see siliconflow.toml).
    truncation: Truncation = "right"


@dataclass(frozen=True)
class ParameterRange:
    min: float
    max: float
    suggested: float
    label: str
    integer: bool = False


@dataclass(frozen=True)
class Scheme:
    name: str
    learning_rate: float
    epochs: int
    batch_size: int
    lora_rank: int
    lora_alpha: int
    lora_dropout: float


@dataclass(frozen=True)
class Profile:
    """Everything ftkit knows about one platform, as data."""

    name: str
    data: DataRules
    tokens: TokenRules
    models: Mapping[str, tuple[str, ...]]
    parameters: Mapping[str, ParameterRange]
    schemes: Mapping[str, Scheme]
    split: Mapping[str, float]
    severity: Mapping[str, Severity]
    description: str = ""
    source: str = ""
    quality: QualityRules = field(default_factory=QualityRules)
    overlap: OverlapRules = field(default_factory=OverlapRules)


def _build(cls: type[Any], raw: Any, where: str) -> Any:
    """``cls`` from a TOML table, with a clear message for a missing, unknown or mistyped key."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{where or 'the profile'} must be a table, not {type(raw).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]  # a class is hashable
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ProfileError(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in {where or 'the profile'}")
    values = {}
    for name, spec in known.items():
        if name in raw:
            values[name] = _coerce(hints[name], raw[name], f"{where}.{name}" if where else name)
        elif spec.default is MISSING and spec.default_factory is MISSING:
            raise ProfileError(f"{where}.{name} is missing" if where else f"{name} is missing")
    return cls(**values)


@lru_cache(maxsize=64)
def _hints(cls: type) -> dict[str, Any]:
    """A table class's field types, worked out once (each is an ``eval`` of its annotation; the
    packaged rules build some classes dozens of times at every start-up)."""
    return get_type_hints(cls)


def _coerce(kind: Any, value: Any, where: str) -> Any:
    origin, args = get_origin(kind), get_args(kind)
    if isinstance(kind, type) and is_dataclass(kind):
        return _build(kind, value, where)
    if origin is tuple and isinstance(value, list):
        return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is Mapping and isinstance(value, dict):
        return FrozenDict({str(k): _coerce(args[1], v, f"{where}.{k}") for k, v in value.items()})
    if origin is Literal and value in args:
        return value
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str, bool) and type(value) is kind:
        return value
    expected = (
        " or ".join(map(repr, args))
        if origin is Literal
        else "list"
        if origin is tuple
        else "table"
        if origin is Mapping
        else getattr(kind, "__name__", str(kind))
    )
    raise ProfileError(f"{where} is {value!r}, expected {expected}")


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(name_or_path: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = rules_dir() / "profiles" / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (rules_dir() / "profiles").glob("*.toml"))
        raise ProfileError(f"unknown profile {name_or_path!r}; known profiles: {', '.join(known)} (or a path to a .toml file)")
    if str(path) in seen:
        raise ProfileError(f"profile {path} extends itself (cycle: {' -> '.join(seen)})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {exc}") from None
    parent = raw.pop("extends", None)
    if parent:
        parent_ref = parent if not parent.endswith(".toml") else str(path.parent / parent)
        raw = _merge(_read(parent_ref, seen + (str(path),)), raw)
    return raw


def _special_tokens(raw: dict[str, Any]) -> list[str]:
    """The added tokens of the tokenizer that the profile's default model uses."""
    path = rules_dir() / "tokenizers.toml"
    if not path.is_file():
        return []
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    model = raw.get("tokens", {}).get("default_model", "")
    tokenizer = table.get("models", {}).get(model, {}).get("tokenizer")
    return list(table.get("tokenizers", {}).get(tokenizer, {}).get("added_tokens", []))


@lru_cache(maxsize=16)
def load_profile(name_or_path: str = "siliconflow") -> Profile:
    """Load a profile by name (``rules/profiles/NAME.toml``) or by path to a TOML file."""
    raw = _read(name_or_path)
    raw.setdefault("data", {}).setdefault("special_tokens", _special_tokens(raw))
    try:
        return _build(Profile, raw, "")
    except ProfileError as exc:
        raise ProfileError(f"invalid profile {name_or_path!r}: {exc}") from None


def as_profile(profile: str | Profile) -> Profile:
    """A loaded profile from a name, a path to a .toml file, or a Profile already loaded."""
    return profile if isinstance(profile, Profile) else load_profile(profile)
