"""The ``ftkit-validate`` pre-commit hook, run for real with ``pre-commit try-repo``.

pre-commit clones the hook repository, builds a virtualenv and pip-installs ftkit into it, so
this needs the ``pre-commit`` executable and a package index (PyPI or the local pip config).

``try-repo`` of a dirty repository only carries tracked files' changes, never untracked ones,
so the hook repository is a *snapshot* of this checkout's working tree (tracked and untracked,
not ignored) committed into a temporary git repository: the test always checks what is on disk.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK_ID = "ftkit-validate"

_IGNORE = shutil.ignore_patterns(
    ".git", ".ci-venv", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "out",
)


def _pre_commit() -> str | None:
    here = Path(sys.executable).parent / "pre-commit"
    return str(here) if here.is_file() else shutil.which("pre-commit")


PRE_COMMIT = _pre_commit()
pytestmark = pytest.mark.skipif(PRE_COMMIT is None, reason="the pre-commit executable is not installed (pip install 'ftkit[test]')")


def _git_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("GIT_") or key in ("PYTHONPATH", "FTKIT_DEBUG", "VIRTUAL_ENV"):
            env.pop(key)
    env.update(
        GIT_AUTHOR_NAME="ftkit tests", GIT_AUTHOR_EMAIL="tests@ftkit.invalid",
        GIT_COMMITTER_NAME="ftkit tests", GIT_COMMITTER_EMAIL="tests@ftkit.invalid",
        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
        PRE_COMMIT_HOME=str(home / "pre-commit-home"),
        PRE_COMMIT_COLOR="never", NO_COLOR="1",
    )
    # The venv of this interpreter first, so `pre-commit` finds `git` and a usable python.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout


def _working_tree_files(env: dict[str, str]) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files of the checkout (read-only git), or None."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, env=env, capture_output=True, timeout=120,
    )
    if proc.returncode != 0:
        return None
    return [name for name in proc.stdout.decode().split("\0") if name]


def _snapshot(dest: Path, env: dict[str, str]) -> None:
    files = _working_tree_files(env)
    if files is None:  # not a git checkout (an unpacked sdist): copy the tree
        shutil.copytree(ROOT, dest, ignore=_IGNORE)
    else:
        for name in files:
            src = ROOT / name
            if src.is_file():  # deleted-but-tracked files are listed too
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    _git(dest, env, "init", "-q")
    _git(dest, env, "add", "-A")
    _git(dest, env, "commit", "-q", "--no-verify", "-m", "snapshot of the ftkit working tree")


def _record(i: int) -> str:
    return json.dumps({"messages": [
        {"role": "user", "content": f"How do I reset password number {i}?"},
        {"role": "assistant", "content": f"Open settings, then security, then step {i}."},
    ]})


GOOD = "".join(_record(i) + "\n" for i in range(12))
# Line 3 uses a capitalised role (FT109), line 5 is not JSON (FT006).
BAD_LINES = [_record(i) for i in range(12)]
BAD_LINES[2] = BAD_LINES[2].replace('"assistant"', '"Assistant"')
BAD_LINES[4] = "{'messages': []}"
BAD = "".join(line + "\n" for line in BAD_LINES)


def _user_repo(path: Path, env: dict[str, str], files: dict[str, str]) -> Path:
    path.mkdir()
    _git(path, env, "init", "-q")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    _git(path, env, "add", "-A")
    _git(path, env, "commit", "-q", "--no-verify", "-m", "data")
    return path


def _try_repo(hook_repo: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT is not None
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hook_repo), HOOK_ID, "--all-files", "--verbose", "--color", "never"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Two try-repo runs: a repo with a bad and a good file, and a repo with only good data.

    (try-repo installs the hook into a throw-away store each time, so this is two installs;
    with a local wheel cache each takes a few seconds.)
    """
    base = tmp_path_factory.mktemp("precommit")
    env = _git_env(base)
    hook_repo = base / "ftkit-snapshot"
    hook_repo.mkdir()
    _snapshot(hook_repo, env)
    assert (hook_repo / ".pre-commit-hooks.yaml").is_file()

    mixed = _user_repo(base / "mixed", env, {"data/good.jsonl": GOOD, "data/bad.jsonl": BAD})
    clean = _user_repo(base / "clean", env, {
        "data/good.jsonl": GOOD,
        # Not .jsonl: the hook's `files` pattern must keep these away from ftkit (FT001 otherwise).
        "data/notes.txt": "not json at all\n",
        "data/dataset.json": '[{"messages": []}]\n',
        "README.md": "# data\n",
    })
    return {"mixed": _try_repo(hook_repo, mixed, env), "clean": _try_repo(hook_repo, clean, env)}


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def test_hook_fails_on_bad_file_and_names_it(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = runs["mixed"]
    out = _output(proc)
    assert proc.returncode != 0, out
    assert re.search(r"ftkit validate\.+Failed", out), out
    assert "exit code: 1" in out, out
    assert "bad.jsonl" in out
    assert re.search(r"bad\.jsonl:3: FT109\b", out), out
    assert re.search(r"bad\.jsonl:5: FT006\b", out), out
    assert not re.search(r"good\.jsonl:\d+: FT\d{3}", out), out
    assert "Traceback" not in out


def test_hook_passes_on_good_data_only(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = runs["clean"]
    out = _output(proc)
    assert proc.returncode == 0, out
    assert re.search(r"ftkit validate\.+Passed", out), out
    assert "notes.txt" not in out and "dataset.json" not in out
    assert "FT001" not in out


def test_hook_manifest_keys() -> None:
    """The manifest loads with pre-commit's own schema and says what the README promises."""
    clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is not importable from this interpreter")
    load_manifest = clientlib.load_manifest

    (hook,) = [h for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml")) if h["id"] == HOOK_ID]
    assert hook["entry"] == "ftkit validate"
    assert hook["language"] == "python"
    assert re.search(hook["files"], "data/train.jsonl")
    assert not re.search(hook["files"], "data/train.json")
    assert not re.search(hook["files"], "data/train.jsonl.gz")
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is False
