#!/usr/bin/env python3
"""Benchmark ``ftkit convert`` and ``validate`` of JSON arrays, with references from the same run.

    python benchmarks/bench_convert.py [--out-dir DIR] [--mb 40] [--repeats 3] [--base COMMIT] [--keep-inputs]

1. Generates, deterministically (fixed seed), into DIR: (a) ``--mb`` MB of ShareGPT JSON Lines
   (a system prompt, 1-4 turns of mixed Chinese/English text, some metadata keys); (b) the same
   number of MB as an Alpaca JSON array; (c) messages records as a pretty-printed JSON array and
   (d) the same records as JSON Lines.
2. Times, in this process, best of ``--repeats``:
   - the reference: ``json.loads`` of every record and ``json.dumps`` of its messages, the least
     any converter must do;
   - ``ftkit.convert`` (careful parse, the record rules, the conservation check, the output
     validated at the end), and the same with the conservation check switched off, so its share
     is measured on the same data;
   - ``ftkit.validate`` of (c), the JSON array (records checked one by one), against (d).
   With ``--base COMMIT`` (e.g. the commit before issue 12), that commit's ``ftkit convert`` is
   timed on (a) and (b) too, in a subprocess from an extracted copy of its tree.
3. Prints a table of seconds and ratios; exits 1 when the conservation check costs more than
   ``MAX_CHECK_SHARE`` of convert, or validating the array takes more than ``MAX_ARRAY_RATIO``
   times validating the same records as JSON Lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20
SEED = 20240612
MAX_CHECK_SHARE = 0.25
MAX_ARRAY_RATIO = 3.0

ZH = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研质信"
EN = ["the", "model", "answer", "question", "please", "explain", "data", "train", "loss", "token", "convert", "python", "value", "result"]


def text(rng: random.Random, size: int) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(ZH) for _ in range(size // 3 or 1))
    return " ".join(rng.choice(EN) for _ in range(size // 6 or 1))


def records(kind: str, size: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    systems = [text(rng, 120) for _ in range(20)]
    out: list[dict[str, Any]] = []
    written = 0
    while written < size:
        turns = [(text(rng, rng.randint(20, 300)), text(rng, rng.randint(40, 600))) for _ in range(rng.randint(1, 4))]
        if kind == "sharegpt":
            rec: dict[str, Any] = {"conversations": [t for q, a in turns for t in ({"from": "human", "value": q}, {"from": "gpt", "value": a})],
                                   "system": rng.choice(systems), "id": f"r{len(out)}", "source": rng.choice(EN)}  # fmt: skip
        elif kind == "alpaca":
            rec = {"instruction": turns[-1][0], "input": text(rng, 40) if rng.random() < 0.3 else "", "output": turns[-1][1],
                   "history": [list(t) for t in turns[:-1]]}  # fmt: skip
        else:
            rec = {"messages": [{"role": "system", "content": rng.choice(systems)}]
                   + [m for q, a in turns for m in ({"role": "user", "content": q}, {"role": "assistant", "content": a})]}  # fmt: skip
        written += len(json.dumps(rec, ensure_ascii=False).encode("utf-8")) + 1
        out.append(rec)
    return out


def write_jsonl(path: Path, recs: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def reference(path: Path, out: Path) -> None:
    """The least a converter does: read each record, write its messages."""
    data = path.read_text(encoding="utf-8")
    items = json.loads(data) if data.lstrip().startswith("[") else [json.loads(x) for x in data.splitlines() if x.strip()]
    with open(out, "w", encoding="utf-8") as f:
        for r in items:
            if "conversations" in r:
                msgs = [{"role": "system", "content": r["system"]}] + [
                    {"role": "user" if t["from"] == "human" else "assistant", "content": t["value"]} for t in r["conversations"]
                ]
            else:
                msgs = [m for q, a in r["history"] for m in ({"role": "user", "content": q}, {"role": "assistant", "content": a})]
                msgs += [{"role": "user", "content": "\n".join(t for t in (r["instruction"], r["input"]) if t)}, {"role": "assistant", "content": r["output"]}]
            f.write(json.dumps({"messages": msgs}, ensure_ascii=False) + "\n")


def best(repeats: int, func: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(repeats: int, run: Callable[[], Any], conv: Any) -> tuple[float, float]:
    """Best of ``repeats`` with the conservation check on and off, taken in turns (the machine's
    load changes from second to second: sequential blocks would measure it, not the check)."""
    real = conv.lost_text
    on, off = [], []
    try:
        for _ in range(repeats):
            for times, check in ((on, real), (off, lambda *a, **k: [])):
                conv.lost_text = check
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
    finally:
        conv.lost_text = real
    return min(on), min(off)


def base_tree(commit: str, work: Path) -> Path:
    target = work / f"base-{commit[:10]}"
    if not target.exists():
        archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout
        target.mkdir(parents=True)
        tar = work / "base.tar"
        tar.write_bytes(archive)
        with tarfile.open(tar) as t:
            t.extractall(target, filter="data")
        tar.unlink()
    return target


def subprocess_convert(trees: list[Path], src: Path, out: Path, repeats: int) -> list[float]:
    """``ftkit.convert`` of each tree in a fresh interpreter, interleaved, best of ``repeats``."""
    code = f"import ftkit; ftkit.convert({str(src)!r}, {str(out)!r}, force=True)"
    times: list[list[float]] = [[] for _ in trees]
    for _ in range(repeats):
        for tree, got in zip(trees, times):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(tree)}, check=True, cwd=tree)
            got.append(time.perf_counter() - start)
    return [min(t) for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--mb", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--base", help="also time this commit's ftkit convert (e.g. the commit before issue 12)")
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args()
    import ftkit
    import ftkit.repair.convert as conv

    work = args.out_dir / "convert-bench"
    work.mkdir(parents=True, exist_ok=True)
    size = args.mb * MB
    sharegpt, alpaca, array, lines = work / "a.jsonl", work / "b.json", work / "c.json", work / "d.jsonl"
    print(f"generating {args.mb} MB inputs in {work} ...", flush=True)
    write_jsonl(sharegpt, records("sharegpt", size))
    alpaca.write_text(json.dumps(records("alpaca", size), ensure_ascii=False), encoding="utf-8")
    msgs = records("messages", size)
    array.write_text(json.dumps(msgs, ensure_ascii=False, indent=2), encoding="utf-8")
    write_jsonl(lines, msgs)
    out = work / "out.jsonl"
    rows: list[tuple[str, float, str]] = []
    check_shares = []
    for label, src in [("(a) ShareGPT JSON Lines", sharegpt), ("(b) Alpaca JSON array", alpaca)]:
        ref = best(args.repeats, lambda src=src: reference(src, out))
        full, unchecked = interleaved(args.repeats, lambda src=src: ftkit.convert(src, out, force=True), conv)
        share = (full - unchecked) / full
        check_shares.append(share)
        rows += [(f"{label}: reference (json.loads + json.dumps)", ref, ""), (f"{label}: ftkit convert", full, f"{full / ref:.2f}x reference"),
                 (f"{label}: ftkit convert, conservation check off", unchecked, f"check = {share:.0%} of convert")]  # fmt: skip
        if args.base:
            old, now = subprocess_convert([base_tree(args.base, work), REPO], src, work / "base-out.jsonl", args.repeats)
            rows += [(f"{label}: ftkit convert at {args.base[:10]} (a fresh process)", old, ""),
                     (f"{label}: ftkit convert now (a fresh process)", now, f"{now / old:.2f}x {args.base[:10]}")]  # fmt: skip
    as_lines = best(args.repeats, lambda: ftkit.validate(lines))
    as_array = best(args.repeats, lambda: ftkit.validate(array))
    rows += [("(d) validate, the records as JSON Lines", as_lines, ""), ("(c) validate, the same records as a JSON array", as_array, f"{as_array / as_lines:.2f}x JSON Lines")]
    print(f"\n{'what':<66} {'seconds':>8}  ratio")
    for label, seconds, ratio in rows:
        print(f"{label:<66} {seconds:>8.3f}  {ratio}")
    print(f"\nmachine: {os.cpu_count()} cpus, python {sys.version.split()[0]}; best of {args.repeats}; inputs {args.mb} MB each")
    if not args.keep_inputs:
        shutil.rmtree(work)
    failed = False
    if max(check_shares) > MAX_CHECK_SHARE:
        print(f"FAIL: the conservation check is {max(check_shares):.0%} of convert, target ≤ {MAX_CHECK_SHARE:.0%}")
        failed = True
    if as_array / as_lines > MAX_ARRAY_RATIO:
        print(f"FAIL: validating the JSON array takes {as_array / as_lines:.2f}x JSON Lines, target ≤ {MAX_ARRAY_RATIO}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
