"""Atomic, non-clobbering output files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ftkit.outputs import OutputExists, OutputIsInput, atomic_write, check_outputs


def test_atomic_write_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as out:
            out.write(b"partial")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left behind
    with atomic_write(target) as out:
        out.write(b"new\n")
    assert target.read_bytes() == b"new\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_check_outputs(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("x\n")
    existing = tmp_path / "exists.jsonl"
    existing.write_text("y\n")
    check_outputs([tmp_path / "new.jsonl"], [src])
    with pytest.raises(OutputExists, match="--force"):
        check_outputs([existing], [src])
    check_outputs([existing], [src], force=True)
    with pytest.raises(OutputIsInput):
        check_outputs([src], [src], force=True)
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    with pytest.raises(OutputIsInput):
        check_outputs([link], [src], force=True)
