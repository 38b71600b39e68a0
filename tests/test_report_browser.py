"""The HTML report in a real browser: headless Chromium (Debian package ``chromium``, installed
by ``.ci/run``) loads the page without console errors, draws it (a screenshot) and shows the key
numbers in its DOM. Dependency-free: Chromium's own ``--dump-dom``, ``--screenshot`` and
``--enable-logging=stderr`` (every console message and uncaught error is logged as ``CONSOLE``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftkit.cli import cli
from support import REPO

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install chromium; .ci/run does it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def console_errors(stderr: str) -> list[str]:
    """Console messages and uncaught errors from Chromium's log (the report has no script, so
    any console message at all is a problem: a blocked fetch, a CSP violation, a script error)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def make_report(tmp_path: Path, source: Path, *args: str) -> Path:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", str(source), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def test_console_errors_are_seen(tmp_path: Path) -> None:
    """The check is not vacuous: a page with a console error and an uncaught exception is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>console.error("boom"); missingFunction();</script>', encoding="utf-8")
    errors = console_errors(chromium(tmp_path, page, "--dump-dom").stderr)
    assert any('"boom"' in e for e in errors) and any("Uncaught ReferenceError" in e for e in errors)


def test_report_loads_cleanly_and_shows_the_key_numbers(tmp_path: Path) -> None:
    source = tmp_path / "needs_fixes.jsonl"
    shutil.copy(REPO / "sample_data" / "needs_fixes.jsonl", source)
    page = make_report(tmp_path, source, "--price", "10")
    data = json.loads(CliRunner().invoke(cli, ["report", str(source), "--format", "json", "--price", "10"]).stdout)

    done = chromium(tmp_path, page, "--dump-dom")
    assert console_errors(done.stderr) == []
    dom = done.stdout

    def card(label: str) -> str:
        found = re.search(rf'<span class="num">([^<]*)</span><span class="label">{re.escape(label)}</span>', dom)
        assert found, f"no card {label!r} in the DOM"
        return found.group(1)

    assert card("records") == "11" == str(data["validation"]["records"])
    assert card("valid records") == "4" and card("errors") == "10" and card("warnings") == "5"
    assert card("tokens (templated)") == f"{data['stats']['tokens']['total']:,}"
    assert card(f"billed tokens ({data['cost']['epochs']} epochs)") == f"{data['cost']['billed_tokens']:,}" == "321"
    assert card("training cost") == f"{data['cost']['cost']} CNY"
    assert re.search(r'<div class="verdict not-ready" id="verdict"><strong>Not ready</strong>7 of 11 records have errors', dom)
    for code in ("FT109", "FT204", "FT302", "FT501"):
        assert f'id="rule-{code}"' in dom
    assert dom.count("<svg") == 3  # the charts were parsed as SVG, not shown as text

    shot = tmp_path / "report.png"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1366,2400")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000  # a page was drawn, not a blank


def test_chinese_records_render(tmp_path: Path) -> None:
    lines = [json.dumps({"messages": [{"role": "system", "content": "你是智说新语生成器"}, {"role": "user", "content": f"山竹 {i}"},
                                      {"role": "assistant", "content": f"外表如山般坚硬，内心却如竹般空虚。{'很' * i}"}]}, ensure_ascii=False)
             for i in range(30)]
    source = tmp_path / "世说新语.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = make_report(tmp_path, source)
    done = chromium(tmp_path, page, "--dump-dom")
    assert console_errors(done.stderr) == []
    assert "世说新语.jsonl" in done.stdout and "FT507" in done.stdout
    shot = tmp_path / "cjk.png"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1366,1400")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
