"""ftkit: prepare chat fine-tuning data for SiliconFlow (SiliconCloud).

The library has one verb per command; the command line is a thin layer over them. They never
print and never exit, and each returns a typed result whose ``model_dump(mode="json")`` is the
command's documented JSON output.

- ``ftkit.validate(source, ...) -> Report``: every finding, with line, JSON pointer and code
- ``ftkit.stats(source, ...) -> Stats``: exact Qwen2.5 token statistics, offline
- ``ftkit.split(path, out_dir, ...) -> SplitResult``: train/validation files, nothing lost or leaked
- ``ftkit.recommend(source, ...) -> Recommendation``: LoRA parameters with their reasons
- ``ftkit.cost(source, ...) -> CostEstimate``: billed training tokens and cost, exact
- ``ftkit.report(source, output=None, ...) -> QualityReport``: the data-quality report
- ``ftkit.show(source, line, ...) -> RecordView``: one record as the model sees it, token by token
- ``ftkit.fix(path, output, ...) -> FixResult``: safe, logged repairs
- ``ftkit.convert(path, output, ...) -> ConvertResult``: other chat formats to SiliconFlow's

``source`` is a path, a list of paths, a folder, ``"-"`` for standard input, or, for ``validate``
and ``stats``, records in memory (an iterable of dicts, or a polars DataFrame with a
``messages`` column). Common keywords: ``profile``, ``select``, ``ignore``, ``config``, ``jobs``,
``model``, ``max_tokens``, ``progress``. Errors: ``ftkit.FtkitError`` and its subclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_VERBS = ("validate", "stats", "split", "recommend", "cost", "report", "fix", "convert")
_LAZY = {
    **dict.fromkeys(_VERBS, "ftkit.api"),
    "table": "ftkit.api",
    "show": "ftkit.api",
    "RecordView": "ftkit.plan.show",
    "Report": "ftkit.models",
    "Violation": "ftkit.models",
    "Stats": "ftkit.plan.stats",
    "SplitResult": "ftkit.plan.split",
    "Recommendation": "ftkit.plan.recommend",
    "CostEstimate": "ftkit.plan.cost",
    "QualityReport": "ftkit.plan.report_model",
    "FixResult": "ftkit.repair.fix",
    "ConvertResult": "ftkit.repair.convert",
    "Progress": "ftkit.progress",
    "FtkitError": "ftkit.errors",
    "InputError": "ftkit.errors",
    "ProfileError": "ftkit.errors",
    "ConfigError": "ftkit.errors",
    "ParameterError": "ftkit.errors",
    "TokenizerError": "ftkit.errors",
    "OutputError": "ftkit.errors",
    "OutputExists": "ftkit.errors",
    "DataError": "ftkit.errors",
    "load_profile": "ftkit.policy.profile",
}
__all__ = [
    "ConfigError",
    "ConvertResult",
    "CostEstimate",
    "DataError",
    "FixResult",
    "FtkitError",
    "InputError",
    "OutputError",
    "OutputExists",
    "ParameterError",
    "ProfileError",
    "Progress",
    "QualityReport",
    "Recommendation",
    "RecordView",
    "Report",
    "SplitResult",
    "Stats",
    "TokenizerError",
    "Violation",
    "__version__",
    "convert",
    "cost",
    "fix",
    "load_profile",
    "recommend",
    "report",
    "show",
    "split",
    "stats",
    "table",
    "validate",
]  # fmt: skip

if TYPE_CHECKING:
    from ftkit.api import convert, cost, fix, recommend, report, show, split, stats, table, validate
    from ftkit.errors import (
        ConfigError,
        DataError,
        FtkitError,
        InputError,
        OutputError,
        OutputExists,
        ParameterError,
        ProfileError,
        TokenizerError,
    )  # fmt: skip
    from ftkit.models import Report, Violation
    from ftkit.plan.cost import CostEstimate
    from ftkit.plan.recommend import Recommendation
    from ftkit.plan.report_model import QualityReport
    from ftkit.plan.show import RecordView
    from ftkit.plan.split import SplitResult
    from ftkit.plan.stats import Stats
    from ftkit.policy.profile import load_profile
    from ftkit.progress import Progress
    from ftkit.repair.convert import ConvertResult
    from ftkit.repair.fix import FixResult


def lazy_attribute(namespace: dict[str, Any], where: Mapping[str, str], name: str) -> Any:
    """A package's attribute imported on first use: ``name`` from the module ``where`` names,
    kept in ``namespace`` (the package's ``globals()``) for the next lookup. For the packages'
    ``__getattr__``, so that `import ftkit` stays cheap for the pre-commit hook."""
    module = where.get(name)
    if module is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    import importlib

    value = namespace[name] = getattr(importlib.import_module(module), name)
    return value


def __getattr__(name: str) -> Any:
    return lazy_attribute(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return __all__
