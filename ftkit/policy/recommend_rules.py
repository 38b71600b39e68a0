"""The shape of ``rules/recommend.toml``: each band of the recommendation rule, with its source."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from ftkit.errors import ProfileError
from ftkit.policy import rules_dir


class _Cited(BaseModel):
    why: str = ""
    rationale: str = ""
    source: str = ""


class LearningRateRule(_Cited):
    value: float


class EpochsRule(_Cited):
    base: int
    min_examples_seen: int
    max_examples_seen: int
    max_small: int
    min_large: int


class BatchRule(_Cited):
    start: int
    min_steps_per_epoch: int


class MaxTokensRule(_Cited):
    multiple: int
    floor: int
    #: Said when the value is raised so that no reply is lost entirely (goals with keep_replies).
    keep_replies_why: str = "raised so that every reply keeps at least one token"


class RankBand(BaseModel):
    below_trainable_tokens: int | None = None
    rank: int
    why: str


class RankRule(_Cited):
    band: list[RankBand]


class AlphaRule(_Cited):
    per_rank: int


class DropoutBand(BaseModel):
    below_examples: int | None = None
    dropout: float
    why: str


class DropoutRule(_Cited):
    band: list[DropoutBand]


class GoalRule(BaseModel):
    scheme: str
    cover: Literal["p95", "p99", "max"]
    #: Never pick a Max Tokens at which a record loses its whole reply (it would train on nothing).
    keep_replies: bool = True


class ExamplesWarning(BaseModel):
    below: int
    message: str


class Warnings(BaseModel):
    examples: list[ExamplesWarning] = Field(default_factory=list)


class RecommendRules(BaseModel):
    """``rules/recommend.toml``."""

    version: int
    sources: dict[str, str]
    learning_rate: LearningRateRule
    epochs: EpochsRule
    batch_size: BatchRule
    max_tokens: MaxTokensRule
    lora_rank: RankRule
    lora_alpha: AlphaRule
    lora_dropout: DropoutRule
    goals: dict[str, GoalRule]
    warnings: Warnings = Field(default_factory=Warnings)


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> RecommendRules:
    """Load the recommendation rule (default: ``rules/recommend.toml``)."""
    file = Path(path) if path else rules_dir() / "recommend.toml"
    try:
        return RecommendRules.model_validate(tomllib.loads(file.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ProfileError(f"cannot read recommendation rules {file}: {str(exc).splitlines()[0]}") from None
