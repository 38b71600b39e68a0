"""The real files in tests/data are the unmodified public originals, each folder with its licence."""

from __future__ import annotations

import hashlib

from support import DATA


def test_every_file_matches_its_recorded_digest() -> None:
    recorded = dict(line.split("  ", 1)[::-1] for line in (DATA / "SHA256SUMS").read_text("utf-8").splitlines())
    present = {str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file() and p.name not in ("README.md", "SHA256SUMS")}
    assert present == set(recorded)
    for name, digest in recorded.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


def test_every_folder_has_a_licence_and_a_row_in_the_readme() -> None:
    readme = (DATA / "README.md").read_text("utf-8")
    for folder in (p for p in DATA.iterdir() if p.is_dir()):
        assert (folder / "LICENSE").is_file(), folder
        data_files = [p.name for p in folder.iterdir() if p.name != "LICENSE"]
        assert data_files, folder
        for name in data_files:
            assert name in readme, f"{folder.name}/{name} has no origin row in tests/data/README.md"
