"""Hostile and broken input: the CLI explains in one line and exits 0/1/2, never a traceback.

Most cases go through click's CliRunner on ``ftkit.cli.cli`` (fast, and an exception inside
ftkit shows up as ``result.exception`` instead of being turned into "internal error" by
``ftkit.cli.main``); the cases about stderr and exit 2 also run the real ``python -m`` process.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftkit.cli import cli

CODES = None  # filled lazily: every rule code `ftkit rules` knows


@pytest.fixture(scope="module", autouse=True)
def _outside_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run from a directory with no pyproject.toml, so [tool.ftkit] of the checkout is not read."""
    where = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(where)
        mp.delenv("FTKIT_DEBUG", raising=False)
        mp.setenv("NO_COLOR", "1")
        yield where


def record(i: int, content: str | None = None) -> str:
    return json.dumps({"messages": [
        {"role": "user", "content": f"Question {i}?"},
        {"role": "assistant", "content": content if content is not None else f"Answer {i}."},
    ]}, ensure_ascii=False)


def good_lines(n: int = 10, start: int = 0) -> list[str]:
    return [record(i) for i in range(start, start + n)]


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(*args: str | os.PathLike[str]) -> Result:
    result = CliRunner().invoke(cli, [os.fspath(a) for a in args], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"ftkit raised {type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output
    return result


def known_codes() -> set[str]:
    global CODES
    if CODES is None:
        result = invoke("rules", "--format", "json")
        assert result.exit_code == 0
        CODES = {row["code"] for row in json.loads(result.stdout)}
    return CODES


def validate_json(path: Path, *extra: str) -> tuple[int, dict]:
    """Exit code and the parsed --format json report, checked for shape."""
    result = invoke("validate", "--format", "json", *extra, path)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"version", "profile", "files", "violations", "summary"}
    for v in report["violations"]:
        assert v["code"] in known_codes(), v
        assert v["line"] is None or (isinstance(v["line"], int) and v["line"] >= 1), v
        assert v["message"] and "\n" not in v["message"], v
    fails = any(v["severity"] == "error" for v in report["violations"])
    assert result.exit_code == (1 if fails else 0), report
    return result.exit_code, report


def found(report: dict) -> set[tuple[int | None, str]]:
    return {(v["line"], v["code"]) for v in report["violations"]}


def codes(report: dict) -> set[str]:
    return {v["code"] for v in report["violations"]}


def run_process(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FTKIT_DEBUG"}
    return subprocess.run(
        [sys.executable, "-c", "from ftkit.cli import main; main()", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


# --- random and structured junk -------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("junk")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_crash(scratch: Path, data: bytes) -> None:
    path = write(scratch / "random.jsonl", data)
    before = digest(path)
    text = invoke("validate", path)
    assert text.exit_code in (0, 1), text.output
    code, report = validate_json(path)
    assert code == text.exit_code
    lines = data.count(b"\n") + 1
    assert all(v["line"] is None or v["line"] <= lines for v in report["violations"]), report
    assert digest(path) == before


_piece = st.one_of(
    st.sampled_from([
        record(1), record(2), "", " ", "\r", "{", "}", "[", "]", "[{", '{"messages": [', "null", "1e999",
        '{"messages": [{"role": "user", "content": NaN}]}', "{'messages': []}", "\ufeff" + record(3),
        '{"a": 1}{"b": 2}', '"\\ud800"', "<|im_end|>", "\x00", "  }", "]}",
    ]),
    st.text(max_size=40),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_piece, max_size=30), crlf=st.booleans(), final_newline=st.booleans(),
       latin1=st.booleans())
def test_mixed_junk_lines_never_crash(scratch: Path, lines: list[str], crlf: bool, final_newline: bool, latin1: bool) -> None:
    sep = "\r\n" if crlf else "\n"
    text = sep.join(lines) + (sep if final_newline and lines else "")
    data = text.encode("latin-1", "replace") if latin1 else text.encode("utf-8", "surrogatepass")
    path = write(scratch / "junk.jsonl", data)
    _code, report = validate_json(path)
    physical = data.count(b"\n") + 1
    assert all(v["line"] is None or v["line"] <= physical for v in report["violations"]), report
    assert len(report["files"]) == 1
    summary = report["files"][0]
    assert 0 <= summary["valid_records"] <= summary["records"]


# --- deep nesting ------------------------------------------------------------------------------

DEPTH = 100_000


@pytest.mark.parametrize("line", [
    pytest.param("[" * DEPTH + "]" * DEPTH, id="arrays"),
    pytest.param('{"a":' * DEPTH + "1" + "}" * DEPTH, id="objects"),
    pytest.param('{"messages": [{"role": "user", "content": ' + "[" * DEPTH + "]" * DEPTH + '}, {"role": "assistant", "content": "x"}]}', id="inside-a-record"),
    pytest.param("[" * DEPTH, id="arrays-unclosed"),
    pytest.param('{"a":' * DEPTH, id="objects-unclosed"),
])
def test_deep_nesting(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "deep.jsonl", record(0) + "\n" + line + "\n" + "\n".join(good_lines(9, 1)) + "\n")
    started = time.monotonic()
    code, report = validate_json(path)
    assert time.monotonic() - started < 30
    assert code == 1
    line2 = {c for n, c in found(report) if n == 2}
    assert line2 & {"FT014", "FT006"}, report
    assert not [v for v in report["violations"] if v["line"] not in (2, None)], report


def test_deep_nesting_over_many_lines(tmp_path: Path) -> None:
    """Pretty-printed deep nesting must not make the record re-joining explode."""
    n = 20_000
    path = write(tmp_path / "deep_lines.jsonl", '{"a":\n' * n + "1\n" + "}\n" * n)
    started = time.monotonic()
    code, _report = validate_json(path)
    assert time.monotonic() - started < 60
    assert code == 1


# --- huge lines --------------------------------------------------------------------------------

FORTY_MB = 40 << 20


def test_forty_megabyte_record_passes_quickly(tmp_path: Path) -> None:
    huge = record(0, content="lorem ipsum " * (FORTY_MB // 12))
    path = write(tmp_path / "huge.jsonl", huge + "\n" + "\n".join(good_lines(9, 1)) + "\n")
    assert path.stat().st_size > FORTY_MB
    started = time.monotonic()
    result = invoke("validate", path)
    assert time.monotonic() - started < 30
    assert result.exit_code == 0, result.output
    assert "10 records, 10 valid" in result.stdout


@pytest.mark.parametrize("garbage", [
    pytest.param(b"{" + b"ab,c:" * (FORTY_MB // 5), id="syntax"),
    pytest.param(b'{"messages": "' + b"x" * FORTY_MB, id="unterminated-string"),
    pytest.param(b"\xff\xfe" * 8 + b"x" * FORTY_MB, id="not-utf8-late"),
    pytest.param(b"[" * FORTY_MB, id="forty-million-brackets"),
])
def test_forty_megabyte_garbage_line(tmp_path: Path, garbage: bytes) -> None:
    first = (record(0) + "\n").encode()
    path = write(tmp_path / "garbage.jsonl", first + garbage + b"\n" + "\n".join(good_lines(9, 1)).encode() + b"\n")
    started = time.monotonic()
    code, report = validate_json(path)
    assert time.monotonic() - started < 60
    assert code == 1
    assert {c for n, c in found(report) if n == 2} & {"FT003", "FT006", "FT014"}, report
    for v in report["violations"]:
        assert len(v["message"]) < 1000, "a message must not quote the whole line"


def test_line_longer_than_limit_without_newlines(tmp_path: Path) -> None:
    path = write(tmp_path / "nolines.jsonl", b"a" * ((64 << 20) + 10))
    code, report = validate_json(path)
    assert code == 1
    assert (1, "FT013") in found(report)


# --- bytes inside lines ------------------------------------------------------------------------


def test_nul_bytes_inside_a_line(tmp_path: Path) -> None:
    lines = [line.encode() for line in good_lines()]
    lines[3] = lines[3].replace(b"Answer", b"Ans\x00wer")
    lines[6] = lines[6] + b"\x00\x00"
    path = write(tmp_path / "nul.jsonl", b"\n".join(lines) + b"\n")
    code, report = validate_json(path)
    assert code == 1
    assert (4, "FT006") in found(report)
    assert {c for n, c in found(report) if n == 7} & {"FT006", "FT007"}
    assert not [v for v in report["violations"] if v["line"] not in (4, 7)], report
    messages = " ".join(v["message"] for v in report["violations"] if v["line"] == 4)
    assert "NUL" in messages


def test_latin1_e_acute_is_ft003_on_its_line(tmp_path: Path) -> None:
    lines = good_lines()
    data = "\n".join(lines).encode("utf-8") + b"\n"
    data = data.replace(b"Answer 4.", "Answer caf\u00e9.".encode("latin-1"))
    path = write(tmp_path / "latin1.jsonl", data)
    code, report = validate_json(path)
    assert code == 1
    assert found(report) == {(5, "FT003")}
    (v,) = report["violations"]
    assert "UTF-8" in v["message"]
    text = invoke("validate", path)
    assert "latin1.jsonl:5: FT003" in text.stdout


def test_valid_utf8_is_not_flagged(tmp_path: Path) -> None:
    lines = good_lines()
    lines[4] = record(4, content="Café, naïve, 你好, 🙂")
    path = write(tmp_path / "utf8.jsonl", "\n".join(lines) + "\n")
    code, report = validate_json(path)
    assert code == 0 and not report["violations"], report


# --- whole-file encodings and containers -------------------------------------------------------

GOOD_TEXT = "\n".join(good_lines()) + "\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "wide.jsonl", GOOD_TEXT.encode(encoding))
    code, report = validate_json(path)
    assert code == 1
    assert "FT011" in codes(report)
    ft011 = next(v for v in report["violations"] if v["code"] == "FT011")
    assert ft011["line"] is None
    assert "UTF-" in ft011["message"]
    # One clear finding, not one per line.
    assert sum(1 for v in report["violations"] if v["code"] == "FT011") == 1
    assert not {"FT003", "FT006"} & codes(report), report


@pytest.mark.parametrize("kind", ["gzip", "zip", "bzip2", "xz"])
def test_compressed_file_named_jsonl(tmp_path: Path, kind: str) -> None:
    import bz2
    import io
    import lzma
    import zipfile

    raw = GOOD_TEXT.encode()
    if kind == "gzip":
        data = gzip.compress(raw)
    elif kind == "bzip2":
        data = bz2.compress(raw)
    elif kind == "xz":
        data = lzma.compress(raw)
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("train.jsonl", raw)
        data = buf.getvalue()
    path = write(tmp_path / "train.jsonl", data)
    before = digest(path)
    code, report = validate_json(path)
    assert code == 1
    assert "FT012" in codes(report)
    ft012 = next(v for v in report["violations"] if v["code"] == "FT012")
    assert kind in ft012["message"]
    assert not {"FT003", "FT006", "FT011"} & codes(report), report
    assert digest(path) == before


def test_json_array_file_pretty(tmp_path: Path) -> None:
    records = [json.loads(line) for line in good_lines()]
    path = write(tmp_path / "array.jsonl", json.dumps(records, indent=2) + "\n")
    code, report = validate_json(path)
    assert code == 1
    assert "FT017" in codes(report)
    assert not {"FT006", "FT008", "FT101"} & codes(report), report


def test_json_array_file_one_record_per_line(tmp_path: Path) -> None:
    path = write(tmp_path / "array.jsonl", "[\n" + ",\n".join(good_lines()) + "\n]\n")
    code, report = validate_json(path)
    assert code == 1
    assert "FT017" in codes(report)


def test_json_array_file_on_one_line(tmp_path: Path) -> None:
    """``json.dump(records, f)``: the whole dataset as one array on a single line."""
    records = [json.loads(line) for line in good_lines()]
    path = write(tmp_path / "array.jsonl", json.dumps(records) + "\n")
    code, report = validate_json(path)
    assert code == 1
    assert "FT017" in codes(report), report


# --- empty, blank, line ends -------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.jsonl", b"")
    code, report = validate_json(path)
    assert code == 1
    assert found(report) == {(None, "FT002")}
    assert report["files"][0]["records"] == 0


@pytest.mark.parametrize("data", [b"\n\n", b"   \n\t\n"], ids=["blank-lines", "whitespace-lines"])
def test_only_blank_or_whitespace_lines(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "blank.jsonl", data)
    code, report = validate_json(path)
    assert code == 1
    assert "FT002" in codes(report)
    assert codes(report) <= {"FT002", "FT005"}, report
    assert report["files"][0]["records"] == 0


def test_no_final_newline_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path / "nofinal.jsonl", "\n".join(good_lines()))
    code, report = validate_json(path)
    assert code == 0
    assert report["violations"] == []
    assert report["files"][0] == {"path": str(path), "records": 10, "valid_records": 10, "shape": None}


def test_crlf_file_is_info_only(tmp_path: Path) -> None:
    path = write(tmp_path / "crlf.jsonl", GOOD_TEXT.replace("\n", "\r\n"))
    before = digest(path)
    code, report = validate_json(path)
    assert code == 0
    assert found(report) == {(1, "FT015")}
    (v,) = report["violations"]
    assert v["severity"] == "info" and "10" in v["message"]
    assert report["files"][0]["valid_records"] == 10
    result = invoke("validate", "--fail-on", "info", path)
    assert result.exit_code == 1
    assert digest(path) == before


def test_crlf_without_final_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "crlf.jsonl", "\r\n".join(good_lines()))
    code, report = validate_json(path)
    assert code == 0
    assert codes(report) == {"FT015"}


# --- paths that cannot be validated ------------------------------------------------------------


def test_directory_without_jsonl_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "nothing_here"
    folder.mkdir()
    write(folder / "notes.txt", "hello\n")
    result = invoke("validate", folder)
    assert result.exit_code == 2
    assert "no .jsonl" in result.stderr
    assert result.stdout == ""
    proc = run_process("validate", str(folder), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("ftkit: ")


def test_missing_path_exits_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist.jsonl"
    result = invoke("validate", missing)
    assert result.exit_code == 2
    proc = run_process("validate", str(missing), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "does-not-exist.jsonl" in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_path_among_good_ones_exits_2(tmp_path: Path) -> None:
    good = write(tmp_path / "good.jsonl", GOOD_TEXT)
    proc = run_process("validate", str(good), str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="running as root (or not POSIX): chmod 000 does not stop root from reading")
def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.jsonl", GOOD_TEXT)
    path.chmod(0)
    try:
        proc = run_process("validate", str(path), cwd=tmp_path)
    finally:
        path.chmod(0o644)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "secret.jsonl" in proc.stderr


def test_device_path_is_not_a_traceback(tmp_path: Path) -> None:
    """/dev/null is a device that exists: it is read as a stream (empty) and reported, not
    crashed on; a stream's name is not an upload's name, so FT001 does not apply."""
    result = invoke("validate", "--format", "json", "/dev/null")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert codes(report) == {"FT002"} and report["files"][0]["path"] == "/dev/null"


# --- the input is never touched ----------------------------------------------------------------


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    files = {
        "crlf.jsonl": GOOD_TEXT.replace("\n", "\r\n").encode(),
        "bom.jsonl": b"\xef\xbb\xbf" + GOOD_TEXT.encode(),
        "latin1.jsonl": GOOD_TEXT.replace("Answer 3.", "caf\u00e9").encode("latin-1"),
        "gz.jsonl": gzip.compress(GOOD_TEXT.encode()),
        "nofinal.jsonl": GOOD_TEXT.rstrip("\n").encode(),
        "blank.jsonl": b"\n\n",
        "dupes.jsonl": (GOOD_TEXT + GOOD_TEXT).encode(),
    }
    paths = [write(tmp_path / name, data) for name, data in files.items()]
    before = {p: (digest(p), p.stat().st_mtime_ns, p.stat().st_mode) for p in paths}
    for fmt in ("text", "json", "github"):
        result = invoke("validate", "--format", fmt, tmp_path)
        assert result.exit_code == 1
    after = {p: (digest(p), p.stat().st_mtime_ns, p.stat().st_mode) for p in paths}
    assert before == after
    assert sorted(q.name for q in tmp_path.iterdir()) == sorted(files), "validate wrote files next to the input"


def test_folder_and_repeated_paths(tmp_path: Path) -> None:
    """A .JSONL file in a folder is reported (FT001), not skipped; a file named twice counts once."""
    good = "\n".join(good_lines()) + "\n"
    (tmp_path / "a.jsonl").write_text(good)
    (tmp_path / "B.JSONL").write_text(good)
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), str(tmp_path / "a.jsonl"), "--format", "json"])
    report = json.loads(result.output)
    assert sorted(Path(f["path"]).name for f in report["files"]) == ["B.JSONL", "a.jsonl"]
    assert [(Path(v["path"]).name, v["code"]) for v in report["violations"]] == [("B.JSONL", "FT001")]
