"""The library: one verb per command, each returning the typed result whose
``model_dump(mode="json")`` is that command's documented JSON.

Every verb resolves its settings the same way (``ftkit.config.resolve``: ``[tool.ftkit]`` when
``config`` asks for it, then the keywords given), opens its inputs the same way
(``ftkit.scan.inputs``: paths, ``-`` for standard input, or records in memory for ``validate``
and ``stats``) and reads them with the same reader. They never print and never exit; every
error they raise on purpose is an ``ftkit.errors.FtkitError``.

Common keywords: ``profile`` (a name, a path to a .toml profile, or a loaded Profile),
``select`` / ``ignore`` (rule codes or prefixes), ``config`` (a pyproject.toml path, or True
to use the nearest one with a ``[tool.ftkit]`` table; default: none), ``jobs`` (processes for
big files), ``progress`` (an ``ftkit.Progress`` to poll from another thread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ftkit import lazy_attribute

if TYPE_CHECKING:
    from ftkit.api.core import Context, Source, check, context, cost, recommend, split, stats, table, token_table, validate
    from ftkit.api.repair import convert, fix
    from ftkit.api.reports import report, show

# Where each name lives, imported on first use: validate needs neither repair nor the report
# (and their imports: decimal, the report's models), a few milliseconds of every start-up.
_WHERE = {
    **dict.fromkeys(("Context", "Source", "check", "context", "cost", "recommend", "split", "stats", "table", "token_table", "validate"),
                    "ftkit.api.core"),
    **dict.fromkeys(("convert", "fix"), "ftkit.api.repair"),
    **dict.fromkeys(("report", "show"), "ftkit.api.reports"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in ("core", "repair", "reports"):  # the submodules, as an eager package would have them
        import importlib

        return importlib.import_module(f"ftkit.api.{name}")
    return lazy_attribute(globals(), _WHERE, name)


def __dir__() -> list[str]:
    return [*__all__, "core", "repair", "reports"]


__all__ = [
    "Context",
    "Source",
    "check",
    "context",
    "convert",
    "cost",
    "fix",
    "recommend",
    "report",
    "show",
    "split",
    "stats",
    "table",
    "token_table",
    "validate",
]
