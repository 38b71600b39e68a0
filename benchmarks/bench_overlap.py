#!/usr/bin/env python3
"""Benchmark FT508 (``validate --against``): time and peak memory as both files grow.

    python benchmarks/bench_overlap.py [--out-dir DIR] [--train-mb 20] [--eval-mb 4] [--repeats 2] [--keep-inputs]

1. Generates, with fixed seeds, training records (``bench_validate.py``'s generator: mixed
   Chinese/English) of TRAIN and 2 x TRAIN MB, and evaluation records of EVAL and 2 x EVAL MB
   from another seed. One training record in two hundred gets a reply that copies an
   evaluation answer: those are the overlaps to find.
2. Times ``ftkit validate TRAIN --against EVAL --format json`` and the same without
   ``--against`` (the reference, measured in the same run), best of ``--repeats``, for
   (TRAIN, EVAL), (2 x TRAIN, EVAL) and (2 x TRAIN, 2 x EVAL): the cost of the comparison is
   the difference, and linear means it doubles with either file.
3. Prints the table, writes ``DIR/overlap.json``, exits 1 when a run misses a planted overlap
   (FT503 or FT508 on exactly the planted lines) or ftkit fails.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import DEFAULT_OUT, MB, SEED, LargeRecords, _write_until, best_of, ftkit_command, load_average, log, measure

PLANT_EVERY = 200


def gen_eval(path: Path, size: int) -> list[str]:
    gen = LargeRecords(random.Random(SEED + 11))
    replies: list[str] = []

    def make_line(i: int) -> tuple[str, str | None]:
        record = gen.record(f"eval-{i}")
        replies.append(record["messages"][-1]["content"])
        return json.dumps(record, ensure_ascii=False), None

    _write_until(path, size, make_line)
    return replies


def gen_train(path: Path, size: int, replies: list[str]) -> set[int]:
    """Training records; every PLANT_EVERY-th gets an evaluation reply (a planted overlap)."""
    gen = LargeRecords(random.Random(SEED + 12))
    rng = random.Random(SEED + 13)
    planted: set[int] = set()

    def make_line(i: int) -> tuple[str, str | None]:
        record = gen.record(f"train-{i}")
        if i % PLANT_EVERY == PLANT_EVERY - 1:
            record["messages"][-1]["content"] = "Note: " + rng.choice(replies)
            planted.add(i + 1)
        return json.dumps(record, ensure_ascii=False), None

    _write_until(path, size, make_line)
    return planted


def found_lines(ftkit: list[str], train: Path, other: Path, cwd: Path) -> set[int]:
    import subprocess

    done = subprocess.run([*ftkit, "validate", str(train), "--against", str(other), "--format", "json"], cwd=cwd, capture_output=True, text=True)
    report = json.loads(done.stdout)
    return {v["line"] for v in report["violations"] if v["code"] in ("FT503", "FT508")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--train-mb", type=int, default=20)
    parser.add_argument("--eval-mb", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    ftkit = ftkit_command()
    log("generating ...")
    evals = {n: out / f"overlap_eval_{n}x.jsonl" for n in (1, 2)}
    replies = {n: gen_eval(path, n * args.eval_mb * MB) for n, path in evals.items()}
    trains = {n: out / f"overlap_train_{n}x.jsonl" for n in (1, 2)}
    planted = {n: gen_train(path, n * args.train_mb * MB, replies[1]) for n, path in trains.items()}  # replies of the small eval file
    results: dict[str, Any] = {"load_average_start": load_average(), "runs": []}
    ok = True
    for t, e in ((1, 1), (2, 1), (2, 2)):
        train, other = trains[t], evals[e]
        log(f"train {t}x, eval {e}x ...")
        with_runs, without_runs = [], []
        for _ in range(args.repeats):
            with_runs.append(measure([*ftkit, "validate", str(train), "--against", str(other), "--format", "json"], out))
            without_runs.append(measure([*ftkit, "validate", str(train), "--format", "json"], out))
        got = found_lines(ftkit, train, other, out)
        hit = got == planted[t]
        ok &= hit and all(r["rc"] in (0, 1) for r in with_runs + without_runs)
        a, b = best_of(with_runs), best_of(without_runs)
        results["runs"].append({"train_mb": train.stat().st_size / MB, "eval_mb": other.stat().st_size / MB, "with": a, "without": b,
                                "comparison_s": a["best_s"] - b["best_s"], "comparison_cpu_s": a["cpu_s"] - b["cpu_s"],
                                "planted": len(planted[t]), "found": len(got), "exact": hit})  # fmt: skip
    results["load_average_end"] = load_average()
    results["ok"] = ok
    (out / "overlap.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not args.keep_inputs:
        for path in (*evals.values(), *trains.values()):
            path.unlink(missing_ok=True)
    print(f"validate --against (FT503 + FT508); load average {results['load_average_start']} -> {results['load_average_end']}\n")
    print(f"{'train':>8}{'eval':>8}{'without':>10}{'with':>9}{'compare':>10}{'CPU':>8}{'RSS with':>10}{'RSS w/o':>9}{'planted':>9}{'found':>7}")
    for r in results["runs"]:
        print(f"{r['train_mb']:>6.0f}MB{r['eval_mb']:>6.0f}MB{r['without']['best_s']:>9.2f}s{r['with']['best_s']:>8.2f}s"
              f"{r['comparison_s']:>9.2f}s{r['comparison_cpu_s']:>7.2f}s{r['with']['maxrss_mb']:>8.0f}MB{r['without']['maxrss_mb']:>7.0f}MB"
              f"{r['planted']:>9}{r['found']:>7}")  # fmt: skip
    print("\nALL PLANTED OVERLAPS FOUND, NOTHING ELSE" if ok else "\nA PLANTED OVERLAP WAS MISSED (or something else was found)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
