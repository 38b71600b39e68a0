"""Scanning a big file with two processes: where to cut it, and a forked worker.

Plain fork + pipe: the child inherits the loaded profile, rules and tokenizer (and the same hash
seed, so record hashes agree) and only ever sends back pickled data.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any, BinaryIO

# Files at least this big are scanned by two processes when jobs > 1.
PARALLEL_FROM = 8 << 20


def cut_point(stream: BinaryIO, size: int) -> int:
    """Where the second process starts: just after a newline past the middle of the file,
    preferably one between two one-line records (``}\n{``), so no record spans the cut.
    0 when there is no newline after the middle. (Halves measured even: with tokenizing, both
    processes finish within 1% of each other on benchmarks/bench_stats.py's input.)"""
    start = size // 2
    stream.seek(start)
    window = stream.read(4 << 20)
    for boundary in (b"}\n{", b"}\r\n{"):
        at = window.find(boundary)
        if at >= 0:
            return start + at + len(boundary) - 1
    stream.seek(start)
    while block := stream.read(1 << 16):
        at = block.find(b"\n")
        if at >= 0:
            cut = stream.tell() - len(block) + at + 1
            return cut if cut < size else 0
    return 0


def fork_call(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``work`` in a forked child; the returned function waits for and returns its result.

    Plain fork + pipe: the child inherits the loaded profile and rules (and the same hash seed,
    so record hashes agree) and only ever returns pickled data.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_fd)

    def wait() -> Any:
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        if not data:
            raise RuntimeError("the second validation process died without a result")
        status, result = pickle.loads(data)
        if status != "ok":
            raise RuntimeError(f"the second validation process failed: {result}")
        return result

    return wait
