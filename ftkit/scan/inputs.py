"""What the user named as input, turned into files the scan can read (twice, or from two
processes, if it needs to).

- A regular file is read where it is; a directory stands for the ``*.jsonl`` files below it (in
  any letter case, so that FT001 reports a ``.JSONL`` one instead of skipping it unseen).
- ``-`` is standard input (shown as ``<stdin>``); ``/dev/stdin``, a FIFO, process substitution
  (``<(...)``) or a character device are read as streams. A stream is copied once into a private
  temporary file, unless its first bytes show it is not text (``/dev/zero``, a gzip stream): then
  only those are kept, and the scan reports what they are.
- Records held in memory (dicts, or a polars DataFrame with a ``messages`` column) are written as
  JSON Lines to such a file, shown as ``<records>``; line N is record N (from 1).

Every problem is an ``InputError`` with one line that says what the path is (no such file,
a directory, a symlink loop, a socket, permission denied). The temporary files go when the
``Inputs`` context ends, whatever ends it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ftkit.errors import InputError
from ftkit.scan.reader import HEAD_BYTES, sniff

STDIN = "-"


@dataclass(frozen=True)
class Input:
    """One input file as the scan sees it."""

    name: str  # shown in findings and outputs: the path as given, "<stdin>", "<records>"
    path: Path  # read from: the file itself, or a private copy of a stream
    suffix: str | None  # the named file's extension, for FT001; None when nothing was named
    size: int

    @property
    def copied(self) -> bool:
        return self.name != str(self.path)


def describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOTDIR:
        return "no such file (a part of the path is not a directory)"
    return exc.strerror or str(exc)


def kind_of(path: str | os.PathLike[str]) -> str:
    """'file', 'directory' or 'stream' for a path that can be read; InputError otherwise."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: {describe_os_error(exc)}") from None
    except ValueError:  # an embedded NUL byte
        raise InputError(f"{os.fspath(path)!r}: not a valid path") from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "stream"
    what = "a socket" if stat.S_ISSOCK(mode) else "a block device" if stat.S_ISBLK(mode) else "not a regular file"
    raise InputError(f"{os.fspath(path)}: {what}; give a file, a directory or - for standard input")


class Inputs:
    """The inputs of one command, with the temporary copies it made; a context manager."""

    def __init__(self) -> None:
        self.items: list[Input] = []
        self._tmp: str | None = None

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Input]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def close(self) -> None:
        if self._tmp is not None:
            import shutil

            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _spool_path(self, stem: str) -> Path:
        if self._tmp is None:
            import tempfile

            self._tmp = tempfile.mkdtemp(prefix="ftkit-")
        return Path(self._tmp) / f"{len(self.items)}-{stem}.jsonl"

    @property
    def total_size(self) -> int:
        return sum(i.size for i in self.items)

    # --- adding inputs ---------------------------------------------------------------------------

    def add_path(self, given: str | os.PathLike[str], *, directories: bool = True) -> None:
        """Add a named input (a file, ``-``, a stream, or a directory of ``*.jsonl`` files)."""
        name = os.fspath(given)
        if name == STDIN:
            self._add_stream("<stdin>", _stdin())
            return
        kind = kind_of(name)
        if kind == "directory":
            if not directories:
                raise InputError(f"{name} is a directory; give a file")
            found = list(_jsonl_below(name))
            if not found:
                raise InputError(f"{name} is a directory with no .jsonl files")
            for file in found:
                self._add_file(file, file)
        elif kind == "stream":
            try:
                stream = open(name, "rb")  # noqa: SIM115  # closed by _add_stream
            except OSError as exc:
                raise InputError(f"cannot read {name}: {describe_os_error(exc)}") from None
            with stream:
                self._add_stream(name, stream)  # a stream's name is not the uploaded file's: no FT001
        else:
            self._add_file(name, name)

    def _add_file(self, name: str, path: str) -> None:
        real = Path(path)
        try:
            with open(real, "rb"):
                pass
            size = real.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read {name}: {describe_os_error(exc)}") from None
        if any(_same_file(real, i.path) for i in self.items if not i.copied):
            return  # a file named twice is read (and counted) once
        self.items.append(Input(name, real, real.suffix, size))

    def _add_stream(self, name: str, stream: IO[bytes], suffix: str | None = None) -> None:
        if any(i.name == name for i in self.items):
            raise InputError(f"{name} is named twice; a stream can be read only once")
        target = self._spool_path("stream")
        try:
            with open(target, "wb") as out:
                head = _read_head(stream)
                out.write(head)
                if sniff(head) is None or len(head) < HEAD_BYTES:  # text (or all of it): keep the rest
                    import shutil

                    shutil.copyfileobj(stream, out, 1 << 20)
        except OSError as exc:
            raise InputError(f"cannot read {name}: {describe_os_error(exc)}") from None
        self.items.append(Input(name, target, suffix, target.stat().st_size))

    def add_records(self, records: Iterable[Mapping[str, Any]] | Any) -> None:
        """Add records held in memory: dicts, or a polars DataFrame (one row a record)."""
        rows = _rows(records)
        target = self._spool_path("records")
        with open(target, "wb") as out:
            for row in rows:
                out.write(_json_line(row) + b"\n")
        self.items.append(Input("<records>", target, None, target.stat().st_size))


def open_inputs(source: Any, *, directories: bool = True, single: bool = False) -> Inputs:
    """The inputs a library verb was given: a path, several, ``-``, or records in memory."""
    inputs = Inputs()
    try:
        if is_records(source):
            inputs.add_records(source)
        else:
            paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
            if not paths:
                raise InputError("no input given: name a file, a directory, or - for standard input")
            if single and len(paths) > 1:
                raise InputError(f"this command takes one file, not {len(paths)}")
            for path in paths:
                if not isinstance(path, (str, os.PathLike)):
                    raise InputError(f"an input must be a path (or records in memory), not {type(path).__name__}")
                inputs.add_path(path, directories=directories)
    except BaseException:
        inputs.close()
        raise
    return inputs


def is_records(source: Any) -> bool:
    """Records in memory (a DataFrame, or an iterable of mappings), rather than paths."""
    if isinstance(source, (str, os.PathLike, bytes)):
        return False
    if type(source).__name__ == "DataFrame" and hasattr(source, "iter_rows"):
        return True
    if isinstance(source, Sequence):
        return bool(source) and isinstance(source[0], Mapping)
    return isinstance(source, Iterable) and not isinstance(source, (set, frozenset))


def _rows(records: Any) -> Iterator[Any]:
    if type(records).__name__ == "DataFrame" and hasattr(records, "iter_rows"):
        if "messages" not in records.columns:
            raise InputError(f"the DataFrame has no 'messages' column (columns: {', '.join(records.columns)})")
        yield from records.iter_rows(named=True)
        return
    yield from records


def _json_line(row: Any) -> bytes:
    """One record as a JSON line, keeping what validation must see (NaN, lone surrogates)."""
    import json

    try:
        return json.dumps(row, ensure_ascii=False, default=_default).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: as an escape, which the careful parse reports
        return json.dumps(row, default=_default).encode("ascii")
    except (TypeError, ValueError) as exc:
        raise InputError(f"a record cannot be written as JSON: {exc}") from None


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON (a record holds only strings, numbers, lists and objects)")


def _stdin() -> IO[bytes]:
    import sys

    return sys.stdin.buffer


def _read_head(stream: IO[bytes]) -> bytes:
    """Up to HEAD_BYTES from a stream that may return short reads (a pipe)."""
    parts: list[bytes] = []
    size = 0
    while size < HEAD_BYTES and (block := stream.read(HEAD_BYTES - size)):
        parts.append(block)
        size += len(block)
    return b"".join(parts)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _jsonl_below(folder: str) -> Iterator[str]:
    """Regular files named ``*.jsonl`` (any case) below ``folder``, sorted; links to folders are
    not followed (no loops)."""
    found = []
    for root, dirs, files in os.walk(folder, onerror=_walk_error):
        dirs.sort()
        for name in files:
            full = os.path.join(root, name)
            if name.lower().endswith(".jsonl") and os.path.isfile(full):
                found.append(full)
    yield from sorted(found)


def _walk_error(exc: OSError) -> None:
    raise InputError(f"cannot read {exc.filename}: {describe_os_error(exc)}")
