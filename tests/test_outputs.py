"""Atomic, non-clobbering output files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ftkit.errors import OutputExists, OutputIsInput
from ftkit.outputs import atomic_outputs, atomic_write, check_outputs


def test_atomic_write_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), atomic_write(target, force=True) as out:
        out.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left behind
    with atomic_write(target, force=True) as out:
        out.write(b"new\n")
    assert target.read_bytes() == b"new\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_final_name_is_never_replaced_without_force(tmp_path: Path) -> None:
    """Another run may create the output while this one works: the last step refuses, and the
    outputs this run already placed are taken back (all or nothing)."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    with pytest.raises(OutputExists, match=r"b\.jsonl already exists"), atomic_outputs([first, second]) as (a, b):
        a.write(b"mine\n")
        b.write(b"mine\n")
        second.write_bytes(b"theirs\n")  # written meanwhile by someone else
    assert second.read_bytes() == b"theirs\n" and not first.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.jsonl"]


def test_outputs_keep_the_permission_bits_of_their_input(tmp_path: Path) -> None:
    src = tmp_path / "secret.jsonl"
    src.write_text("x\n")
    src.chmod(0o600)
    out = tmp_path / "out.jsonl"
    with atomic_write(out, like=src) as stream:
        stream.write(b"y\n")
    assert out.stat().st_mode & 0o777 == 0o600


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
