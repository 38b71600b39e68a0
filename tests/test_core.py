"""One core under every command: the library's verbs, standard input, one settings resolution,
one reader, immutable policy, and a layout without import cycles."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import ftkit
from ftkit.cli import cli
from support import DATA, REPO

SHISHUO = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
VERBS = ("validate", "stats", "split", "recommend", "cost", "report", "fix", "convert")


def rec(user: str, answer: str = "ok") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """The installed console entry point, in a real process (real pipes, real stdin)."""
    code = "import sys; from ftkit.cli import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], input=stdin, capture_output=True, cwd=cwd or REPO, check=False)


# --- the library ------------------------------------------------------------------------------------


def test_help_lists_the_eight_verbs() -> None:
    done = subprocess.run([sys.executable, "-c", "import ftkit; help(ftkit)"], capture_output=True, text=True, check=True,
                          env={"PAGER": "cat", "PATH": "/usr/bin:/bin"})  # fmt: skip
    functions = done.stdout.split("FUNCTIONS", 1)[1]
    for verb in VERBS:
        assert f"\n    {verb}(" in functions, verb
    assert all(callable(getattr(ftkit, verb)) for verb in VERBS)


def test_every_verb_works_on_a_file_and_returns_its_documented_json(tmp_path: Path) -> None:
    results = {
        "validate": ftkit.validate(SHISHUO),
        "stats": ftkit.stats(SHISHUO),
        "split": ftkit.split(SHISHUO, tmp_path / "split"),
        "recommend": ftkit.recommend(SHISHUO),
        "cost": ftkit.cost(SHISHUO, price="4.5"),
        "report": ftkit.report(SHISHUO, output=tmp_path / "r.md"),
        "fix": ftkit.fix(SHISHUO, tmp_path / "fixed.jsonl"),
        "convert": ftkit.convert(SHISHUO, tmp_path / "converted.jsonl"),
    }
    for verb, result in results.items():
        cli_args = {
            "validate": ["validate", str(SHISHUO), "--format", "json", "--no-config"],
            "stats": ["stats", str(SHISHUO), "--format", "json", "--no-config"],
            "recommend": ["recommend", str(SHISHUO), "--format", "json", "--no-config"],
            "cost": ["cost", str(SHISHUO), "--price", "4.5", "--format", "json", "--no-config"],
        }.get(verb)
        dumped = result.model_dump(mode="json")
        if cli_args:
            out = CliRunner().invoke(cli, cli_args)
            assert json.loads(out.stdout) == dumped, verb
    assert results["split"].train.records + results["split"].validation.records == 178
    assert (tmp_path / "r.md").read_text("utf-8").startswith("# Data-quality report")
    assert results["fix"].written == results["convert"].written == 178


def test_validate_and_stats_take_records_in_memory() -> None:
    records = [json.loads(line) for line in SHISHUO.read_text("utf-8").splitlines()]
    on_file, in_memory = ftkit.stats(SHISHUO), ftkit.stats(records)
    assert in_memory.tokens == on_file.tokens and in_memory.lengths == on_file.lengths
    frame = pl.DataFrame({"messages": [r["messages"] for r in records]})
    assert ftkit.stats(frame).tokens == on_file.tokens
    bad = [rec("hi"), {"messages": [{"role": "user", "content": "x"}]}, {"messages": [{"role": "bot", "content": float("nan")}]}]
    report = ftkit.validate(iter(bad))  # a generator too
    found = {(v.line, v.code) for v in report.violations}
    assert {(2, "FT204"), (3, "FT109"), (3, "FT009")} <= found and report.files[0].path == "<records>"
    with pytest.raises(ftkit.InputError, match="no 'messages' column"):
        ftkit.validate(pl.DataFrame({"text": ["a"]}))


def test_an_iterable_setting_is_read_once() -> None:
    codes = (c for c in ["FT111", "FT502"])
    report = ftkit.validate(DATA / "anthropic-cookbook" / "json_mode_dataset.jsonl", ignore=codes)
    assert "FT111" not in report.summary.by_code  # the generator was not used up before it counted


def test_the_readme_library_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("## Library", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "13 records, 671 tokens, 301 trainable" in done.stdout and "{'FT502': 1}" in done.stdout


def test_the_wheel_is_typed() -> None:
    assert (REPO / "ftkit" / "py.typed").is_file()


def test_a_cached_profile_cannot_be_changed() -> None:
    profile = ftkit.load_profile("siliconflow")
    with pytest.raises(TypeError):
        profile.severity["FT111"] = "error"  # type: ignore[index]
    with pytest.raises(AttributeError):
        profile.data.roles.append("tool")  # type: ignore[attr-defined]
    assert ftkit.load_profile("siliconflow").severity["FT111"] == "warning"


def test_errors_share_one_base_and_shadow_nothing() -> None:
    import ftkit.errors as errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert all(issubclass(c, errors.FtkitError) for c in classes)
    names = {c.__name__ for c in classes}
    assert not names & {"ValidationError", "ValueError", "OSError", "FileExistsError"}
    with pytest.raises(ftkit.InputError, match="no such file"):
        ftkit.stats("/nonexistent/file.jsonl")
    with pytest.raises(ftkit.ProfileError):
        ftkit.validate(SHISHUO, profile="nope")
    with pytest.raises(ftkit.ParameterError):
        ftkit.split(SHISHUO, "/tmp/never", val_ratio=2.0)


# --- standard input ---------------------------------------------------------------------------------


def _without_names(data: Any, name: str) -> Any:
    text = json.dumps(data).replace(json.dumps(name)[1:-1], "<input>").replace("<stdin>", "<input>")
    return json.loads(text)


@pytest.mark.parametrize("command", ["validate", "stats", "report"])
def test_stdin_gives_what_the_file_gives(command: str) -> None:
    path = "sample_data/needs_fixes.jsonl"
    extra = ["--format", "json", "--no-config"]
    from_file = run(command, path, *extra)
    from_pipe = run(command, "-", *extra, stdin=(REPO / path).read_bytes())
    assert from_pipe.returncode == from_file.returncode, from_pipe.stderr
    assert _without_names(json.loads(from_pipe.stdout), path) == _without_names(json.loads(from_file.stdout), path)


def test_dev_stdin_and_process_substitution_are_read_as_streams(tmp_path: Path) -> None:
    data = SHISHUO.read_bytes()
    done = run("validate", "/dev/stdin", "--format", "json", "--no-config", stdin=data)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["files"][0]["records"] == 178 and not report["violations"][1:]
    shell = subprocess.run(["bash", "-c", f"{sys.executable} -m ftkit validate <(cat {SHISHUO}) --format json --no-config"],
                           capture_output=True, cwd=REPO, check=False)  # fmt: skip
    assert shell.returncode == 0 and json.loads(shell.stdout)["files"][0]["records"] == 178


def test_split_fix_and_convert_read_stdin(tmp_path: Path) -> None:
    data = SHISHUO.read_bytes()
    split = run("split", "-", "--out-dir", str(tmp_path / "s"), "--format", "json", stdin=data)
    assert split.returncode == 0, split.stderr
    on_file = ftkit.split(SHISHUO, tmp_path / "f")
    assert (tmp_path / "s" / "train.jsonl").read_bytes() == (tmp_path / "f" / "train.jsonl").read_bytes()
    assert json.loads(split.stdout)["input"] == "<stdin>" and on_file.validation.records == json.loads(split.stdout)["validation"]["records"]
    fixed = run("fix", "-", "-o", str(tmp_path / "fixed.jsonl"), stdin=data)
    assert fixed.returncode == 0 and (tmp_path / "fixed.jsonl").read_bytes() == data
    converted = run("convert", "-", "-o", str(tmp_path / "c.jsonl"), stdin=data)
    assert converted.returncode == 0 and len((tmp_path / "c.jsonl").read_bytes().splitlines()) == 178
    refused = run("fix", "-", "--in-place", stdin=data)
    assert refused.returncode == 2 and b"--in-place needs a file" in refused.stderr


# --- one settings resolution ------------------------------------------------------------------------


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """A project whose [tool.ftkit] names a profile (relative to the pyproject) with Max Tokens 16."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "tight.toml").write_text('extends = "siliconflow"\nname = "tight"\n[tokens]\nmax_tokens = 16\n[split]\nvalidation_ratio = 0.5\n')
    (tmp_path / "pyproject.toml").write_text('[tool.ftkit]\nprofile = "policy/tight.toml"\n')
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.jsonl").write_bytes(SHISHUO.read_bytes())
    return tmp_path


@pytest.mark.parametrize("command, key, plain", [
    ("stats", lambda d: d["over_max_tokens"]["limit"], 4096),
    ("recommend", lambda d: d["profile"], "siliconflow"),
    ("cost", lambda d: d["max_tokens"], 4096),
    ("report", lambda d: d["profile"], "siliconflow"),
])  # fmt: skip
def test_the_configured_profile_changes_every_command(configured: Path, command: str, key: Any, plain: Any) -> None:
    got = run(command, "d.jsonl", "--format", "json", cwd=configured / "data")
    assert got.returncode == 0, got.stderr
    assert key(json.loads(got.stdout)) != plain
    ignored = run(command, "d.jsonl", "--format", "json", "--no-config", cwd=configured / "data")
    assert key(json.loads(ignored.stdout)) == plain


def test_the_configured_profile_changes_split(configured: Path) -> None:
    got = run("split", "d.jsonl", "--out-dir", "out", "--format", "json", cwd=configured / "data")
    assert got.returncode == 0 and json.loads(got.stdout)["ratio"] == 0.5


def test_the_output_names_the_settings_used(configured: Path) -> None:
    text = run("validate", "d.jsonl", cwd=configured / "data").stdout.decode()
    assert text.splitlines()[0] == f"settings: [tool.ftkit] in {configured / 'pyproject.toml'}"
    data = json.loads(run("validate", "d.jsonl", "--format", "json", cwd=configured / "data").stdout)
    assert data["config"] == str(configured / "pyproject.toml") and data["profile"] == "tight"


def test_settings_above_the_repository_root_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ftkit]\nignore = ["FT"]\n')  # would switch every rule off
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "bad.jsonl").write_bytes(b"\x1f\x8b\x08\x00" + bytes(30))
    done = run("validate", "bad.jsonl", "--format", "json", cwd=project)
    assert done.returncode == 1 and json.loads(done.stdout)["config"] is None
    assert "FT012" in json.loads(done.stdout)["summary"]["by_code"]


# --- one reader ---------------------------------------------------------------------------------------


def test_records_over_several_lines_are_hashed_whole(tmp_path: Path) -> None:
    """FT008 ignored: three different pretty-printed records are three records, not copies of
    their first line."""
    path = tmp_path / "pretty.jsonl"
    path.write_text("".join(json.dumps(rec(f"question {i}"), indent=2) + "\n" for i in range(3)) * 1, encoding="utf-8")
    report = ftkit.validate(path, ignore=["FT008", "FT502"])
    assert report.files[0].records == 3 and not report.violations
    again = tmp_path / "again.jsonl"
    again.write_text(path.read_text("utf-8") * 2, encoding="utf-8")
    copies = [(v.line, v.message) for v in ftkit.validate(again, ignore=["FT008", "FT502"]).violations]
    size = len(json.dumps(rec("question 0"), indent=2).splitlines())  # lines per record
    assert [line for line, _ in copies] == [3 * size + 1, 4 * size + 1, 5 * size + 1]
    assert [m.split(";")[0] for _, m in copies] == [f"this record is identical to line {k * size + 1}" for k in range(3)]


def test_every_command_reads_through_the_one_reader() -> None:
    """Only the reader splits bytes into lines: no module besides it iterates a file's lines
    (its re-reading half, ``fetch.py``, reads lines again at the marks the reader left)."""
    offenders = []
    for path in (REPO / "ftkit").rglob("*.py"):
        if path.name in ("reader.py", "fetch.py", "inputs.py"):
            continue
        text = path.read_text("utf-8")
        if ".split(b\"\\n\")" in text or "readline(" in text or (".splitlines()" in text and "open(" in text):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


# --- layout -------------------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ftkit"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ftkit"))
    return found


def _module_graph() -> dict[str, set[str]]:
    modules = {}
    for path in (REPO / "ftkit").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycles() -> None:
    graph = _module_graph()
    # a package's __init__ may gather its submodules (e.g. the rule registry loads the families)
    edges = {m: {d for d in deps if not m.startswith(d + ".") and not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                cycle.extend([*stack[stack.index(dep):], dep] if dep in stack else [node, dep])
                return True
            if not state.get(dep) and visit(dep, [*stack, dep]):
                return True
        state[node] = 2
        return False

    for module in sorted(edges):
        if not state.get(module) and visit(module, [module]):
            break
    assert cycle == []


@pytest.mark.parametrize("layer, forbidden", [
    ("ftkit.scan.reader", ("ftkit.policy", "ftkit.checks", "ftkit.tokens", "ftkit.plan")),  # reading knows no policy
    ("ftkit.scan.parse", ("ftkit.policy", "ftkit.checks", "ftkit.tokens", "ftkit.plan")),
    ("ftkit.checks", ("ftkit.tokens", "ftkit.plan", "ftkit.scan")),  # checks never import the tokenizer
    ("ftkit.tokens.tokenizer", ("ftkit.scan", "ftkit.plan", "ftkit.checks")),  # the tokenizer knows no dataset
    ("ftkit.render", ("ftkit.scan", "ftkit.plan.table", "ftkit.tokens")),  # renderers compute nothing
    ("ftkit.api", ()),
])  # fmt: skip
def test_layers(layer: str, forbidden: tuple[str, ...]) -> None:
    graph = _module_graph()
    for module, deps in graph.items():
        if module == layer or module.startswith(layer + "."):
            bad = sorted(d for d in deps if d.startswith(forbidden)) if forbidden else []
            assert bad == [], (module, bad)
    library = [m for m in graph if not m.startswith("ftkit.cli")]
    for module in library:
        source = (REPO / Path(*module.split("."))).with_suffix(".py")
        path = source if source.is_file() else REPO / Path(*module.split(".")) / "__init__.py"
        text = path.read_text("utf-8")
        assert not re.search(r"(?<![\w.])print\(|sys\.exit\(", text), module  # the library never prints or exits
