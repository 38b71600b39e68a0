"""Hostile input, signals and concurrent runs end in a clear message, with nothing lost.

Each test reproduces one failure an outside test found (the numbers are those of the list).
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.cli import cli
from support import DATA

SHISHUO = DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"


def rec(user: str = "Hi", answer: str = "Hello!", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], **extra}


def lines(*records: Any) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n" for r in records)


def invoke(*args: str, cwd: Path | None = None) -> Result:
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["--help"] if not args else list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def _default_sigint() -> None:
    """In the child: Ctrl-C as a terminal gives it. A test runner started in the background by a
    shell without job control ignores SIGINT, its children inherit that, and Python keeps an
    ignored SIGINT ignored (so does ftkit: a background job is not the terminal's to stop)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def process(*args: str, cwd: Path | None = None, **kwargs: Any) -> subprocess.Popen[bytes]:
    code = "import sys; from ftkit.cli import main; main(sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint, **kwargs)  # fmt: skip


def big_file(path: Path, records: int = 120_000) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            out.write(json.dumps(rec(f"question {i} " + "words " * 40, "answer " * 30)) + "\n")
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- 1. two runs writing the same outputs -------------------------------------------------------------


def test_an_output_created_meanwhile_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ftkit import outputs

    src = tmp_path / "in.jsonl"
    src.write_bytes(lines(*(rec(f"q{i}") for i in range(20))))
    real = outputs._link_new

    def another_run_wins(tmp: str, path: Path) -> None:
        if path.name == "validation.jsonl":
            path.write_bytes(b"the other run's file\n")  # written between our check and our rename
        real(tmp, path)

    monkeypatch.setattr(outputs, "_link_new", another_run_wins)
    done = invoke("split", str(src), "--out-dir", str(tmp_path / "o"))
    assert done.exit_code == 2 and "o/validation.jsonl already exists" in done.output
    assert (tmp_path / "o" / "validation.jsonl").read_bytes() == b"the other run's file\n"
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["validation.jsonl"]  # ours taken back, no temp files
    monkeypatch.setattr(outputs, "_link_new", real)
    forced = invoke("split", str(src), "--out-dir", str(tmp_path / "o"), "--force")
    assert forced.exit_code == 0 and (tmp_path / "o" / "validation.jsonl").read_bytes() != b"the other run's file\n"


def test_two_real_runs_never_both_write(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(lines(*(rec(f"a{i}") for i in range(3000))))
    b.write_bytes(lines(*(rec(f"b{i}") for i in range(3000))))
    runs = [process("split", str(src), "--out-dir", str(tmp_path / "o")) for src in (a, b)]
    codes = sorted(p.wait(timeout=120) for p in runs)
    assert codes[0] == 0 and codes[1] == 2  # one wins; the other says why
    train = (tmp_path / "o" / "train.jsonl").read_bytes()
    validation = (tmp_path / "o" / "validation.jsonl").read_bytes()
    assert (b'"a' in train) == (b'"a' in validation)  # both files come from the same run


# --- 2, 3, 9, 10. numbers and keys that parsers disagree on -------------------------------------------


def test_a_number_that_overflows_is_never_written_back(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    overflow = b'{"messages": [{"role": "User", "content": "Hi"}, {"role": "assistant", "content": "Yo"}], "score": 1e999}'
    src.write_bytes(lines(rec(), overflow, rec("Bye")))
    fixed = ftkit.fix(src, tmp_path / "out.jsonl")
    assert fixed.written == 2 and fixed.rejected_by_code == {"FT009": 1}
    assert b"Infinity" not in (tmp_path / "out.jsonl").read_bytes()
    rejected = json.loads(Path(fixed.rejects).read_text("utf-8"))
    assert rejected["text"] == overflow.decode() and rejected["line"] == 2
    converted = ftkit.convert(src, tmp_path / "c.jsonl", source_format="openai")
    assert converted.written == 2 and converted.rejected_by_reason == {"FT009": 1}
    assert json.loads(Path(converted.rejects).read_text("utf-8"))["text"] == overflow.decode()  # the original text


def test_duplicate_keys_are_rejected_by_convert_as_validate_reports_them(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    twice = b'{"messages": [{"role": "user", "role": "assistant", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}'
    src.write_bytes(lines(rec(), twice))
    assert {v.code for v in ftkit.validate(src).violations} >= {"FT010"}
    converted = ftkit.convert(src, tmp_path / "c.jsonl")
    assert converted.written == 1 and converted.rejected_by_reason == {"FT010": 1}


@pytest.mark.parametrize("command", ["split", "recommend", "cost", "report", "stats"])
def test_a_huge_integer_in_an_extra_key_is_no_crash(tmp_path: Path, command: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(lines(*(rec(f"q{i}", id=2**70 + i) for i in range(12))))
    args = {"split": ["--out-dir", str(tmp_path / "o")], "report": ["-o", str(tmp_path / "r.json")]}.get(command, [])
    done = invoke(command, str(src), *args)
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize("command", ["fix", "convert", "split"])
def test_an_integer_of_5000_digits_is_a_finding_on_its_line(tmp_path: Path, command: str) -> None:
    src = tmp_path / "in.jsonl"
    long = json.dumps(rec("long")).encode()[:-1] + b', "id": ' + b"7" * 5000 + b"}"
    src.write_bytes(lines(*(rec(f"q{i}") for i in range(5)), long, *(rec(f"r{i}") for i in range(5))))
    args = {"split": ["--out-dir", str(tmp_path / "o"), "--drop-invalid"]}.get(command, ["-o", str(tmp_path / "o.jsonl")])
    done = invoke(command, str(src), *args)
    assert "set_int_max_str_digits" not in done.output and "internal error" not in done.output
    rejects = tmp_path / ("o/rejected.jsonl" if command == "split" else "o.rejects.jsonl")
    entry = json.loads(rejects.read_text("utf-8"))
    assert entry["line"] == 6 and entry["reasons"][0].startswith("FT018") and entry["text"] == long.decode()
    kept = (tmp_path / "o" / "train.jsonl").read_bytes() + (tmp_path / "o" / "validation.jsonl").read_bytes() if command == "split" else (tmp_path / "o.jsonl").read_bytes()
    assert kept.count(b"\n") == 10  # the rest of the file went through


# --- 4, 5, 6, 11, 12. what reaches a terminal, a CI log or a Markdown file ----------------------------

UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
nasty = st.lists(st.sampled_from(["a", "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;Zm9v\x07", "\u009b31m", "\n::error file=x::forged", "\r", "\t", "\u202e", "é", "中", "\x00", "<img src=x onerror=alert(1)>", "\ud800"]), min_size=1, max_size=6).map("".join)


def _no_raw_controls(text: str) -> None:
    assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert "Traceback" not in text and "internal error" not in text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(key=nasty, content=nasty, name=nasty.map(lambda s: s.replace("/", "_").replace("\x00", "_").replace("\ud800", "_")))
def test_data_never_reaches_the_output_raw(tmp_path_factory: pytest.TempPathFactory, key: str, content: str, name: str) -> None:
    folder = tmp_path_factory.mktemp("nasty")
    src = folder / f"{name}.jsonl"
    records = [{**rec(content, "fine " + content), key: content, "messages": [{"role": content, "content": content}, {"role": "assistant", "content": "ok"}]}, rec(), rec("q2")]
    src.write_bytes("\n".join(json.dumps(r) for r in records).encode() + b"\n")  # \\u escapes: any key or text is possible
    runs = [
        ["validate", str(src)], ["validate", str(src), "--format", "github"], ["validate", str(src), "--format", "json"],
        ["stats", str(src)], ["stats", str(src), "--format", "json"], ["report", str(src), "--format", "md"],
        ["split", str(src), "--out-dir", str(folder / "s"), "--drop-invalid", "--force"],
        ["fix", str(src), "-o", str(folder / "f.jsonl"), "--force"], ["convert", str(src), "-o", str(folder / "c.jsonl"), "--force"],
        ["recommend", str(src)], ["cost", str(src)],
    ]  # fmt: skip
    for args in runs:
        done = invoke(*args)
        assert done.exit_code in (0, 1), (args, done.output)
        _no_raw_controls(done.stdout + done.stderr)
        if "json" in args:
            json.loads(done.stdout)  # still parses, lone surrogates as escapes
        if "github" in args:
            assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in done.stdout.splitlines())
        if "md" in args:  # raw HTML only inside code spans, where Markdown shows it as text
            assert "<img" not in re.sub(r"(`+).*?\1", "", done.stdout)


def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.jsonl")
    src = tmp_path / name
    src.write_bytes(SHISHUO.read_bytes())
    for args in (["validate", name, "--format", "json"], ["report", name, "--format", "json"], ["stats", name, "--format", "json"],
                 ["split", name, "--out-dir", "o"], ["fix", name, "-o", "fixed.jsonl"]):  # fmt: skip
        done = invoke(*args, cwd=tmp_path)
        assert done.exit_code in (0, 1), (args, done.output)
        _no_raw_controls(done.output)
        if "json" in args:
            assert "caf\\udce9.jsonl" in done.output and json.loads(done.stdout)


def test_a_lone_surrogate_in_a_key_in_every_report_format(tmp_path: Path) -> None:
    src = tmp_path / "k.jsonl"
    src.write_bytes(b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}], "\\ud800": 1}\n' * 12)
    for fmt in ("json", "github"):
        done = invoke("validate", str(src), "--format", fmt)
        assert done.exit_code == 1 and "FT016" in done.output
    for suffix in ("html", "md", "json"):
        done = invoke("report", str(src), "-o", str(tmp_path / f"r.{suffix}"))
        assert done.exit_code == 0, done.output
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["validation"]["records"] == 12


# --- 8. permission bits -------------------------------------------------------------------------------


def test_outputs_keep_the_inputs_permission_bits(tmp_path: Path) -> None:
    src = tmp_path / "private.jsonl"
    src.write_bytes(SHISHUO.read_bytes() + b"not json\n")
    src.chmod(0o600)
    invoke("split", str(src), "--out-dir", str(tmp_path / "s"), "--drop-invalid")
    invoke("fix", str(src), "-o", str(tmp_path / "f.jsonl"))
    invoke("convert", str(src), "-o", str(tmp_path / "c.jsonl"))
    invoke("report", str(src), "-o", str(tmp_path / "r.html"))
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != src]
    assert len(written) == 10 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)  # convert: out, rejects, changes


# --- 14, 18, 19. signals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code", "message"), [(signal.SIGINT, 130, "ftkit: interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM"),
                                                      (signal.SIGHUP, 129, "stopped by SIGHUP")])  # fmt: skip
def test_a_signal_mid_write_leaves_nothing_behind(tmp_path: Path, sig: signal.Signals, code: int, message: str) -> None:
    src = big_file(tmp_path / "big.jsonl")
    out = tmp_path / "out"
    run = process("split", str(src), "--out-dir", str(out), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.is_dir() and leftovers(out)):
        time.sleep(0.01)  # wait until the outputs are being written
    os.killpg(run.pid, sig)  # the whole group, as a terminal's Ctrl-C or a cancelled CI job does
    _, err = run.communicate(timeout=60)
    assert run.returncode == code and message in err.decode()
    assert "Traceback" not in err.decode() and "internal error" not in err.decode()
    assert not out.exists() or list(out.iterdir()) == []  # no partial output, no hidden .tmp file


def test_ctrl_c_during_report_leaves_no_process(tmp_path: Path) -> None:
    src = big_file(tmp_path / "big.jsonl", 160_000)  # above 8 MB: the scan forks a second process
    run = process("report", str(src), "-o", str(tmp_path / "r.html"), start_new_session=True)
    time.sleep(1.0)
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and err.decode().strip() == "ftkit: interrupted"
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)  # no process of the group is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]


# --- 15, 20. where the output goes ---------------------------------------------------------------------


def test_a_full_stdout_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "ftkit", "validate", str(SHISHUO), "--format", "json"], stdout=full, stderr=subprocess.PIPE, check=False)
    assert done.returncode == 2 and done.stderr.decode().strip() == "ftkit: cannot write the output: No space left on device"


def test_a_closed_pipe_is_141_and_quiet(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b"{}\n" * 30_000)
    run = process("validate", str(src), "--format", "json")
    assert run.stdout is not None
    run.stdout.read(10)
    run.stdout.close()
    _, err = run.communicate(timeout=60)
    assert run.returncode == 141 and err == b""


# --- 16. a million findings ---------------------------------------------------------------------------


def test_a_finding_on_every_record_is_said_once(tmp_path: Path) -> None:
    src = tmp_path / "empty-objects.jsonl"
    src.write_bytes(b"{}\n" * 20_000)
    done = invoke("validate", str(src))
    text = done.stdout.splitlines()
    assert done.exit_code == 1 and len(text) < 12
    assert any("the same finding on 19,997 more lines (every record)" in line for line in text)
    data = json.loads(invoke("validate", str(src), "--format", "json").stdout)
    assert len(data["violations"]) == 20_000 and data["summary"]["by_code"] == {"FT102": 20_000}


# --- 17. what a path is ----------------------------------------------------------------------------------


def test_a_fifo_is_read_as_a_stream(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat '{SHISHUO}' > '{fifo}'"])
    run = process("split", str(fifo), "--out-dir", str(tmp_path / "o"), "--format", "json")
    out, err = run.communicate(timeout=60)
    writer.wait(timeout=10)
    assert run.returncode == 0, err
    assert json.loads(out)["train"]["records"] + json.loads(out)["validation"]["records"] == 178


def test_dev_zero_and_a_symlink_loop_say_what_they_are(tmp_path: Path) -> None:
    done = invoke("split", "/dev/zero", "--out-dir", str(tmp_path / "o"))
    assert done.exit_code == 1 and "FT011" in done.output and not (tmp_path / "o").exists()
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for command in (["validate"], ["stats"], ["split", "--out-dir", "x"], ["fix", "-o", "x.jsonl"], ["convert", "-o", "x.jsonl"]):
        done = invoke(command[0], str(tmp_path / "a"), *command[1:])
        assert done.exit_code == 2 and "symlink loop" in done.output and len(done.output.strip().splitlines()) == 1


# --- 21, 22, 24. exit codes and messages -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["fix", "convert"])
def test_an_empty_file_is_ft002_exit_1_and_writes_nothing(tmp_path: Path, command: str) -> None:
    src = tmp_path / "empty.jsonl"
    src.write_bytes(b"")
    done = invoke(command, str(src), "-o", str(tmp_path / "out.jsonl"))
    assert done.exit_code == 1 and "FT002" in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.jsonl"]


def test_an_unwritable_rejects_path_is_named(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(SHISHUO.read_bytes())
    done = invoke("fix", str(src), "-o", str(tmp_path / "out.jsonl"), "--rejects", "/proc/ftkit/rejects.jsonl")
    assert done.exit_code == 2 and "/proc/ftkit/rejects.jsonl" in done.output and str(tmp_path / "out.jsonl") not in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize("args", [["validate"], ["split", "x.jsonl"], ["validate", "--format", "xml", "x"], ["stats", "--nope", "x"], ["frobnicate"]])
def test_a_usage_error_is_one_line(args: list[str]) -> None:
    done = invoke(*args)
    assert done.exit_code == 2 and done.output.startswith("ftkit: ") and len(done.output.strip().splitlines()) == 1


# --- 26. the library raises its own types ------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600) | st.sampled_from([b"\x1f\x8b\x08", b"\xff\xfe{\x00", b"[" * 5000, b'{"a": ' + b"9" * 5000 + b"}", b"{}\n" * 5]))
def test_the_library_raises_only_ftkit_errors(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("lib")
    src = folder / "d.jsonl"
    src.write_bytes(data)
    calls = [
        lambda: ftkit.validate(src), lambda: ftkit.stats(src), lambda: ftkit.split(src, folder / "s", drop_invalid=True, force=True),
        lambda: ftkit.recommend(src), lambda: ftkit.cost(src), lambda: ftkit.report(src),
        lambda: ftkit.fix(src, folder / "f.jsonl", force=True), lambda: ftkit.convert(src, folder / "c.jsonl", force=True),
    ]  # fmt: skip
    for call in calls:
        try:
            call()
        except ftkit.FtkitError as exc:
            assert str(exc) and "\n" not in str(exc)


# --- the tokenizer's own limits -------------------------------------------------------------------


def test_a_whitespace_run_tiktoken_cannot_split_is_one_line_not_a_panic(tmp_path: Path) -> None:
    """tiktoken's pre-tokenizer panics (a Rust panic, a BaseException) on a run of 999,999 or
    more whitespace characters; every command that counts tokens says so in one line instead."""
    path = tmp_path / "spaces.jsonl"
    path.write_bytes(lines(rec("Hi"), rec(" " * 1_000_000 + "?")))
    for args in (["stats", str(path)], ["validate", "--tokens", str(path)], ["report", str(path), "-o", str(tmp_path / "r.html")],
                 ["show", f"{path}:2"]):  # fmt: skip
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        message = result.stderr.strip()
        assert "\n" not in message and "Traceback" not in message and "panic" not in message.lower(), message
        assert "run of 1,000,000 whitespace characters" in message
        assert args[0] == "show" or message.startswith("ftkit: line 2: ")
    assert not (tmp_path / "r.html").exists()
    with pytest.raises(ftkit.TokenizerError, match="line 2: the tokenizer cannot split"):
        ftkit.stats(path)
    below = tmp_path / "below.jsonl"
    below.write_bytes(lines(rec("Hi"), rec(" " * 999_997 + "?")))
    assert ftkit.stats(below).records == 2  # one below the limit is counted as usual


def test_a_panic_of_the_encoder_becomes_a_tokenizer_error() -> None:
    from ftkit.tokens.tokenizer import Tokenizer

    class PanicException(BaseException):  # what pyo3 raises when Rust code panics
        pass

    def panics(text: str) -> list[int]:
        raise PanicException("called `Result::unwrap()` on an `Err` value")

    tok = Tokenizer("t", panics)
    with pytest.raises(ftkit.TokenizerError, match="the tokenizer gives up on a text of 5 characters"):
        tok.count("hello")
    with pytest.raises(ftkit.TokenizerError):
        tok.encode("hello")

    def interrupted(text: str) -> list[int]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # Ctrl-C still stops a run
        Tokenizer("t", interrupted).count("hello")
