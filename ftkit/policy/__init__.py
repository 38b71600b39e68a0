"""Platform policy as data: the ``rules/`` directory (profiles, prices, recommendation rules,
tokenizers) loaded into immutable objects. Nothing here reads user data."""

from __future__ import annotations

from pathlib import Path


def rules_dir() -> Path:
    """Where the ``rules/`` data lives: ``ftkit/_rules`` inside the wheel, ``rules/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_rules"
    return packaged if packaged.is_dir() else package.parent / "rules"
