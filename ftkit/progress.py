"""Progress of a long read, for whoever wants to show it (the library itself never prints).

A ``Progress`` counts the bytes read so far against a total (``None`` while it is unknown, e.g.
while standard input is being read). The scan adds to it chunk by chunk; a forked second scanning
process adds to its own slot of the same shared memory, so ``done`` is right for both. A caller
polls ``done``, ``total`` and ``phase`` from another thread, at its own pace.
"""

from __future__ import annotations

import mmap
import struct

_SLOTS = struct.Struct("2q")


class Progress:
    """Bytes read so far (``done``) of ``total``, and what is being done (``phase``)."""

    def __init__(self, total: int | None = None) -> None:
        self.total = total
        self.phase = "reading"
        self._memory = mmap.mmap(-1, _SLOTS.size)
        self._slot = 0
        self._mine = 0

    @property
    def done(self) -> int:
        return sum(_SLOTS.unpack_from(self._memory))

    def add(self, n: int) -> None:
        self._mine += n
        struct.pack_into("q", self._memory, 8 * self._slot, self._mine)

    def in_child(self) -> None:
        """Called in a forked child: count into the second slot from now on."""
        self._slot, self._mine = 1, 0
        struct.pack_into("q", self._memory, 8, 0)

    def absorb_child(self) -> None:
        """Called in the parent once the child has finished: keep its bytes in the first slot."""
        child = _SLOTS.unpack_from(self._memory)[1]
        struct.pack_into("q", self._memory, 8, 0)
        self.add(child)
