"""One settings resolution for every command: ``[tool.ftkit]`` in pyproject.toml, then the
options given (command-line flags or keyword arguments) on top.

Which pyproject.toml: the nearest one holding a ``[tool.ftkit]`` table, looking in the current
directory and its parents but never above the repository root (the first directory holding
``.git`` or ``.hg``), as ruff and black do: a pyproject.toml somewhere above the project cannot
switch rules off unnoticed. A relative ``profile`` path in it is relative to that file. Whatever
is used is named in the output (``config``), so nobody is surprised.

The library looks for no file unless asked (``config=True`` or a path); the command line looks
by default (``--config PATH`` names one, ``--no-config`` uses none).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ftkit.errors import ConfigError
from ftkit.findings import SEVERITIES

#: The keys [tool.ftkit] may hold (dashes or underscores).
KEYS = ("profile", "select", "ignore", "fail-on", "max-shown", "model", "max-tokens", "privacy")
_ROOT_MARKERS = (".git", ".hg")


@dataclass(frozen=True)
class Settings:
    """The settings every command reads; a plain dataclass (the pre-commit hook reads it on
    every run, and pydantic would cost start-up time)."""

    profile: Any = "siliconflow"  # a profile name, a path to a .toml file, or a loaded Profile
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    max_shown: int = 50
    model: str | None = None
    max_tokens: int | None = None
    privacy: bool = False  # validate looks for every FT6xx kind, not only its default ones
    source: str | None = None  # the pyproject.toml applied, None when none


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml with a [tool.ftkit] table, not above the repository root."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_table(candidate):
            return candidate
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return None
    return None


def _has_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return isinstance(data.get("tool"), dict) and "ftkit" in data["tool"]


def _codes(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"invalid [tool.ftkit] in {where}: {key} must be a list of rule codes or a comma-separated string")
    return tuple(v.strip() for v in value if v.strip())


def load_settings(pyproject: Path | None) -> Settings:
    """The settings of one pyproject.toml's [tool.ftkit] table (defaults when None)."""
    if pyproject is None:
        return Settings()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from None
    table: Any = data.get("tool", {}).get("ftkit", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"invalid [tool.ftkit] in {pyproject}: it must be a table")
    bad = f"invalid [tool.ftkit] in {pyproject}"
    unknown = sorted(k for k in table if k.replace("_", "-") not in KEYS)
    table = {k.replace("_", "-"): v for k, v in table.items()}
    if unknown:
        raise ConfigError(f"{bad}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known: {', '.join(KEYS)})")
    values: dict[str, Any] = {"source": str(pyproject)}
    if "profile" in table:
        profile = table["profile"]
        if not isinstance(profile, str) or not profile:
            raise ConfigError(f"{bad}: profile must be a string (a profile name or a path to a .toml file)")
        if profile.endswith(".toml") and not Path(profile).is_absolute():
            profile = str(pyproject.parent / profile)  # relative to the file that names it
        values["profile"] = profile
    for key in ("select", "ignore"):
        if key in table:
            values[key] = _codes(table[key], key, pyproject)
    if "fail-on" in table:
        if table["fail-on"] not in SEVERITIES:
            raise ConfigError(f"{bad}: fail-on is {table['fail-on']!r}, expected one of {', '.join(SEVERITIES)}")
        values["fail_on"] = table["fail-on"]
    for key, low in (("max-shown", 0), ("max-tokens", 1)):
        if key in table:
            value = table[key]
            if type(value) is not int or value < low:
                raise ConfigError(f"{bad}: {key} is {value!r}, expected a whole number >= {low}")
            values[key.replace("-", "_")] = value
    if "privacy" in table:
        if type(table["privacy"]) is not bool:
            raise ConfigError(f"{bad}: privacy is {table['privacy']!r}, expected true or false")
        values["privacy"] = table["privacy"]
    if "model" in table:
        if not isinstance(table["model"], str) or not table["model"]:
            raise ConfigError(f"{bad}: model must be a model name")
        values["model"] = table["model"]
    return Settings(**values)


def resolve(config: str | Path | bool | None = None, **given: Any) -> Settings:
    """The settings for one command: ``config`` (a pyproject.toml path; True: find the nearest;
    None/False: none), then every option in ``given`` that is not None on top of it.

    ``select``/``ignore`` given as an iterable (or a comma-separated string) are read once here,
    so a generator passed by a caller is not used up by a second look.
    """
    if config is True:
        settings = load_settings(find_pyproject())
    elif config in (None, False):
        settings = Settings()
    else:
        path = Path(config)  # type: ignore[arg-type]  # a str or Path here
        if not path.is_file():
            raise ConfigError(f"--config {path}: no such file")
        settings = load_settings(path)
    changes: dict[str, Any] = {}
    for key, value in given.items():
        if value is None:
            continue
        if key in ("select", "ignore"):
            codes = tuple(
                part.strip() for item in ([value] if isinstance(value, str) else value) for part in str(item).split(",") if part.strip()
            )
            if codes:  # an empty --select keeps the configured one
                changes[key] = codes
            continue
        changes[key] = value
    unknown = set(changes) - set(Settings.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown setting {', '.join(sorted(unknown))}")
    return replace(settings, **changes)
