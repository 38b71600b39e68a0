"""Checking parameters a user chose against the profile's documented ranges."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from pydantic import BaseModel, Field

from ftkit.errors import ParameterError
from ftkit.policy.profile import ParameterRange, Profile, as_profile


def fmt_number(value: float) -> str:
    """1,000 for whole numbers from 1 up, 0.0001 (no exponent) otherwise."""
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1):
        return f"{int(value):,}"
    return format(Decimal(str(value)).normalize(), "f")


def range_text(rng: ParameterRange) -> str:
    return f"{fmt_number(int(rng.min) if rng.integer else rng.min)}-{fmt_number(int(rng.max) if rng.integer else rng.max)}"


class ParameterCheck(BaseModel):
    name: str
    label: str
    value: float | int
    allowed: str = Field(description="the inclusive range, e.g. 0-0.1")
    ok: bool
    message: str


class CheckResult(BaseModel):
    """What ``check_parameters`` returns; ``ok`` is False when any value is out of range."""

    version: str = "1"
    profile: str
    ok: bool
    checks: list[ParameterCheck]


def _aliases(profile: Profile) -> dict[str, str]:
    names = {}
    for name, rng in profile.parameters.items():
        for alias in (name, rng.label):
            names[alias.lower().replace("-", "_").replace(" ", "_")] = name
    return names


def _number(name: str, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ParameterError(f"{name}: {value!r} is not a number")
    try:
        return Fraction(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, OverflowError):  # OverflowError: infinity
        raise ParameterError(f"{name}: {value!r} is not a number") from None


def check_parameters(params: Mapping[str, object], profile: str | Profile = "siliconflow") -> CheckResult:
    """Check user-chosen parameters against the profile's ranges.

    Keys are parameter names (``learning_rate``), their labels (``"Learning Rate"``) or hyphenated
    forms. Raises ``ParameterError`` for an unknown key or a non-number; out-of-range or
    non-integer values are reported in the result (``ok`` False), with the allowed range.
    """
    prof = as_profile(profile)
    aliases = _aliases(prof)
    checks = []
    for key, raw in params.items():
        name = aliases.get(str(key).strip().lower().replace("-", "_").replace(" ", "_"))
        if name is None:
            raise ParameterError(f"unknown parameter {key!r}; known: {', '.join(prof.parameters)}")
        rng = prof.parameters[name]
        value = _number(name, raw)
        allowed = range_text(rng)
        shown = fmt_number(int(value) if value.denominator == 1 else float(value))
        low, high = Fraction(str(rng.min)), Fraction(str(rng.max))
        if rng.integer and value.denominator != 1:
            ok, message = False, f"{name} = {shown}: {rng.label} must be a whole number in {allowed}"
        elif not low <= value <= high:
            ok, message = False, f"{name} = {shown} is outside {rng.label}'s allowed range {allowed}"
        else:
            ok, message = True, f"{name} = {shown} is within {rng.label}'s range {allowed}"
        number = int(value) if value.denominator == 1 and rng.integer else float(value)
        checks.append(ParameterCheck(name=name, label=rng.label, value=number, allowed=allowed, ok=ok, message=message))
    return CheckResult(profile=prof.name, ok=all(c.ok for c in checks), checks=checks)
