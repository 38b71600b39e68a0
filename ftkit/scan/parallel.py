"""Scanning a big file with two processes: where to cut it, and a forked worker.

Plain fork + pipe: the child inherits the loaded profile, rules and tokenizer (and the same hash
seed, so record hashes agree) and only ever sends back pickled data.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
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


def lines_before(stream: BinaryIO, offset: int) -> int:
    """How many lines end before byte ``offset`` (read from the start of ``stream``)."""
    stream.seek(0)
    lines, remaining = 0, offset
    while remaining and (block := stream.read(min(1 << 22, remaining))):
        lines += len(block) - len(block.replace(b"\n", b""))  # (replace finds bytes by memchr: 10 ms for 50 MB, count 17)
        remaining -= len(block)
    return lines


def _reply_and_exit(fd: int, compute: Callable[[], Any]) -> None:
    """In a child: send ``compute()`` (or the error it raised) back, pickled, and exit. Never
    returns: the parent's cleanup (temporary files, ...) is the parent's alone.

    Big columns in the result are ``pickle.PickleBuffer`` objects (that nothing else refers to):
    they go out of band, after the pickle, one at a time, each freed once written, so that the
    two processes together never hold a column twice."""
    try:
        with os.fdopen(fd, "wb") as out:
            buffers: list[Any] = []
            try:
                head = pickle.dumps(("ok", compute()), protocol=5, buffer_callback=buffers.append)
            except BaseException as exc:  # everything goes back to the parent
                buffers = []
                head = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"), protocol=5)
            pickle.dump((head, [buffer.raw().nbytes for buffer in buffers]), out, protocol=5)
            for i, buffer in enumerate(buffers):
                with buffer.raw() as view:
                    out.write(view)
                buffers[i] = buffer = None  # the column goes now
    finally:
        os._exit(0)


def _read_result(pipe: io.BufferedReader) -> tuple[str, Any]:
    """What ``_reply_and_exit`` sent: the pickle, its buffers read into place."""
    head, sizes = pickle.load(pipe)
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            n = pipe.readinto(view[got:])
            if not n:
                raise EOFError("the result was cut short")
            got += n
        buffers.append(buffer)
    status, result = pickle.loads(head, buffers=buffers)
    return status, result


def _reap(pid: int, kill: bool) -> None:
    """Wait for a child; first kill it when the parent gives up on it (an error, Ctrl-C, SIGTERM)."""
    try:
        if kill:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass  # already gone


class Child:
    """A forked child computing one result; ``result()`` waits for it, ``stop()`` ends it."""

    def __init__(self, work: Callable[[], Any]) -> None:
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child
            os.close(read_fd)
            _reply_and_exit(write_fd, work)
        os.close(write_fd)
        self._read: int = read_fd

    def result(self) -> Any:
        try:
            with os.fdopen(self._read, "rb") as pipe:
                self._read = -1
                try:
                    status, result = _read_result(pipe)
                except (EOFError, pickle.UnpicklingError):
                    status, result = "died", None
        except BaseException:
            self.stop()
            raise
        _reap(self.pid, kill=False)
        if status == "died":
            raise RuntimeError("the second scanning process died without a result")
        if status != "ok":
            raise RuntimeError(f"the second scanning process failed: {result}")
        return result

    def stop(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            self._read = -1
        _reap(self.pid, kill=True)


def fork_call(work: Callable[[], Any]) -> Child:
    """Run ``work`` in a forked child (it inherits the loaded profile, rules and hash seed, and
    only ever returns pickled data); ``result()`` waits for it. (A tokenizer being built in a
    thread is finished first, by the fork hook ``build_in_background`` registers.)"""
    return Child(work)
