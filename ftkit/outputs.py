"""Writing output files safely, for every command that writes (split, fix, convert, report).

- Atomic: each output is written to a hidden temporary file beside it (``.NAME.XXXX.tmp``) and
  moved into place only when every output of the command is complete; on any failure or
  interruption the temporary files are removed and nothing is left half-written.
- Never silently replaced: without ``force`` an output that exists is refused, both before the
  work starts and at the very end, when the final name is created exclusively (a hard link,
  which fails if the name exists), so two runs writing the same output cannot both win.
  ``force`` replaces atomically.
- Never onto an input, and with the permission bits of the input it derives from (an output of a
  0600 file is 0600).

The rejects file that ``split``, ``fix`` and ``convert`` write lives here too: one JSON object a
line, naming where the rejected input was and why, and keeping its original text (or bytes).
"""

from __future__ import annotations

import base64
import errno
import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from ftkit.errors import OutputError, OutputExists, OutputIsInput


def check_outputs(outputs: Iterable[Path], inputs: Iterable[Path] = (), force: bool = False) -> None:
    """Refuse outputs that already exist (unless ``force``), that are one of the inputs, or
    that are directories."""
    ins = {_identity(p) for p in inputs if _exists(p)}
    for out in outputs:
        if not _exists(out):
            continue
        if _identity(out) in ins:
            raise OutputIsInput(f"{out} is also an input; ftkit never writes over its input (choose another output path)")
        if out.is_dir():
            raise OutputExists(f"{out} is a directory")
        if not force:
            raise OutputExists(f"{out} already exists; use --force to replace it")


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError:
        return False
    return True


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _mode(like: Path | None) -> int:
    if like is not None:
        try:
            return os.stat(like).st_mode & 0o777
        except OSError:
            pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_outputs(paths: Sequence[Path], *, like: Path | None = None, force: bool | Sequence[bool] = False) -> Iterator[list[BinaryIO]]:
    """Open a temporary file for each of ``paths``; move them all into place when the block ends
    without an exception (see the module docstring). ``like``: the input whose permission bits
    the outputs get; ``force``: replace existing files (one flag, or one per path)."""
    mode = _mode(like)
    replace = [force] * len(paths) if isinstance(force, bool) else list(force)
    temps: list[tuple[str, BinaryIO]] = []
    try:
        for path in paths:
            with _signals_held():  # a temporary file is never created without being recorded
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                except OSError as exc:
                    raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
                temps.append((tmp, os.fdopen(fd, "wb")))
            os.chmod(tmp, mode)
        yield [stream for _, stream in temps]
        for (_, stream), path in zip(temps, paths):
            try:
                stream.flush()
                os.fsync(stream.fileno())
                stream.close()
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        with _signals_held():  # all final names or none, even when a signal arrives meanwhile
            _move_all([tmp for tmp, _ in temps], list(paths), replace)
    finally:
        with _signals_held():
            for tmp, stream in temps:
                try:
                    stream.close()
                except OSError:
                    pass
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass


_HELD = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP back for a few system calls that must not be cut apart
    (a temporary file created but not yet recorded, a cleanup half done); a signal that arrives
    meanwhile is delivered right after, and unwinds as usual. (Masking the signal would not do:
    another thread, such as the progress display's, may receive it.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in _HELD}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: a handler installed outside Python, left as it was
                signal.signal(sig, handler)
        for sig in dict.fromkeys(arrived):
            signal.raise_signal(sig)


@contextmanager
def atomic_write(path: Path, *, like: Path | None = None, force: bool = False) -> Iterator[BinaryIO]:
    """``atomic_outputs`` for one file."""
    with atomic_outputs([path], like=like, force=force) as (stream,):
        yield stream


def _move_all(temps: list[str], paths: list[Path], replace: list[bool]) -> None:
    """Give each temporary file its final name; a name not to be replaced is created
    exclusively and, if one exists by now, the new files already placed are taken back."""
    placed: list[Path] = []
    try:
        for tmp, path, force in zip(temps, paths, replace):
            if force:
                os.replace(tmp, path)
            else:
                _link_new(tmp, path)
                placed.append(path)
    except FileExistsError:
        _take_back(placed)
        raise OutputExists(f"{path} already exists (another run wrote it meanwhile?); use --force to replace it") from None
    except OSError as exc:
        _take_back(placed)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _link_new(tmp: str, path: Path) -> None:
    try:
        os.link(tmp, path)  # fails with FileExistsError if the name exists: no replacement
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # No hard links on this file system: claim the name exclusively, then move onto our claim.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.replace(tmp, path)


def _take_back(placed: list[Path]) -> None:
    for path in placed:
        try:
            os.unlink(path)
        except OSError:
            pass


# --- the rejects file -------------------------------------------------------------------------------


def reason(code: str, where: str, message: str) -> str:
    """One reason for a rejection: the rule's code and name, the JSON pointer if any, the message."""
    from ftkit.checks import RULES, all_rules

    all_rules()
    name = RULES[code].name if code in RULES else ""
    return f"{code}{f' {name}' if name else ''}{f' at {where}' if where else ''}: {message}"


def kept(raw: bytes | str | int) -> dict[str, Any]:
    """How a rejected input is kept: its text, its bytes when they are not UTF-8, or (an int)
    only its length, for a line too long to keep."""
    if isinstance(raw, int):
        return {"omitted_bytes": raw}
    if isinstance(raw, str):
        return {"text": raw}
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


class RejectsFile:
    """Writes rejects entries, one JSON object a line, and counts them."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.count = stream, 0

    def add(self, where: dict[str, int], reasons: list[str], keep: dict[str, Any]) -> None:
        """Write ``{**where, "reasons": reasons, **keep}``; ``keep`` is usually ``kept(...)``."""
        entry = {**where, "reasons": reasons, **keep}
        data = json.dumps(entry, ensure_ascii=False).encode("utf-8", "backslashreplace")  # a lone surrogate as its \\u escape
        self.stream.write(data + b"\n")
        self.count += 1
