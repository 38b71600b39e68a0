"""ftkit: prepare chat fine-tuning JSONL for SiliconFlow (SiliconCloud).

Library entry points (the CLI is a thin layer over these):

- ``ftkit.validate(paths, profile="siliconflow") -> Report``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["validate", "Report", "Violation", "__version__"]

if TYPE_CHECKING:
    from ftkit.scan.engine import validate
    from ftkit.models import Report, Violation


def __getattr__(name: str) -> Any:
    # Lazy, so that `import ftkit` stays cheap for the pre-commit hook.
    if name == "validate":
        from ftkit.scan.engine import validate

        return validate
    if name in ("Report", "Violation"):
        from ftkit import models

        return getattr(models, name)
    raise AttributeError(f"module 'ftkit' has no attribute {name!r}")
