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


def steady(mmap_from: int, keep_free: int) -> None:
    """Give allocations of ``mmap_from`` bytes or more their own mappings (``M_MMAP_THRESHOLD``),
    and hand the top of the heap back to the system only once ``keep_free`` bytes of it are free
    (``M_TRIM_THRESHOLD``). Setting either stops glibc moving both as blocks are freed."""
    mallopt = glibc("mallopt")
    if mallopt is not None:
        mallopt(-3, mmap_from)  # M_MMAP_THRESHOLD
        mallopt(-1, keep_free)  # M_TRIM_THRESHOLD


def trim() -> None:
    """Hand the heap's freed blocks back to the system (``malloc_trim``)."""
    release = glibc("malloc_trim")
    if release is not None:
        release(0)
