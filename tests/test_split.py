"""``ftkit split``: hypothesis properties of the split, real files, and the CLI's contract.

Properties (issue 4): the outputs are the input, line for line and byte for byte; no record is on
both sides and no group straddles them; the same seed gives the same files; appending records
never moves an existing record (with and without group-by and stratify; with group-by near on
records whose similarity is all or nothing, so that no new record can merge two clusters); validation is within one
record of ratio x N when there are no duplicate groups, exactly N with a count; rejected + kept =
input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import tempfile
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.cli import cli
from ftkit.errors import DataError as SplitRefused
from ftkit.errors import FtkitError as SplitError
from ftkit.plan.choose import STRATUM_EDGES, choose_validation
from support import DATA, write_profile


def split_file(src: Path, out: Path, ratio: float | None = None, count: int | None = None, **kwargs: Any) -> Any:
    return ftkit.split(src, out, val_ratio=ratio, val_count=count, **kwargs)

SHARED = DATA
SHISHUO = SHARED / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl"
TOY = SHARED / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

words = st.text(alphabet="abcdefg 中文xyz", min_size=1, max_size=12).filter(lambda t: t.strip() == t and t)


def record(user: str, answer: str = "ok", system: str | None = None) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system is not None else []
    return {"messages": [*msgs, {"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def line(rec: dict[str, Any], style: int = 0) -> bytes:
    """The record as one JSON line, written the way different tools write it."""
    if style == 1:
        return orjson.dumps(rec, option=orjson.OPT_SORT_KEYS)
    if style == 2:
        return json.dumps(rec, separators=(",", ":")).encode()
    return json.dumps(rec, ensure_ascii=False).encode()


def distinct(n: int, tag: str = "") -> list[bytes]:
    return [line(record(f"question {tag}{i}", f"answer {i}")) for i in range(n)]


def lines_of(data: bytes) -> list[bytes]:
    """Physical lines as ftkit reads them: split on \\n, a final \\n ends the last line."""
    parts = data.split(b"\n")
    return parts[:-1] if parts[-1] == b"" else parts


def read_rejected(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in lines_of(path.read_bytes())] if path.exists() else []


def rejected_raw(entry: dict[str, Any]) -> bytes:
    return entry["text"].encode("utf-8", "surrogatepass") if "text" in entry else base64.b64decode(entry["base64"])


def run_split(data: bytes, **kwargs: Any) -> tuple[dict[str, list[bytes]], list[dict[str, Any]], Any]:
    """Split ``data`` in a fresh directory: (lines of train and validation, rejected entries, result)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "data.jsonl"
        src.write_bytes(data)
        result = split_file(src, Path(tmp) / "out", **kwargs)
        out = {k: lines_of((Path(tmp) / "out" / f"{k}.jsonl").read_bytes()) for k in ("train", "validation")}
        assert src.read_bytes() == data
        return out, read_rejected(Path(tmp) / "out" / "rejected.jsonl"), result


@st.composite
def messy_files(draw: st.DrawFn) -> bytes:
    """Valid records (some repeated, re-serialised), invalid and blank lines, CRLF, maybe no final newline."""
    pool = [record(u, a, s) for u, a, s in draw(st.lists(st.tuples(words, words, st.none() | words), min_size=2, max_size=8))]
    bad = [b"", b"   ", b"{not json", b'{"messages": [{"role": "bot", "content": "x"}]}', b"caf\xe9 latin-1", b'{"messages": []}']
    out = []
    for _ in range(draw(st.integers(2, 30))):
        if draw(st.integers(0, 5)) == 0:
            raw = draw(st.sampled_from(bad))
        else:
            raw = line(draw(st.sampled_from(pool)), draw(st.integers(0, 2)))
        out.append(raw + (b"\r" if draw(st.integers(0, 6)) == 0 and raw else b""))
    return b"\n".join(out) + draw(st.sampled_from([b"\n", b""]))


@SETTINGS
@given(messy_files(), st.sampled_from([None, "system", "first-user", "near"]), st.booleans())
def test_outputs_are_the_input_and_no_record_is_on_both_sides(data: bytes, group_by: str | None, stratify: bool) -> None:
    try:
        out, rejected, result = run_split(data, ratio=0.3, group_by=group_by, stratify="length" if stratify else None, drop_invalid=True)
    except SplitRefused as exc:  # fewer than 2 usable records, or no record at all (FT002)
        assert "at least 2" in str(exc) or "FT002" in str(exc)
        return
    written = out["train"] + out["validation"] + [rejected_raw(e) for e in rejected]
    assert Counter(written) == Counter(lines_of(data))  # union = input, as multisets of bytes
    assert len(written) == len(lines_of(data))  # rejected + kept = input
    assert [e["line"] for e in rejected] == sorted(e["line"] for e in rejected) and all(e["reasons"] for e in rejected)
    train = {orjson.dumps(json.loads(x), option=orjson.OPT_SORT_KEYS) for x in out["train"]}
    val = {orjson.dumps(json.loads(x), option=orjson.OPT_SORT_KEYS) for x in out["validation"]}
    assert not train & val and result.leaked_records == 0
    assert (result.train.records, result.validation.records) == (len(out["train"]), len(out["validation"]))
    if group_by and group_by != "near":  # near: tests/test_near_duplicates.py
        train_groups = {_group(x, group_by) for x in out["train"]} - {None}
        assert not train_groups & {_group(x, group_by) for x in out["validation"]}


def _group(raw: bytes, group_by: str) -> str | None:
    msgs = json.loads(raw)["messages"]
    if group_by == "system":
        return msgs[0]["content"] if msgs[0]["role"] == "system" else None
    return next(m["content"] for m in msgs if m["role"] == "user")


@SETTINGS
@given(messy_files(), st.text(max_size=10))
def test_same_seed_same_files(data: bytes, seed: str) -> None:
    try:
        first, rejected1, _ = run_split(data, seed=seed, drop_invalid=True)
    except SplitRefused:
        return
    again, rejected2, _ = run_split(data, seed=seed, drop_invalid=True)
    assert (first, rejected1) == (again, rejected2)


@st.composite
def growing_files(draw: st.DrawFn) -> tuple[list[bytes], list[bytes]]:
    """Records of many lengths (several strata), some exact duplicates and shared system prompts
    and first user messages; then records to append, some repeating old ones."""
    systems, users = [None, "sys a", "sys b", "sys c"], [f"opening {i}" for i in range(6)]

    def one(i: int, tag: str) -> bytes:
        user = draw(st.sampled_from(users)) if draw(st.integers(0, 3)) == 0 else f"{tag} question {i}"
        answer = "long answer " * draw(st.sampled_from([1, 20, 60, 200, 700]))
        return line(record(user, answer, draw(st.sampled_from(systems))), draw(st.integers(0, 2)))

    base = [one(i, "old") for i in range(draw(st.integers(2, 40)))]
    more = [one(i, "new") for i in range(draw(st.integers(1, 40)))]
    for _ in range(draw(st.integers(0, 4))):  # exact duplicates, in the old file and appended
        base.insert(draw(st.integers(0, len(base))), draw(st.sampled_from(base)))
        more.insert(draw(st.integers(0, len(more))), draw(st.sampled_from(base)))
    return base, more


@settings(SETTINGS, max_examples=40)
@given(growing_files(), st.sampled_from([0.05, 0.1, 0.2, 0.5, 0.9]), st.text(max_size=6),
       st.sampled_from([None, "system", "first-user", "near"]), st.booleans())
def test_appending_never_moves_an_existing_record(files: tuple[list[bytes], list[bytes]], ratio: float, seed: str,
                                                  group_by: str | None, stratify: bool) -> None:
    base, more = files
    assume(ratio * len(base) >= 1 and (1 - ratio) * len(base) >= 1)  # else a side may need filling
    options = {"ratio": ratio, "seed": seed, "group_by": group_by, "stratify": "length" if stratify else None}
    before, _, _ = run_split(b"\n".join(base) + b"\n", **options)
    after, _, _ = run_split(b"\n".join(base + more) + b"\n", **options)
    for side in ("train", "validation"):  # equal bytes are one record: always on one side
        assert set(before[side]) <= set(after[side])
    assert Counter(after["train"] + after["validation"]) == Counter(base + more)


def keyed_frame(n: int, seed: str) -> Any:
    import polars as pl

    from ftkit.tokens.table import stable_hash

    rng = random.Random(n)
    return pl.DataFrame({"line": range(1, n + 1), "total": [int(rng.lognormvariate(6, 1.5)) for _ in range(n)],
                         "key": [stable_hash(str(i).encode(), seed) for i in range(n)]})


@SETTINGS
@given(st.integers(10, 300), st.floats(0.01, 0.99), st.text(max_size=6))
def test_validation_is_within_one_record_of_the_ratio_without_duplicate_groups(n: int, ratio: float, seed: str) -> None:
    mask = choose_validation(keyed_frame(n, seed), ratio)
    r = Fraction(str(ratio))
    for m in range(1, n + 1):  # after every record, so also for the whole file
        assert abs(int(mask.head(m).sum()) - r * m) < 1
    target = min(max(int(ratio * n + 0.5), 1), n - 1)
    assert abs(int(mask.sum()) - target) <= 1


@SETTINGS
@given(st.integers(10, 300), st.floats(0.01, 0.99), st.text(max_size=6))
def test_stratified_validation_is_within_one_record_per_stratum(n: int, ratio: float, seed: str) -> None:
    import polars as pl

    frame = keyed_frame(n, seed)
    mask = choose_validation(frame, ratio, stratify="length")
    strata = frame.with_columns(val=mask, s=pl.sum_horizontal(*(pl.col("total") >= e for e in STRATUM_EDGES)))
    sizes = strata.group_by("s").agg(n=pl.len(), v=pl.col("val").sum())
    r = Fraction(str(ratio))
    assert all(abs(v - r * m) < 1 for m, v in zip(sizes["n"], sizes["v"]))
    assert abs(int(mask.sum()) - r * n) < sizes.height


@SETTINGS
@given(st.integers(10, 300), st.data(), st.text(max_size=6))
def test_count_mode_gives_exactly_the_count_without_duplicate_groups(n: int, data: st.DataObject, seed: str) -> None:
    # ratio = count / n and |v - ratio * n| < 1 at the end: v = count, both being integers
    count = data.draw(st.integers(1, n - 1))
    assert int(choose_validation(keyed_frame(n, seed), Fraction(count, n)).sum()) == count


def test_a_file_too_small_for_its_ratio_still_gets_a_validation_record() -> None:
    for seed in map(str, range(20)):
        out, _, result = run_split(b"\n".join(distinct(5)) + b"\n", ratio=0.1, seed=seed)
        assert (len(out["train"]), len(out["validation"]), result.target) == (4, 1, 1)


def test_ratio_and_count_end_to_end() -> None:
    data = b"\n".join(distinct(57)) + b"\n"
    out, _, result = run_split(data, ratio=0.25)  # 0.25 x 57 = 14.25: 14 or 15 records
    assert result.target == 14 and len(out["validation"]) in (14, 15) and len(out["train"]) + len(out["validation"]) == 57
    out, _, result = run_split(data, count=5)
    assert len(out["validation"]) == 5 and result.count == 5 and result.ratio is None


def test_stratify_keeps_validation_lengths_close_to_training() -> None:
    import polars as pl

    def ks(a: list[int], b: list[int], points: Any = None) -> float:
        """Largest gap between the two length CDFs (the share of records below each point)."""
        points = sorted(set(a) | set(b)) if points is None else points
        return max(abs(sum(x < p for x in a) / len(a) - sum(x < p for x in b) / len(b)) for p in points)

    rng = random.Random(7)
    totals = [int(rng.lognormvariate(5, 1.2)) + 1 for _ in range(400)]
    frame = pl.DataFrame({"line": range(1, 401), "total": totals})
    plain, strat, at_edges = [], [], []
    for seed in range(30):
        keyed = frame.with_columns(key=pl.Series([random.Random(seed * 1000 + i).getrandbits(63) for i in range(400)]))
        for stratify, into in ((None, plain), ("length", strat)):
            mask = choose_validation(keyed, 0.1, stratify=stratify).to_list()
            val, train = [t for t, m in zip(totals, mask) if m], [t for t, m in zip(totals, mask) if not m]
            into.append(ks(val, train))
            if stratify:
                at_edges.append(ks(val, train, STRATUM_EDGES))
    assert sum(strat) / 30 < 0.75 * sum(plain) / 30
    # each stratum is within one record of its share, so at the edges the CDFs barely differ
    assert max(at_edges) <= 0.1


def test_duplicates_stay_together_even_when_reformatted() -> None:
    rec = record("same question", "same answer")
    data = b"\n".join(distinct(30) + [line(rec, 0), line(rec, 1), line(rec, 2)] * 3) + b"\n"
    for seed in map(str, range(20)):
        out, _, _ = run_split(data, ratio=0.3, seed=seed)
        sides = {side for side, rows in out.items() for x in rows if json.loads(x) == rec}
        assert len(sides) == 1


def test_crlf_and_missing_final_newline_are_kept_byte_for_byte() -> None:
    rows = distinct(20)
    data = b"\n".join(r + b"\r" if i % 3 == 0 else r for i, r in enumerate(rows))  # no final newline
    out, _, _ = run_split(data, ratio=0.2)
    assert Counter(out["train"] + out["validation"]) == Counter(r + b"\r" if i % 3 == 0 else r for i, r in enumerate(rows))
    for rows_out in out.values():  # input order kept within each output
        assert rows_out == sorted(rows_out, key=lines_of(data).index)


def test_rejected_lines_say_why(tmp_path: Path) -> None:
    pretty = json.dumps(record("spread", "over lines"), indent=2).encode()
    data = b"\n".join([*distinct(12), b"", pretty, b"\xff oops", line(record("q", "a"))[:-2]]) + b"\n"
    (tmp_path / "in.jsonl").write_bytes(data)
    with pytest.raises(SplitRefused) as refused:
        split_file(tmp_path / "in.jsonl", tmp_path / "out")
    assert refused.value.scan.fails() and not (tmp_path / "out").exists()
    result = split_file(tmp_path / "in.jsonl", tmp_path / "out", drop_invalid=True)
    entries = read_rejected(tmp_path / "out" / "rejected.jsonl")
    assert result.rejected is not None and result.rejected.records == len(entries) == len(lines_of(data)) - 12
    first = {e["line"]: e["reasons"][0] for e in entries}
    assert first[13].startswith("FT005") and first[14].startswith("FT008")
    assert all(first[n] == "continues the record that starts at line 14" for n in range(15, 14 + pretty.count(b"\n") + 1))
    bad = next(e for e in entries if "base64" in e)
    assert base64.b64decode(bad["base64"]) == b"\xff oops" and bad["reasons"][0].startswith("FT003")


def test_a_bom_line_is_rejected_not_rewritten(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + b"\n".join(distinct(12)) + b"\n"
    (tmp_path / "in.jsonl").write_bytes(data)
    result = split_file(tmp_path / "in.jsonl", tmp_path / "out", drop_invalid=True)
    entries = read_rejected(tmp_path / "out" / "rejected.jsonl")
    assert [e["line"] for e in entries] == [1] and entries[0]["reasons"][0].startswith("FT004")
    assert result.train.records + result.validation.records == 11


def test_whole_file_findings_refuse_even_with_drop_invalid(tmp_path: Path) -> None:
    (tmp_path / "in.json").write_bytes(b"\n".join(distinct(12)) + b"\n")
    with pytest.raises(SplitRefused, match="FT001"):
        split_file(tmp_path / "in.json", tmp_path / "out", drop_invalid=True)


def test_a_refusal_in_the_second_pass_leaves_nothing_behind(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, {"severity": {"FT005": "warning"}})
    (tmp_path / "in.jsonl").write_bytes(b"\n".join([*distinct(6), b"", *distinct(6, "x")]) + b"\n")
    with pytest.raises(SplitRefused, match=":7 is not a record"):
        split_file(tmp_path / "in.jsonl", tmp_path / "out", profile=profile)
    assert list((tmp_path / "out").iterdir()) == []
    result = split_file(tmp_path / "in.jsonl", tmp_path / "out", profile=profile, drop_invalid=True)
    assert result.rejected is not None and result.rejected.records == 1


def test_bad_options_are_split_errors(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(distinct(12)) + b"\n")
    for kwargs, message in [({"ratio": 0.1, "count": 2}, "not both"), ({"ratio": 1.0}, "out of range"), ({"count": 12}, "no training"),
                            ({"seed": "s" * 65}, "64 bytes"), ({"group_by": "user"}, "group-by")]:
        with pytest.raises(SplitError, match=message):
            split_file(src, tmp_path / "out", **kwargs)
    inside = tmp_path / "out" / "train.jsonl"
    inside.parent.mkdir()
    inside.write_bytes(src.read_bytes())
    with pytest.raises(SplitError, match="also an input"):  # even with force
        split_file(inside, tmp_path / "out", force=True)
    assert inside.read_bytes() == src.read_bytes()


# --- real files -------------------------------------------------------------------------------


def test_shishuoxinyu_splits_178_into_161_and_17() -> None:
    data = SHISHUO.read_bytes()
    out, rejected, result = run_split(data)
    assert (len(out["train"]), len(out["validation"]), rejected) == (161, 17, [])  # 0.1 x 178 = 17.8
    assert Counter(out["train"] + out["validation"]) == Counter(lines_of(data))
    assert result.ratio == 0.1 and result.seed == "ftkit" and result.leaked_records == 0
    assert result.train.tokens + result.validation.tokens > 0
    again, _, _ = run_split(data)
    assert again == out


def test_shishuoxinyu_halves_have_nothing_in_common(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["split", str(SHISHUO), "--out-dir", str(tmp_path), "--stratify", "length", "--format", "json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    # 17.8 wanted, each length stratum within one record of its share
    assert {k: summary[k]["records"] for k in ("train", "validation")} == {"train": 162, "validation": 16}
    checked = runner.invoke(cli, ["validate", str(tmp_path / "train.jsonl"), "--against", str(tmp_path / "validation.jsonl"), "--format", "json"])
    assert "FT503" not in checked.output and checked.exit_code == 0


def test_toy_file_is_refused_then_split_with_drop_invalid(tmp_path: Path) -> None:
    runner = CliRunner()
    before = hashlib.sha256(TOY.read_bytes()).hexdigest()
    refused = runner.invoke(cli, ["split", str(TOY), "--out-dir", str(tmp_path / "out")])
    assert refused.exit_code == 1 and "FT202" in refused.output and "--drop-invalid" in refused.output
    assert not (tmp_path / "out").exists()
    done = runner.invoke(cli, ["split", str(TOY), "--out-dir", str(tmp_path / "out"), "--drop-invalid"])
    assert done.exit_code == 0, done.output
    entries = read_rejected(tmp_path / "out" / "rejected.jsonl")
    assert [e["line"] for e in entries] == [4] and entries[0]["reasons"][0].startswith("FT202")
    kept = lines_of((tmp_path / "out" / "train.jsonl").read_bytes()) + lines_of((tmp_path / "out" / "validation.jsonl").read_bytes())
    assert Counter(kept + [rejected_raw(entries[0])]) == Counter(lines_of(TOY.read_bytes()))
    assert hashlib.sha256(TOY.read_bytes()).hexdigest() == before


# --- the CLI contract --------------------------------------------------------------------------


def test_cli_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(distinct(20)) + b"\n")
    runner = CliRunner()
    args = ["split", str(src), "--out-dir", str(tmp_path / "out")]
    assert runner.invoke(cli, args).exit_code == 0
    (tmp_path / "out" / "validation.jsonl").write_bytes(b"mine\n")
    again = runner.invoke(cli, args)
    assert again.exit_code == 2 and again.output.count("\n") == 1 and "--force" in again.output and "Traceback" not in again.output
    assert (tmp_path / "out" / "validation.jsonl").read_bytes() == b"mine\n"
    forced = runner.invoke(cli, [*args, "--force", "--format", "json"])
    assert forced.exit_code == 0 and json.loads(forced.output)["validation"]["records"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["train.jsonl", "validation.jsonl"]


@pytest.mark.parametrize("extra", [["--val-ratio", "0.1", "--val-count", "3"], ["--val-ratio", "1.5"], ["--group-by", "nope"]])
def test_cli_usage_errors_exit_2_in_one_line(tmp_path: Path, extra: list[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(distinct(20)) + b"\n")
    done = CliRunner().invoke(cli, ["split", str(src), "--out-dir", str(tmp_path / "out"), *extra])
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_cli_missing_input_exits_2(tmp_path: Path) -> None:
    done = CliRunner().invoke(cli, ["split", str(tmp_path / "nope.jsonl"), "--out-dir", str(tmp_path / "out")])
    assert done.exit_code == 2 and "no such file" in done.output


def test_cli_text_summary(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(distinct(30)) + b"\n")
    done = CliRunner().invoke(cli, ["split", str(src), "--out-dir", str(tmp_path / "out"), "--val-count", "4", "--seed", "7"])
    assert done.exit_code == 0
    assert "seed '7'" in done.output and "validation" in done.output and "records on both sides: 0" in done.output
