"""Settings from ``[tool.ftkit]`` in the nearest pyproject.toml (command-line options win)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    """What ``[tool.ftkit]`` may set. Unknown keys are an error, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    profile: str = "siliconflow"
    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    fail_on: str = Field(default="error", alias="fail-on", pattern="^(error|warning|info)$")
    max_shown: int = Field(default=50, alias="max-shown", ge=0)


class ConfigError(ValueError):
    """A pyproject.toml whose [tool.ftkit] table cannot be used."""


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml in ``start`` or its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(pyproject: Path | None) -> Settings:
    if pyproject is None:
        return Settings()
    try:
        table: Any = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("ftkit", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from None
    for key in ("select", "ignore"):
        if isinstance(table.get(key), str):
            table[key] = [part for part in table[key].split(",") if part.strip()]
    try:
        return Settings.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid [tool.ftkit] in {pyproject}: {problems}") from None
