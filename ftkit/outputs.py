"""Writing output files safely: atomically (temp file + rename), never over an existing file
unless asked, and never onto an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


class OutputExists(FileExistsError):
    """An output file exists and ``force`` was not given."""


class OutputIsInput(ValueError):
    """An output path names one of the input files."""


def check_outputs(outputs: Iterable[Path], inputs: Iterable[Path] = (), force: bool = False) -> None:
    """Refuse outputs that already exist (unless ``force``) or that are one of the inputs."""
    ins = {_identity(p) for p in inputs if p.exists()}
    for out in outputs:
        if out.exists() and _identity(out) in ins:
            raise OutputIsInput(f"{out} is also an input; ftkit never writes over its input (choose another output path)")
        if out.exists() and not force:
            raise OutputExists(f"{out} already exists; use --force to replace it")
        if out.exists() and out.is_dir():
            raise OutputExists(f"{out} is a directory")


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


@contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file next to ``path``; rename it over ``path`` only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
