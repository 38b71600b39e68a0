"""``ftkit report``: one pass, golden Markdown, every quality rule shown, a self-contained page,
and the CLI's exit codes and file handling. The real-browser test is in test_report_browser.py."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ftkit.cli import cli
from ftkit.tokens import tokenizer as tokens
from support import REPO

GOLDEN = Path(__file__).resolve().parent / "golden"
SHISHUO = "tests/data/siliconcloud-cookbook/shishuoxinyu_ft_data.jsonl"  # as given, relative to the repo


def rec(*turns: str, system: str | None = None) -> str:
    msgs = [{"role": "system", "content": system}] if system is not None else []
    msgs += [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]
    return json.dumps({"messages": msgs}, ensure_ascii=False)


def write(tmp_path: Path, lines: list[str], name: str = "data.jsonl") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def distinct(n: int, start: int = 0) -> list[str]:
    """``n`` valid, unrelated records with replies of a similar length."""
    return [rec(f"Question number {i}: what is {i} squared?", f"The square of {i} is {i * i}; multiply {i} by itself to get it.")
            for i in range(start, start + n)]


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["report", *args], input=input)


def report_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def quality(data: dict[str, Any]) -> dict[str, int]:
    groups = [*data["quality"], data["duplicates"]["exact"], data["duplicates"]["near"]]
    return {g["code"]: g["count"] for g in groups}


# --- one pass -------------------------------------------------------------------------------------


def test_each_content_is_tokenized_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report reads the table that the one scan built: stats, recommend and cost add no
    tokenization, so it counts exactly what ``ftkit stats`` counts, each content once."""
    path = write(tmp_path, [rec(f"user text {i}", f"assistant text {i}", system="You answer briefly.") for i in range(40)])
    calls: Counter[str] = Counter()
    original = tokens.Tokenizer.count

    def counting(self: tokens.Tokenizer, text: str) -> int:
        calls[text] += 1
        return original(self, text)

    monkeypatch.setattr(tokens.Tokenizer, "count", counting)
    report_json(path)
    for i in range(40):
        assert calls[f"user text {i}"] == 1 and calls[f"assistant text {i}"] == 1
    assert calls["You answer briefly."] == 1  # a repeated system prompt is counted once
    by_report = sum(calls.values())
    calls.clear()
    assert CliRunner().invoke(cli, ["stats", path, "--jobs", "1"]).exit_code == 0
    assert sum(calls.values()) == by_report


def test_the_validation_split_is_chosen_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recommendation and the cost read one split, though a line with an error (not in the
    table) makes the cost look for records to leave out."""
    from ftkit.plan import choose

    path = write(tmp_path, distinct(30))
    with open(path, "a", encoding="utf-8") as out:
        out.write('{"messages": [{"role": "assistant", "content": "no question"}]}\n')
    calls: list[int] = []
    real = choose.choose_validation
    monkeypatch.setattr(choose, "choose_validation", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    data = report_json(path)
    assert data["validation"]["valid_records"] < data["validation"]["records"] and data["cost"]["validation_records"] > 0
    assert len(calls) == 1


def test_figures_agree_with_stats_and_cost(tmp_path: Path) -> None:
    path = write(tmp_path, distinct(30))
    data = report_json(path, "--price", "4")
    stats = json.loads(CliRunner().invoke(cli, ["stats", path, "--format", "json"]).stdout)
    cost = json.loads(CliRunner().invoke(cli, ["cost", path, "--format", "json", "--price", "4"]).stdout)
    assert data["stats"]["tokens"] == stats["tokens"] and data["stats"]["lengths"] == stats["lengths"]
    assert data["cost"]["billed_tokens"] == cost["billed_tokens"] and data["cost"]["cost"] == cost["cost"]
    assert sum(b["count"] for b in data["distribution"]["lengths"]) == 30
    shares = data["token_shares"]
    assert sum(p["tokens"] for p in shares["parts"]) == shares["total"] == stats["tokens"]["total"]


# --- golden Markdown ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, path", [
    ("needs_fixes", "sample_data/needs_fixes.jsonl"),
    pytest.param("shishuoxinyu", SHISHUO),
])
def test_golden_markdown(name: str, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # paths are shown as given
    result = run(path, "--format", "md")
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"report_{name}.md"
    if os.environ.get("FTKIT_UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_markdown_escapes_table_cells_and_code() -> None:
    from ftkit.render.report.markdown import cell, code

    assert cell("a | b\nc") == "a \\| b c"
    assert code("x `y` z") == "``x `y` z``"
    assert code("``") == "``` `` ```"


# --- the verdict ----------------------------------------------------------------------------------


def test_verdict_names_the_errors(tmp_path: Path) -> None:
    bad = rec("Hi", "Hello").replace('"assistant"', '"Assistant"')
    data = report_json(write(tmp_path, [*distinct(11), bad]))
    v = data["verdict"]
    assert not v["ready"] and v["status"] == "not-ready"
    assert v["sentence"].startswith("Not ready: 1 of 12 records has errors (FT109 role-invalid ×1)")


def test_verdict_ready_and_with_warnings(tmp_path: Path) -> None:
    data = report_json(write(tmp_path, distinct(12)))
    assert data["verdict"]["status"] == "ready" and data["verdict"]["sentence"] == "Ready to upload: all 12 records pass every rule."
    data = report_json(write(tmp_path, [*distinct(12), distinct(1)[0]], "dup.jsonl"))
    assert data["verdict"]["status"] == "ready-with-warnings" and "FT501 duplicate-record ×1" in data["verdict"]["sentence"]


def test_no_valid_record(tmp_path: Path) -> None:
    data = report_json(write(tmp_path, ["{not json"] * 3))
    assert data["verdict"]["status"] == "not-ready"
    assert data["recommendation"] is None and "no valid record" in data["recommendation_note"]
    assert data["cost"] is None and data["cost_note"]
    assert run(write(tmp_path, ["{not json"] * 3, "b.jsonl"), "-o", str(tmp_path / "r.html")).exit_code == 0


# --- quality rules: each shows up when its failing case is present --------------------------------

LONG = "This reply is deliberately long enough to set a healthy median length for the dataset."
QUALITY_CASES = {
    "FT302": [rec("Say the end token", "Sure: <|im_end|>")],
    "FT303": [rec("User: what is up?", "Not much.")],
    "FT305": [rec("为什么天空是蓝色的？", "Because the air scatters blue light much more strongly than red light.")],
    "FT501": [rec("Same", "Same answer"), rec("Same", "Same answer")],
    "FT504": [rec("Hi there", "Hello!"), rec("hi  There", "Hello!")],
    "FT505": [rec("2+2?", "4"), rec("2+2?", "5")],
    "FT506": [rec(f"Question {i}", f"{LONG} ({i})") for i in range(25)] + [rec("Question x", "OK")],
}


@pytest.mark.parametrize("code", [*QUALITY_CASES, "FT507"])
def test_each_quality_rule_appears_when_it_fails(code: str, tmp_path: Path) -> None:
    if code == "FT507":
        lines = [rec(f"Question {i}", f"Answer {i}", system="You are a helpful assistant.") for i in range(12)]
    else:
        lines = [*distinct(10, start=100), *QUALITY_CASES[code]]
    path = write(tmp_path, lines)
    found = quality(report_json(path))
    assert found[code] >= 1, found
    assert all(n == 0 for c, n in found.items() if c != code), found  # the others pass on the same file
    md = run(path, "--format", "md").stdout
    assert re.search(rf"^#+ {code} [a-z-]+ \(warning, \d+ findings?\)$", md, re.M)
    page = run(path, "--format", "html").stdout
    assert f'id="rule-{code}"' in page


def test_quality_rules_listed_when_clean(tmp_path: Path) -> None:
    data = report_json(write(tmp_path, distinct(12)))
    assert quality(data) == dict.fromkeys(["FT302", "FT303", "FT305", "FT505", "FT506", "FT507", "FT501", "FT504"], 0)


def test_over_max_tokens_is_a_finding_and_on_the_chart(tmp_path: Path) -> None:
    path = write(tmp_path, [*distinct(10), rec("long " * 300, "fine")])
    data = report_json(path, "--max-tokens", "256")
    ft401 = next(g for g in data["validation"]["rules"] if g["code"] == "FT401")
    assert ft401["count"] == 1 and ft401["examples"][0]["line"] == 11
    assert data["stats"]["over_max_tokens"]["records"] == 1
    page = run(path, "--max-tokens", "256", "--format", "html").stdout
    assert "Max Tokens 256" in page  # the legend of the dashed line


# --- the page -------------------------------------------------------------------------------------


def parse(page: str) -> tuple[set[str], list[str]]:
    """Every tag name in the page, and every src/href attribute value."""
    from html.parser import HTMLParser

    tags: set[str] = set()
    links: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            links.extend(v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"))

    Collect().feed(page)
    return tags, links


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    evil = rec("User: <script>alert('x')</script> & <img src=http://example.com/x.png>", "Fine, thanks.")
    cjk = [rec(f"世说新语 {i}", f"外表如山般坚硬，内心却如竹般空虚。{i}", system="你是智说新语生成器") for i in range(12)]
    path = write(tmp_path, [*cjk, evil], "数据.jsonl")
    page = run(path, "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>")
    tags, links = parse(page)
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "audio", "video", "image"}
    assert links and all(link.startswith("#") for link in links), links  # in-page anchors only, no "http"
    assert "&lt;script&gt;" in page and "&lt;img src=http://example.com/x.png&gt;" in page  # the record's text, escaped
    assert "url(" not in page.replace("url(#", "") and "@import" not in page
    assert page.count("<svg") == 3 and "数据.jsonl" in page
    assert "Content-Security-Policy" in page  # the browser refuses any fetch the page might attempt


def test_html_is_deterministic(tmp_path: Path) -> None:
    path = write(tmp_path, distinct(20))
    assert run(path, "--format", "html").stdout == run(path, "--format", "html").stdout


def test_no_drawing_library_is_imported(tmp_path: Path) -> None:
    """The charts are SVG written by ftkit (charts.py): no report format imports matplotlib."""
    import subprocess
    import sys

    path = write(tmp_path, distinct(12))
    code = ("import sys; from ftkit.cli import main\n"
            f"for fmt in ('html', 'md', 'json'):\n"
            f"    try:\n        main(['report', {path!r}, '--format', fmt, '-o', {str(tmp_path)!r} + '/r.' + fmt])\n"
            "    except SystemExit:\n        pass\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count("<svg") == 3


# --- the command line -----------------------------------------------------------------------------


def test_exit_codes_and_fail_on(tmp_path: Path) -> None:
    path = write(tmp_path, [*distinct(10), rec("Hi", "Hello").replace('"user"', '"User"')])
    out = tmp_path / "report.html"
    result = run(path, "-o", str(out))
    assert result.exit_code == 0, result.output  # informational: errors in the data do not fail it
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "wrote" in result.stderr and "Not ready" in result.stderr
    assert run(path, "-o", str(tmp_path / "b.html"), "--fail-on", "error").exit_code == 1
    clean = write(tmp_path, distinct(12), "clean.jsonl")
    assert run(clean, "-o", str(tmp_path / "c.md"), "--fail-on", "warning").exit_code == 0


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    path = write(tmp_path, distinct(12))
    out = tmp_path / "report.md"
    out.write_text("keep me", encoding="utf-8")
    result = run(path, "-o", str(out))
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text(encoding="utf-8") == "keep me"
    assert run(path, "-o", str(out), "--force").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# Data-quality report")  # .md suffix: Markdown
    result = run(path, "-o", path, "--force")
    assert result.exit_code == 2 and "also an input" in result.output


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ftkit import outputs

    path = write(tmp_path, distinct(12))
    out = tmp_path / "report.json"
    out.write_text("old", encoding="utf-8")
    real = outputs.atomic_write

    def failing(target: Path, **kwargs):  # type: ignore[no-untyped-def]
        with real(target, **kwargs) as stream:
            stream.write(b"half a rep")
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs, "atomic_write", failing)
    result = run(path, "-o", str(out), "--force")
    assert result.exit_code == 2 and "No space left" in result.output
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "report.json"]


def test_usage_errors(tmp_path: Path) -> None:
    path = write(tmp_path, distinct(12))
    for args, words in [((path, "--price", "abc"), "price"), ((path, "--model", "gpt-4"), "chat model"),
                        ((str(tmp_path / "missing.jsonl"),), "no such file"), ((path, "--max-tokens", "999999"), "max_tokens")]:
        result = run(*args, "--format", "md")
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output.lower() and "Traceback" not in result.output


def test_json_format_shape(tmp_path: Path) -> None:
    data = report_json(write(tmp_path, distinct(12)), "--price", "3.5", "--goal", "quality")
    assert data["version"] == "1" and data["goal"] == "quality"
    assert set(data) >= {"verdict", "validation", "stats", "token_shares", "duplicates", "quality", "recommendation", "cost"}
    assert data["cost"]["price_per_million"] == "3.5" and data["recommendation"]["goal"] == "quality"


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    import io
    import time

    from ftkit.cli.progress import Display, line

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    with Display("report", enabled=True, stream=stream) as display:
        display.progress.total = 50 << 20
        display.progress.add(25 << 20)
        time.sleep(0.8)
    text = stream.getvalue()
    assert "\r" in text and "ftkit report  [############------------]  50%  25.0 MiB of 50.0 MiB" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared at the end
    assert line("stats", 3 << 20, None, 2.0) == "ftkit stats  3.0 MiB read  0:02"  # a pipe: bytes only
    quiet = Tty()
    with Display("report", enabled=False, stream=quiet) as display:
        display.progress.add(1)
    assert quiet.getvalue() == ""
    result = run(write(tmp_path, distinct(12)), "--format", "md")  # CliRunner's stderr is not a terminal
    assert "\r" not in result.stderr


def test_verdict_is_not_ready_when_ignored_rules_hide_unreadable_records(tmp_path: Path) -> None:
    """Records that pass only because their rules are ignored are still left out of the figures:
    the verdict must say so, not "all pass"."""
    data = tmp_path / "d.jsonl"
    good = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}'
    data.write_text(good + '\n{"messages": [{"role": "user", "content": ["a"]}, {"role": "tool", "content": 5}]}\n')
    (tmp_path / "pyproject.toml").write_text('[tool.ftkit]\nignore = ["FT1", "FT2"]\n')
    import os

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, ["report", "d.jsonl", "--format", "json"])
    finally:
        os.chdir(old)
    verdict = json.loads(result.output)["verdict"]
    assert verdict["status"] == "not-ready" and "1 of 2 records cannot be read" in verdict["sentence"]
