"""``rules/prices.toml``: every price and constant ``ftkit cost`` uses, each with its date and
source. Prices are Decimal (written as strings in the file) so that money arithmetic is exact."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ftkit.errors import ProfileError
from ftkit.policy import rules_dir


class PlatformPrice(BaseModel):
    provider: str
    currency: str
    unit: str
    where: str
    source: str


class TrainingPrice(BaseModel):
    provider: str
    model: str
    price: Decimal
    currency: str
    unit: str
    as_of: str
    source: str
    note: str = ""
    min_params_b: Decimal | None = None
    max_params_b: Decimal | None = None

    def applies_to(self, params_b: Decimal | None) -> bool:
        if self.min_params_b is None and self.max_params_b is None:
            return True
        if params_b is None:
            return False
        return (self.min_params_b is None or params_b >= self.min_params_b) and (self.max_params_b is None or params_b <= self.max_params_b)


class ModelSize(BaseModel):
    params_b: Decimal
    source: str


class GpuPrice(BaseModel):
    name: str
    peak_tflops: Decimal
    peak_source: str
    price_per_hour: Decimal
    currency: str
    as_of: str
    price_source: str


class SelfHostedConstants(BaseModel):
    flops_per_param_token: Decimal
    flops_source: str
    utilisation: Decimal
    utilisation_source: str


class InferencePrice(BaseModel):
    """What one million tokens of inference cost on ``model`` (input = output price)."""

    model: str  # the base model (for a LoRA price: the model that was fine-tuned)
    price: Decimal
    currency: str
    unit: str
    as_of: str
    source: str
    variant: str = ""  # another model id serving the same base (e.g. a paid Pro tier); not the default
    note: str = ""


class InferencePrices(BaseModel):
    provider: str = ""
    billing: str = ""
    base: list[InferencePrice] = []
    lora: list[InferencePrice] = []

    def base_price(self, model: str) -> InferencePrice | None:
        return next((p for p in self.base if p.model == model and not p.variant), None)

    def lora_price(self, model: str) -> InferencePrice | None:
        return next((p for p in self.lora if p.model == model and not p.variant), None)

    def variants(self, model: str) -> list[InferencePrice]:
        return [p for p in self.base if p.model == model and p.variant]


class PriceTable(BaseModel):
    """``rules/prices.toml``."""

    version: int
    platform: PlatformPrice
    training: list[TrainingPrice]
    self_hosted: SelfHostedConstants
    models: dict[str, ModelSize]
    gpus: list[GpuPrice]
    inference: InferencePrices = InferencePrices()


@lru_cache(maxsize=4)
def load_prices(path: str | None = None) -> PriceTable:
    """Load the price table (default: ``rules/prices.toml``)."""
    file = Path(path) if path else rules_dir() / "prices.toml"
    try:
        return PriceTable.model_validate(tomllib.loads(file.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ProfileError(f"cannot read price table {file}: {str(exc).splitlines()[0]}") from None
