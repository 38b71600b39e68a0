"""The forked helpers: the second scanning process and the report's rendering helper."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftkit.cli import cli
from ftkit.scan import parallel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only; ftkit runs one process elsewhere")

_state: dict[str, int] = {}


def _prepare() -> None:
    _state["ready"] = 41  # set in the helper only


def test_helper_answers_after_preparing() -> None:
    with parallel.Helper(_prepare, lambda x: _state["ready"] + x) as helper:
        assert helper.ask(1) == 42
    assert "ready" not in _state  # prepare ran in the other process


def test_helper_closed_unasked_leaves_no_process() -> None:
    helper = parallel.Helper(_prepare, lambda x: x)
    pid = helper.pid
    helper.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


def test_helper_failure_is_reported() -> None:
    with parallel.Helper(_prepare, lambda x: 1 / x) as helper, pytest.raises(RuntimeError, match="ZeroDivisionError"):
        helper.ask(0)


def test_report_rendered_by_the_helper_is_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ftkit.cli.report as report_cli

    data = Path(__file__).resolve().parents[1] / "sample_data" / "customer_support.jsonl"
    here, there = tmp_path / "here.html", tmp_path / "there.html"
    assert CliRunner().invoke(cli, ["report", str(data), "-o", str(here), "--jobs", "1"]).exit_code == 0
    monkeypatch.setattr(report_cli, "HELPER_FROM_BYTES", 0)  # use the helper even for a small file
    calls: list[int] = []
    real = parallel.Helper.ask
    monkeypatch.setattr(parallel.Helper, "ask", lambda self, r: calls.append(1) or real(self, r))
    assert CliRunner().invoke(cli, ["report", str(data), "-o", str(there), "--jobs", "2"]).exit_code == 0
    assert calls == [1]
    assert there.read_bytes() == here.read_bytes()
