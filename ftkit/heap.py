"""glibc's allocator, where there is one: the two settings ftkit makes of it.

Elsewhere (macOS, Windows, musl) every function here does nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def glibc(name: str) -> Callable[..., Any] | None:
    """The glibc function ``name`` (``mallopt``, ``malloc_trim``), or None without glibc."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # musl has neither
        return None


def mmap_threshold(size: int) -> None:
    """Give allocations of ``size`` bytes or more their own mappings (``M_MMAP_THRESHOLD``)."""
    mallopt = glibc("mallopt")
    if mallopt is not None:
        mallopt(-3, size)  # M_MMAP_THRESHOLD


def trim() -> None:
    """Hand the heap's freed blocks back to the system (``malloc_trim``)."""
    release = glibc("malloc_trim")
    if release is not None:
        release(0)
