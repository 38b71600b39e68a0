"""Renderers, exit codes and settings: the JSON golden file, GitHub escaping, text capping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftkit.checks import Selector
from ftkit.cli import cli
from ftkit.findings import FileResult, Finding, Scan
from ftkit.models import Report
from ftkit.render.findings import render_github, render_text
from support import REPO

GOLDEN = Path(__file__).resolve().parent / "golden" / "validate_needs_fixes.json"


def invoke(*args: str, cwd: Path = REPO) -> tuple[int, str]:
    runner = CliRunner()
    with _chdir(cwd):
        result = runner.invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


class _chdir:
    def __init__(self, path: Path) -> None:
        self.path, self.old = path, Path.cwd()

    def __enter__(self) -> None:
        import os

        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        import os

        os.chdir(self.old)


def test_json_output_matches_golden_file() -> None:
    code, out = invoke("validate", "sample_data/needs_fixes.jsonl", "--format", "json")
    assert code == 1
    assert json.loads(out) == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_json_output_is_the_documented_shape() -> None:
    _, out = invoke("validate", "sample_data/", "--format", "json")
    data = json.loads(out)
    assert set(data) == {"version", "profile", "config", "files", "violations", "summary"}
    assert data["version"] == "1"
    assert all(set(f) == {"path", "records", "valid_records", "shape"} for f in data["files"])
    assert all(set(v) == {"path", "line", "pointer", "code", "name", "severity", "message"} for v in data["violations"])
    assert set(data["summary"]["by_severity"]) == {"error", "warning", "info"}
    assert sum(data["summary"]["by_code"].values()) == len(data["violations"])
    assert Report.model_validate(data).fails("error")


def test_clean_file_exits_zero_and_warning_threshold_counts() -> None:
    assert invoke("validate", "sample_data/customer_support.jsonl")[0] == 0
    # needs_fixes without its errors still has warnings: exit 0 at error, 1 at warning
    ignore = "FT0,FT1,FT2"
    assert invoke("validate", "sample_data/needs_fixes.jsonl", "--ignore", ignore)[0] == 0
    assert invoke("validate", "sample_data/needs_fixes.jsonl", "--ignore", ignore, "--fail-on", "warning")[0] == 1


def test_text_caps_findings_with_an_exact_count() -> None:
    code, out = invoke("validate", "sample_data/needs_fixes.jsonl", "--max-shown", "3")
    assert code == 1
    shown = [line for line in out.splitlines() if re.match(r"\s+sample_data/needs_fixes.jsonl:\d+: FT", line)]
    assert len(shown) == 3
    total = len(json.loads(GOLDEN.read_text(encoding="utf-8"))["violations"])
    assert f"... and {total - 3:,} more findings" in out
    assert "Findings by rule:" in out and "FT109 role-invalid" in out


def test_github_annotations_are_escaped() -> None:
    found = [Finding(3, "FT109", "/messages/0", "50% done\r\nnext: line, two"), Finding(None, "FT015", "/messages/0", "m")]
    scan = Scan("siliconflow", {"FT015": "info"}, [FileResult("dir,a:b/100%.jsonl", 1, 0, found)])
    lines = render_github(scan).splitlines()
    assert lines[0] == "::error file=dir%2Ca%3Ab/100%25.jsonl,line=3,title=FT109 role-invalid::50%25 done%0D%0Anext: line, two (at /messages/0)"
    assert lines[1].startswith("::notice file=dir%2Ca%3Ab/100%25.jsonl,title=")
    assert len(lines) == 2


def test_github_format_from_cli() -> None:
    code, out = invoke("validate", "sample_data/needs_fixes.jsonl", "--format", "github")
    assert code == 1
    assert "::error file=sample_data/needs_fixes.jsonl,line=1,title=FT109 role-invalid::" in out
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in out.splitlines())


def test_text_colour_only_on_a_tty() -> None:
    scan = Scan("p", {}, [FileResult("a.jsonl", 1, 0, [Finding(1, "FT005", "", "m")])])
    assert "\x1b[" not in render_text(scan, colour=False)
    assert "\x1b[31m" in render_text(scan, colour=True)
    _, out = invoke("validate", "sample_data/needs_fixes.jsonl")  # CliRunner is not a TTY
    assert "\x1b[" not in out


@pytest.mark.parametrize(("select", "ignore", "code", "expected"), [
    ((), (), "FT109", True),
    (("FT1",), (), "FT109", True),
    (("FT1",), (), "FT203", False),
    ((), ("FT1",), "FT109", False),
    (("FT1",), ("FT10",), "FT109", False),
    (("FT109",), ("FT1",), "FT109", True),   # the longer prefix wins
    (("ft1",), (), "FT109", True),           # case-insensitive
    (("FT1",), ("FT1",), "FT109", False),    # a tie goes to ignore
])
def test_selector(select: tuple[str, ...], ignore: tuple[str, ...], code: str, expected: bool) -> None:
    assert Selector(select, ignore)(code) is expected


def test_settings_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ftkit]\nignore = "FT1,FT2,FT0"\nfail-on = "warning"\nmax-shown = 1\n')
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "Assistant", "content": " "}]}\n')
    code, out = invoke("validate", ".", cwd=data)  # settings found in a parent folder
    assert code == 1  # FT301 warning with fail-on warning; FT109 ignored
    assert "FT109" not in out and "FT301" in out
    code, _ = invoke("validate", "data", "--fail-on", "error", cwd=tmp_path)
    assert code == 0  # the command line wins


def test_bad_settings_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ftkit]\nfail_on_typo = "warning"\n')
    (tmp_path / "a.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    code, out = invoke("validate", "a.jsonl", cwd=tmp_path)
    assert code == 2
    assert "fail_on_typo" in out and "Traceback" not in out


def test_unknown_profile_and_missing_path_exit_2(tmp_path: Path) -> None:
    code, out = invoke("validate", "sample_data/", "--profile", "nope")
    assert code == 2 and "unknown profile 'nope'" in out
    code, out = invoke("validate", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file" in out


def test_profile_extends_and_overrides(tmp_path: Path) -> None:
    profile = tmp_path / "strict.toml"
    profile.write_text('extends = "siliconflow"\nname = "strict"\n[severity]\nFT111 = "error"\n')
    (tmp_path / "a.jsonl").write_text('{"id": 1, "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    code, out = invoke("validate", "a.jsonl", "--profile", str(profile), "--format", "json", cwd=tmp_path)
    data = json.loads(out)
    assert code == 1 and data["profile"] == "strict"
    assert [v["severity"] for v in data["violations"] if v["code"] == "FT111"] == ["error"]


@pytest.mark.parametrize(("override", "message"), [
    ('[data]\nmin_records = "ten"\n', "data.min_records is 'ten', expected int"),
    ('[data]\nroles = "user"\n', "data.roles is 'user', expected list"),
    ('[severity]\nFT101 = "fatal"\n', "severity.FT101 is 'fatal', expected 'error' or 'warning' or 'info'"),
    ('[tokens]\nmax_token = 10\n', "unknown key max_token in tokens"),
    ('colour = "red"\n', "unknown key colour in the profile"),
])
def test_a_broken_profile_is_a_one_line_usage_error(tmp_path: Path, override: str, message: str) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text('extends = "siliconflow"\n' + override)
    (tmp_path / "a.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    code, out = invoke("validate", "a.jsonl", "--profile", str(profile), cwd=tmp_path)
    assert code == 2
    assert message in out and "Traceback" not in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(("table", "message"), [
    ('fail-on = "fatal"', "fail-on is 'fatal'"),
    ("max-shown = -1", "max-shown is -1"),
    ("select = 3", "select must be a list"),
    ("profile = 1", "profile must be a string"),
])
def test_bad_setting_values(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.ftkit]\n{table}\n")
    (tmp_path / "a.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    code, out = invoke("validate", "a.jsonl", cwd=tmp_path)
    assert code == 2 and message in out


def test_validate_text_output_never_imports_pydantic(tmp_path: Path) -> None:
    """The pre-commit hook's path stays light: pydantic is only for JSON and the library API."""
    import subprocess
    import sys

    (tmp_path / "a.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    code = "import sys; from ftkit.cli import main\ntry:\n    main(['validate', 'a.jsonl'])\nexcept SystemExit:\n    pass\nprint('pydantic' in sys.modules, 'polars' in sys.modules, 'tiktoken' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False False"


@pytest.mark.parametrize("args", [["--select", "FT999"], ["--select", "XYZ"], ["--ignore", "FT9"], ["--ignore", "FT1,F0X"]])
def test_a_code_that_matches_no_rule_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "a.jsonl").write_text("not json\n")
    code, out = invoke("validate", "a.jsonl", *args, cwd=tmp_path)
    assert code == 2 and "unknown rule code or prefix" in out


def test_selector_accepts_family_prefixes() -> None:
    assert Selector(["FT", "FT1", "ft20"], ["FT5"])("FT203")


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    """Commands are loaded when asked for (``ftkit.cli.COMMANDS``): validate starts without the
    other commands' modules, the report's and repairs' library, decimal and OpenSSL's hashlib."""
    import subprocess
    import sys

    record = '{"messages": [{"role": "user", "content": "Hi %d"}, {"role": "assistant", "content": "Yo"}]}\n'
    (tmp_path / "a.jsonl").write_text("".join(record % i for i in range(4)))  # distinct: no copy to re-read (FT501 digests)
    unwanted = ["ftkit.cli.plan", "ftkit.cli.report", "ftkit.cli.repair", "ftkit.cli.show", "ftkit.cli.split", "ftkit.cli.stats",
                "ftkit.api.reports", "ftkit.api.repair", "decimal", "_hashlib", "ftkit.tokens.tokenizer"]  # fmt: skip
    code = (  # (in two processes, as a big file is: the fork looks for tokenizers being built only if there can be any)
        "import sys; from ftkit.cli import main; from ftkit.scan import parallel; parallel.PARALLEL_FROM = 0\n"
        "try:\n    main(['validate', 'a.jsonl'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {unwanted!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_module_is_listed() -> None:
    """A command whose module ``ftkit.cli.COMMANDS`` does not name would never be found."""
    import importlib
    import pkgutil

    import ftkit.cli as commands

    for module in pkgutil.iter_modules(commands.__path__):
        if module.name != "__main__":  # (which runs the command line)
            importlib.import_module(f"ftkit.cli.{module.name}")
    assert sorted(commands.cli.commands) == sorted(commands.COMMANDS)
    for name, module in commands.COMMANDS.items():
        assert commands.cli.commands[name].callback.__module__ == f"ftkit.cli.{module}"  # type: ignore[union-attr]


def test_the_lazy_packages_answer_as_eager_ones_would() -> None:
    """``ftkit`` and ``ftkit.api`` import their names on first use (``ftkit.lazy_attribute``):
    every name, the submodules and ``dir()`` still answer, and an unknown name is an AttributeError."""
    import ftkit.api

    for name in ftkit.api.__all__:
        assert getattr(ftkit.api, name) is ftkit.api.__getattr__(name)
    assert ftkit.api.__getattr__("core").__name__ == "ftkit.api.core"
    assert {"report", "validate", "core"} <= set(dir(ftkit.api))
    assert ftkit.report is ftkit.api.report
    for package in (ftkit, ftkit.api):
        with pytest.raises(AttributeError, match="has no attribute 'nope'"):
            package.__getattr__("nope")
