"""The progress display: one line on stderr, redrawn a few times a second, only on a terminal.

``ftkit stats  [##########----------]  52%  262.1 MiB of 500.0 MiB  ETA 0:38``; bytes only
while the size is unknown (standard input being read). Sizes are in MiB and say so. The library
counts (``ftkit.Progress``); this module only draws, from its own thread.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from ftkit.progress import Progress

#: Inputs smaller than this show no progress (they are done before it would be read).
SHOW_FROM_BYTES = 4 << 20
_WIDTH = 24


def _size(n: float) -> str:
    return f"{n / (1 << 20):,.1f} MiB" if n >= 1 << 20 else f"{n / 1024:,.1f} KiB"


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


def line(command: str, done: int, total: int | None, elapsed: float, phase: str = "reading") -> str:
    """One progress line (without the terminal control around it)."""
    if phase != "reading":
        return f"ftkit {command}  {phase}  {_clock(elapsed)}"
    if not total:
        return f"ftkit {command}  {_size(done)} read  {_clock(elapsed)}"
    share = min(1.0, done / total)
    bar = "#" * round(_WIDTH * share)
    eta = f"ETA {_clock(elapsed * (1 - share) / share)}" if share > 0.02 and elapsed > 1 else "ETA --:--"
    return f"ftkit {command}  [{bar:-<{_WIDTH}}] {share:4.0%}  {_size(done)} of {_size(total)}  {eta}"


class Display:
    """Draws ``progress`` while the ``with`` block runs, when ``enabled``; clears the line after."""

    def __init__(self, command: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.command, self.enabled = command, enabled
        self.stream = stream or sys.stderr
        self.progress = Progress()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    @classmethod
    def for_command(cls, command: str, quiet: bool) -> Display:
        enabled = not quiet and getattr(sys.stderr, "isatty", lambda: False)()
        return cls(command, enabled)

    def __enter__(self) -> Display:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="ftkit-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            try:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass

    def _run(self) -> None:
        # Nothing for the first half second: small inputs finish before a display would help.
        if self._stop.wait(0.5):
            return
        while True:
            p = self.progress
            if p.total is None or p.total >= SHOW_FROM_BYTES or p.done >= SHOW_FROM_BYTES:
                text = line(self.command, p.done, p.total, time.monotonic() - self._started, p.phase)
                try:
                    self.stream.write("\r" + text + "\x1b[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    return
            if self._stop.wait(0.2):
                return
