"""The built wheel carries the rules data and works when installed away from the source tree.

One wheel is built per session from the working tree (``python -m build --wheel``); it is then
unpacked with ``pip install --no-deps --target`` and run with this interpreter (which has the
dependencies) from a directory outside the checkout, so nothing can fall back to ``./rules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"

_SKIP_PARTS = {"__pycache__"}


def _clean_env() -> dict[str, str]:
    """The environment without anything that would put the source checkout on sys.path."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("FTKIT_DEBUG", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600, cwd=out, env=_clean_env(),
    )
    assert proc.returncode == 0, f"wheel build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    wheels = list(out.glob("ftkit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked into a --target directory (no dependencies: this interpreter has them)."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=600, cwd=target, env=_clean_env(),
    )
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert (target / "ftkit" / "__init__.py").is_file()
    return target


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _rules_files() -> list[Path]:
    return sorted(p for p in RULES.rglob("*") if p.is_file() and not _SKIP_PARTS & set(p.parts))


def test_wheel_contains_profile_and_tokenizers(wheel: Path) -> None:
    names = _names(wheel)
    assert "ftkit/_rules/profiles/siliconflow.toml" in names
    assert "ftkit/_rules/tokenizers.toml" in names


def test_wheel_contains_every_rules_file_unchanged(wheel: Path) -> None:
    files = _rules_files()
    assert files, "the checkout has no rules/ files?"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [str(p.relative_to(ROOT)) for p in files if f"ftkit/_rules/{p.relative_to(RULES).as_posix()}" not in names]
        assert not missing, f"rules files missing from the wheel: {missing}"
        for p in files:
            packed = zf.read(f"ftkit/_rules/{p.relative_to(RULES).as_posix()}")
            assert packed == p.read_bytes(), f"{p.relative_to(ROOT)} differs in the wheel"


def test_wheel_contains_every_module_and_entry_point(wheel: Path) -> None:
    names = _names(wheel)
    modules = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "ftkit").rglob("*.py") if not _SKIP_PARTS & set(p.parts)
    )
    missing = [m for m in modules if m not in names]
    assert not missing, f"modules missing from the wheel: {missing}"
    # Nothing from the repo's tests or sample data leaks into the wheel.
    assert not [n for n in names if n.startswith(("tests/", "sample_data/", "rules/"))]
    with zipfile.ZipFile(wheel) as zf:
        entry_points = next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = zf.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert "ftkit = ftkit.cli:main" in text


def _run_installed(target: Path, cwd: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.path.insert(0, {str(target)!r}); "
    return subprocess.run(
        [sys.executable, "-c", prelude + code, *args],
        capture_output=True, text=True, timeout=300, cwd=cwd, env=_clean_env(),
    )


def test_installed_package_uses_packaged_rules(installed: Path, tmp_path: Path) -> None:
    code = (
        "import json, ftkit, ftkit.policy.profile as p; "
        "prof = p.load_profile('siliconflow'); "
        "print(json.dumps({'module': ftkit.__file__, 'rules': str(p.rules_dir()), 'profile': prof.name}))"
    )
    proc = _run_installed(installed, tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    pkg = (installed / "ftkit").resolve()
    assert Path(info["module"]).resolve().parent == pkg, "imported ftkit from the checkout, not the wheel"
    assert Path(info["rules"]).resolve() == pkg / "_rules"
    assert (pkg / "_rules" / "profiles" / "siliconflow.toml").is_file()
    assert info["profile"] == "siliconflow"


def _record(i: int) -> str:
    return json.dumps({"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": f"Question number {i}?"},
        {"role": "assistant", "content": f"Answer number {i}."},
    ]}, ensure_ascii=False)


def test_installed_cli_validates_outside_checkout(installed: Path, tmp_path: Path) -> None:
    good = tmp_path / "train.jsonl"
    good.write_text("".join(_record(i) + "\n" for i in range(10)), encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(_record(i) + "\n" for i in range(9)) + '{"messages": [{"role": "Assistant", "content": "x"}]}\n', encoding="utf-8")
    main = "from ftkit.cli import main; sys.argv[0] = 'ftkit'; main()"

    ok = _run_installed(installed, tmp_path, main, "validate", good.name)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Traceback" not in ok.stderr

    flagged = _run_installed(installed, tmp_path, main, "validate", "--format", "json", bad.name)
    assert flagged.returncode == 1, flagged.stdout + flagged.stderr
    codes = {v["code"] for v in json.loads(flagged.stdout)["violations"]}
    assert "FT109" in codes

    rules = _run_installed(installed, tmp_path, main, "rules", "--format", "json")
    assert rules.returncode == 0, rules.stderr
    assert any(row["code"] == "FT001" for row in json.loads(rules.stdout))

