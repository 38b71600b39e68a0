"""Platform policy as data: the ``rules/`` directory (profiles, prices, recommendation rules,
tokenizers) loaded into immutable objects. Nothing here reads user data."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path


def rules_dir() -> Path:
    """Where the ``rules/`` data lives: ``ftkit/_rules`` inside the wheel, ``rules/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_rules"
    return packaged if packaged.is_dir() else package.parent / "rules"


@lru_cache(maxsize=1)
def goal_names() -> tuple[str, ...]:
    """The goals of ``rules/recommend.toml``, read cheaply (no pydantic): for option choices."""
    try:
        goals = tomllib.loads((rules_dir() / "recommend.toml").read_text(encoding="utf-8")).get("goals", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ("standard",)
    return tuple(goals) or ("standard",)
