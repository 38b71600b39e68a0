"""Settings from ``[tool.ftkit]`` in the nearest pyproject.toml (command-line options win)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Settings:
    """What ``[tool.ftkit]`` may set. Unknown keys are an error, so typos do not pass silently.

    A plain dataclass, not pydantic: the pre-commit hook reads it on every run."""

    profile: str = "siliconflow"
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: str = "error"
    max_shown: int = 50


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


def _codes(value: Any, key: str, where: Path) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"invalid [tool.ftkit] in {where}: {key} must be a list of rule codes or a comma-separated string")
    return [v.strip() for v in value if v.strip()]


def load_settings(pyproject: Path | None) -> Settings:
    if pyproject is None:
        return Settings()
    try:
        table: Any = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("ftkit", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from None
    known = {"profile", "select", "ignore", "fail-on", "fail_on", "max-shown", "max_shown"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"invalid [tool.ftkit] in {pyproject}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known: profile, select, ignore, fail-on, max-shown)")
    values: dict[str, Any] = {}
    if "profile" in table:
        if not isinstance(table["profile"], str):
            raise ConfigError(f"invalid [tool.ftkit] in {pyproject}: profile must be a string")
        values["profile"] = table["profile"]
    for key in ("select", "ignore"):
        if key in table:
            values[key] = _codes(table[key], key, pyproject)
    fail_on = table.get("fail-on", table.get("fail_on"))
    if fail_on is not None:
        if fail_on not in _SEVERITIES:
            raise ConfigError(f"invalid [tool.ftkit] in {pyproject}: fail-on is {fail_on!r}, expected one of {', '.join(_SEVERITIES)}")
        values["fail_on"] = fail_on
    max_shown = table.get("max-shown", table.get("max_shown"))
    if max_shown is not None:
        if type(max_shown) is not int or max_shown < 0:
            raise ConfigError(f"invalid [tool.ftkit] in {pyproject}: max-shown is {max_shown!r}, expected a whole number >= 0")
        values["max_shown"] = max_shown
    return Settings(**values)
