"""Exact money: prices are ``Decimal`` and every cost is computed in a context that traps any
rounding (dividing by 10**6 only shifts the exponent). ``ftkit cost`` and the payoff share it."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

from ftkit.errors import ParameterError

#: Exact context: 80 digits and a trap on Inexact, so a cost is never silently rounded.
EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])

#: Decimals are written to JSON as plain decimal strings ("0.075312"), never floats or exponents.
Money = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")]


def parse_price(price: Decimal | str | int | float) -> Decimal:
    """A price per million tokens as an exact, finite, non-negative Decimal."""
    try:
        value = Decimal(str(price)) if not isinstance(price, Decimal) else price
    except decimal.InvalidOperation:
        raise ParameterError(f"price {price!r} is not a number; give the price per million tokens, e.g. 4.5") from None
    if not value.is_finite() or value < 0:
        raise ParameterError(f"price {price} must be a finite number >= 0 (price per million tokens)")
    return value


def exact_cost(tokens: int, price_per_million: Decimal) -> Decimal:
    """tokens x price / 10**6, exactly (raises decimal.Inexact rather than round), without trailing zeros."""
    return EXACT.multiply(Decimal(tokens), price_per_million).scaleb(-6, EXACT).normalize(EXACT)
