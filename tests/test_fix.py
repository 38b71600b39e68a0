"""``ftkit fix``: one case per fix (tests/cases/fix/fixes.toml), hypothesis properties, the CLI.

Properties (issue 7): fix(broken) keeps every record and validates with no error, for clean
records broken by any mix of the always-on fixes' breakages (BOM, blank lines, CRLF, role case
and aliases, pretty-printing); and every input record is in exactly one of OUT and REJECTS.
"""

from __future__ import annotations

import gzip
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit import FtkitError as FixError
from ftkit.cli import cli
from ftkit.policy.profile import load_profile
from ftkit.repair.fix import FixResult
from ftkit.repair.record_fixes import FixOptions
from support import CASES, decode_markers

CASE_LIST = tomllib.loads((CASES / "fix" / "fixes.toml").read_text(encoding="utf-8"))["case"]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])
PROFILE = load_profile("siliconflow")


def run_fix(tmp: Path, data: bytes, **kwargs: Any) -> tuple[FixResult, list[bytes], list[dict[str, Any]], list[dict[str, Any]]]:
    src = tmp / "in.jsonl"
    src.write_bytes(data)
    options = kwargs.pop("options", None)
    flags = options.model_dump() if options is not None else {}
    result = ftkit.fix(src, tmp / "out.jsonl", force=True, **flags, **kwargs)
    out = (tmp / "out.jsonl").read_bytes()
    assert out == b"" or out.endswith(b"\n")
    rejects = [json.loads(line) for line in Path(result.rejects).read_text(encoding="utf-8").split("\n")[:-1]]
    changes = json.loads(Path(result.changes).read_text(encoding="utf-8"))
    return result, out.splitlines(), rejects, changes


@pytest.mark.parametrize("case", CASE_LIST, ids=[c["name"] for c in CASE_LIST])
def test_fix_case(case: dict[str, Any], tmp_path: Path) -> None:
    options = FixOptions(**dict.fromkeys(case.get("options", []), True))
    result, out, rejects, changes = run_fix(tmp_path, decode_markers(case["raw"]), options=options)
    assert [line.decode("utf-8") for line in out] == case["output"]
    assert [[c["line"], c["code"], c["pointer"]] for c in changes] == case.get("changes", [])
    assert all(c["action"] for c in changes)
    got = [[r["line"], sorted({reason.split()[0] for reason in r["reasons"]})] for r in rejects]
    assert got == [[line, sorted(codes)] for line, codes in case.get("rejects", [])]
    assert result.written + result.rejected == result.records
    assert result.output_check.clean and ftkit.validate(tmp_path / "out.jsonl").summary.by_severity["error"] == 0


def test_rejects_keep_the_input_as_read(tmp_path: Path) -> None:
    """A rejected record is in the rejects file with its line, reasons and original text."""
    bad_utf8 = b'{"messages": [{"role": "user", "content": "\xff"}]}'
    pretty = b'{\n  "messages": [\n    {"role": "user"}\n  ]\n}'
    _, out, rejects, changes = run_fix(tmp_path, b"not json\n" + bad_utf8 + b"\n" + pretty + b"\n")
    assert out == []
    assert rejects[0] == {"line": 1, "reasons": rejects[0]["reasons"], "text": "not json"}
    assert rejects[0]["reasons"][0].startswith("FT006 invalid-json: ")
    assert rejects[1]["line"] == 2 and "base64" in rejects[1] and "text" not in rejects[1]
    assert rejects[2] == {"line": 3, "end_line": 7, "reasons": rejects[2]["reasons"], "text": pretty.decode()}
    assert {r.split()[0] for r in rejects[2]["reasons"]} == {"FT107", "FT204"}
    assert changes == []  # nothing of a rejected record is logged as a change


def test_too_long_line_is_rejected_without_its_bytes(tmp_path: Path) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text('extends = "siliconflow"\nname = "small"\n[data]\nmax_line_bytes = 200\n', encoding="utf-8")
    good = json.dumps({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}).encode()
    long = json.dumps({"messages": [{"role": "user", "content": "x" * 300}, {"role": "assistant", "content": "y"}]}).encode()
    result, out, rejects, _ = run_fix(tmp_path, good + b"\n" + long + b"\n", profile=str(prof))
    assert out == [good] and result.rejected == 1
    assert rejects == [{"line": 2, "reasons": rejects[0]["reasons"], "omitted_bytes": len(long)}]


# --- properties ----------------------------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=30).filter(lambda t: not t.isspace())


@st.composite
def clean_record(draw: st.DrawFn) -> dict[str, Any]:
    msgs = [{"role": "system", "content": draw(text)}] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(1, 3))):
        msgs += [{"role": "user", "content": draw(text)}, {"role": "assistant", "content": draw(text)}]
    return {"messages": msgs}


def role_variants(role: str) -> list[str]:
    """What a broken file might say instead of ``role``: the profile's aliases, case, spaces."""
    aliases = [alias for alias, meant in PROFILE.data.role_aliases.items() if meant == role]
    return aliases + [role.upper(), role.title(), f" {role}", f"{role} ", f" {role.title()} "]


@st.composite
def broken_file(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]], set[str]]:
    """(file bytes, the clean records it was made from, the codes of the breakages applied)."""
    records = draw(st.lists(clean_record(), min_size=1, max_size=8))
    applied: set[str] = set()
    chunks: list[bytes] = []
    for record in records:
        broken = json.loads(json.dumps(record))
        for msg in broken["messages"]:
            if draw(st.integers(0, 3)) == 0:
                msg["role"] = draw(st.sampled_from(role_variants(msg["role"])))
                applied.add("FT109")
        if draw(st.integers(0, 3)) == 0:
            lines = json.dumps(broken, ensure_ascii=draw(st.booleans()), indent=draw(st.integers(0, 4))).split("\n")
            applied.add("FT008")
        else:
            compact = draw(st.booleans())
            lines = [json.dumps(broken, ensure_ascii=draw(st.booleans()), separators=(",", ":") if compact else None)]
        for line in lines:
            if draw(st.integers(0, 4)) == 0:
                line += "\r"
                applied.add("FT015")
            chunks.append(line.encode("utf-8"))
        while draw(st.integers(0, 5)) == 0:
            chunks.append(draw(st.sampled_from([b"", b" ", b"\t", b"  \t "])))
            applied.add("FT005")
    data = b"\n".join(chunks) + b"\n"
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
        applied.add("FT004")
    return data, records, applied


@SETTINGS
@given(case=broken_file())
def test_fix_of_broken_keeps_every_record_and_validates(case: tuple[bytes, list[dict[str, Any]], set[str]], tmp_path_factory: pytest.TempPathFactory) -> None:
    data, records, applied = case
    tmp = tmp_path_factory.mktemp("fix")
    result, out, rejects, changes = run_fix(tmp, data)
    assert rejects == [] and result.rejected == 0
    assert result.records == result.written == len(records)
    assert [json.loads(line) for line in out] == records
    report = ftkit.validate(tmp / "out.jsonl")
    assert report.summary.by_severity["error"] == 0, report.violations
    assert {c["code"] for c in changes} == applied
    assert b"\r" not in b"".join(out)


garbage = st.sampled_from([b"not json", b"{'role': 'user'}", b"[1, 2]", b'{"messages": []}', b"null", b'{"messages": "Hi"}',
                           b'{"messages": [{"role": "tool", "content": "x"}]}', b"bad \xff byte"])


@SETTINGS
@given(items=st.lists(st.one_of(clean_record(), garbage), min_size=1, max_size=12))
def test_every_record_is_in_exactly_one_output(items: list[Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("fix")
    lines = [item if isinstance(item, bytes) else json.dumps(item).encode() for item in items]
    result, out, rejects, _ = run_fix(tmp, b"\n".join(lines) + b"\n")
    good = [n for n, item in enumerate(items, 1) if isinstance(item, dict)]
    assert result.records == len(items) == len(out) + len(rejects)
    assert out == [lines[n - 1] for n in good]  # untouched records: byte for byte
    assert [r["line"] for r in rejects] == [n for n, item in enumerate(items, 1) if isinstance(item, bytes)]
    assert all(r["reasons"] for r in rejects)


# --- files and the CLI ----------------------------------------------------------------------------

GOOD = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n'
FIXABLE = b'{"messages": [{"role": "User", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\r\n'


def test_in_place_keeps_a_backup_and_refuses_to_replace_one(tmp_path: Path) -> None:
    src = tmp_path / "data.jsonl"
    src.write_bytes(FIXABLE * 3)
    src.chmod(0o644)
    result = ftkit.fix(src, in_place=True)
    assert result.backup == f"{src}.bak" and Path(result.backup).read_bytes() == FIXABLE * 3
    assert src.read_bytes() == GOOD * 3 and (src.stat().st_mode & 0o777) == 0o644
    assert result.rejects == str(tmp_path / "data.rejects.jsonl")
    with pytest.raises(FixError, match=r"data\.jsonl\.bak already exists"):
        ftkit.fix(src, in_place=True, force=True)
    assert src.read_bytes() == GOOD * 3


@pytest.mark.parametrize("problem, match", [
    ("exists", "already exists; use --force"),
    ("same", "never writes over its input|must differ"),
    ("suffix", r"must end in \.jsonl"),
    ("clash", "must differ"),
    ("both", "not both"),
    ("neither", "no output file"),
    ("missing", "no such file"),
    ("gzip", "gzip-compressed"),
    ("array", "ftkit convert"),
])
def test_refusals(problem: str, match: str, tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(GOOD)
    kwargs: dict[str, Any] = {"output": out}
    if problem == "exists":
        out.write_bytes(b"keep me")
    elif problem == "same":
        kwargs["output"] = src
    elif problem == "suffix":
        kwargs["output"] = tmp_path / "out.json"
    elif problem == "clash":
        kwargs["rejects"] = out
    elif problem == "both":
        kwargs["in_place"] = True
    elif problem == "neither":
        kwargs["output"] = None
    elif problem == "missing":
        src.unlink()
    elif problem == "gzip":
        src.write_bytes(gzip.compress(GOOD))
    elif problem == "array":
        src.write_bytes(b"[\n" + GOOD.rstrip() + b"\n]\n")
    with pytest.raises(FixError, match=match):
        ftkit.fix(src, **kwargs)
    assert problem != "exists" or out.read_bytes() == b"keep me"
    assert not (tmp_path / "out.rejects.jsonl").exists() and not (tmp_path / "out.changes.json").exists()


def test_cli_exit_codes_and_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "in.jsonl"
    src.write_bytes(FIXABLE * 10)
    res = runner.invoke(cli, ["fix", str(src), "-o", str(tmp_path / "a.jsonl")])
    assert res.exit_code == 0, res.output
    assert "FT109 role-invalid 10" in res.output and "FT015 crlf-line-ends 10" in res.output and "validates clean" in res.output
    src.write_bytes(FIXABLE * 10 + b"not json\n")
    res = runner.invoke(cli, ["fix", str(src), "-o", str(tmp_path / "b.jsonl"), "--rejects", str(tmp_path / "bad.jsonl"),
                              "--changes", str(tmp_path / "log.json"), "--format", "json"])
    assert res.exit_code == 1
    payload = json.loads(res.output)
    assert payload["rejected"] == 1 and payload["written"] == 10 and payload["rejected_by_code"] == {"FT006": 1}
    assert payload["fixed"] == payload["rewritten"] == 10 and payload["fixed_by_code"] == {"FT015": 10, "FT109": 10}
    assert (tmp_path / "bad.jsonl").is_file() and (tmp_path / "log.json").is_file()
    res = runner.invoke(cli, ["fix", str(src), "-o", str(tmp_path / "b.jsonl")])
    assert res.exit_code == 2 and "already exists" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["fix", str(src)])
    assert res.exit_code == 2 and "no output file" in res.output
