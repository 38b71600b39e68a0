#!/usr/bin/env python3
"""Benchmark FT305 (reply-language-mismatch): accuracy on the labelled set, and what it costs.

    python benchmarks/bench_language.py [--out-dir DIR] [--size-mb 30] [--repeats 3] [--keep-inputs]

1. Accuracy: precision and recall, overall and by kind, on ``tests/language_set.py`` (prompts and
   replies in eleven languages, code, technical Chinese with English terms, translation tasks,
   short replies; fixed seed). Target: precision >= 0.95.
2. Speed in one process, CPU time, on records of ``bench_validate.py``'s generator (mixed
   Chinese/English, fixed seed) and on real English records (alpaca_en_demo, repeated):
   - FT305's judge on every record, against ``json.loads`` of the same lines (plain ``validate``
     must stay within 1.5x a json.loads loop: this says why FT305 is not run there) and against
     counting the tokens of every content (the pass that does run it);
   - the judge per record on the labelled set.
3. End to end: ``ftkit report FILE --format json`` with FT305 and with ``--ignore FT305``,
   interleaved, best of ``--repeats``; wall and CPU time of each (the ratio is FT305's share).

Prints a table, writes ``DIR/language.json``, exits 1 when precision is under 0.95.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_validate import DEFAULT_OUT, MB, REPO, best_of, ftkit_command, gen_large, load_average, log, measure
from language_set import labelled_records

MIN_PRECISION = 0.95


def accuracy() -> dict[str, Any]:
    from ftkit.checks.language import LanguageJudge
    from ftkit.policy.languages import language_table
    from ftkit.policy.profile import load_profile

    judge = LanguageJudge(load_profile().data.language, language_table())
    items = labelled_records()
    by_kind: dict[str, dict[str, int]] = {}
    start = time.process_time()
    for item in items:
        flagged = judge.judge(item.record["messages"]) is not None
        row = by_kind.setdefault(item.kind, {"records": 0, "tp": 0, "fp": 0, "fn": 0, "tn": 0})
        row["records"] += 1
        row["tp" if flagged and item.mismatch else "fp" if flagged else "fn" if item.mismatch else "tn"] += 1
    cpu = time.process_time() - start
    total = {k: sum(r.get(k, 0) for r in by_kind.values()) for k in ("records", "tp", "fp", "fn")}
    return {"by_kind": by_kind, "total": total, "precision": _ratio(total["tp"], total["tp"] + total["fp"]),
            "recall": _ratio(total["tp"], total["tp"] + total["fn"]), "us_per_record": cpu / len(items) * 1e6}  # fmt: skip


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def english_records(out: Path, size: int) -> Path:
    """Real English records (LLaMA-Factory's alpaca_en_demo, in tests/data) as messages, repeated
    with a per-copy tag up to ``size`` bytes: short instructions and answers, both in English."""
    rows = json.loads((REPO / "tests" / "data" / "llama-factory" / "alpaca_en_demo.json").read_text(encoding="utf-8"))
    target = out / "language_english.jsonl"
    written = copy = 0
    with open(target, "w", encoding="utf-8") as dst:
        while written < size:
            for row in rows:
                user = f"#{copy} {row['instruction']}" + (f"\n{row['input']}" if row.get("input") else "")
                line = json.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": row["output"]}]}) + "\n"
                dst.write(line)
                written += len(line)
            copy += 1
    return target


def speed(path: Path) -> dict[str, Any]:
    from ftkit.checks.language import LanguageJudge
    from ftkit.policy.languages import language_table
    from ftkit.policy.profile import load_profile
    from ftkit.tokens.tokenizer import get_tokenizer

    lines = path.read_bytes().splitlines()
    records = []
    for line in lines:
        try:
            value = json.loads(line)
            if isinstance(value["messages"][-1]["content"], str):
                records.append(value["messages"])
        except (ValueError, KeyError, TypeError, IndexError):
            pass
    judge = LanguageJudge(load_profile().data.language, language_table())
    encode = get_tokenizer("Qwen/Qwen2.5-7B-Instruct").count
    start = time.process_time()
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            pass
    parse = time.process_time() - start
    start = time.process_time()
    found = sum(judge.judge(m) is not None for m in records)
    judged = time.process_time() - start
    start = time.process_time()
    for m in records:
        for message in m:
            if isinstance(message.get("content"), str):
                encode(message["content"])
    tokens = time.process_time() - start
    return {"records": len(records), "flagged": found, "json_loads_s": parse, "judge_s": judged, "tokens_s": tokens,
            "judge_per_json_loads": judged / parse, "judge_per_tokens": judged / tokens,
            "judge_us_per_record": judged / max(1, len(records)) * 1e6}  # fmt: skip


def end_to_end(path: Path, out: Path, repeats: int) -> dict[str, Any]:
    ftkit = ftkit_command()
    commands = {"report": [*ftkit, "report", str(path), "--format", "json"],
                "report_without_ft305": [*ftkit, "report", str(path), "--format", "json", "--ignore", "FT305"]}  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, argv in commands.items():
            runs[name].append(measure(argv, out))
    best = {name: best_of(r) for name, r in runs.items()}
    base = best["report_without_ft305"]
    return {**best, "wall_ratio": best["report"]["best_s"] / base["best_s"], "cpu_ratio": best["report"]["cpu_s"] / base["cpu_s"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size-mb", type=int, default=30, help="size of the generated file [default: 30]")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"load_average_start": load_average()}
    log("accuracy on the labelled set ...")
    results["accuracy"] = accuracy()
    data = out / "language_input.jsonl"
    log(f"generating {args.size_mb} MB of records into {data} ...")
    gen_large(data, args.size_mb * MB)
    english = english_records(out, args.size_mb * MB)
    log("speed in one process ...")
    results["speed_mixed"] = speed(data)
    results["speed_english"] = speed(english)
    log("ftkit report with and without FT305 ...")
    results["end_to_end_mixed"] = end_to_end(data, out, args.repeats)
    results["end_to_end_english"] = end_to_end(english, out, args.repeats)
    results["load_average_end"] = load_average()
    results["ok"] = results["accuracy"]["precision"] >= MIN_PRECISION
    (out / "language.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not args.keep_inputs:
        data.unlink(missing_ok=True)
        english.unlink(missing_ok=True)
    _print(results)
    return 0 if results["ok"] else 1


def _print(r: dict[str, Any]) -> None:
    a = r["accuracy"]
    print(f"FT305 benchmark; load average {r['load_average_start']} -> {r['load_average_end']}\n")
    print(f"{'kind':<18}{'records':>9}{'tp':>6}{'fp':>6}{'fn':>6}")
    for kind, row in sorted(a["by_kind"].items()):
        print(f"{kind:<18}{row['records']:>9}{row.get('tp', 0):>6}{row.get('fp', 0):>6}{row.get('fn', 0):>6}")
    t = a["total"]
    print(f"{'all':<18}{t['records']:>9}{t['tp']:>6}{t['fp']:>6}{t['fn']:>6}")
    print(f"precision {a['precision']:.3f} (target >= {MIN_PRECISION}), recall {a['recall']:.3f}, {a['us_per_record']:.0f} us per labelled record\n")
    for name in ("mixed", "english"):
        s = r[f"speed_{name}"]
        print(f"{name} records ({s['records']:,}, {s['flagged']:,} flagged): judge {s['judge_us_per_record']:.1f} us/record CPU; "
              f"{s['judge_per_json_loads']:.2f}x json.loads of the lines, {s['judge_per_tokens']:.3f}x counting their tokens")  # fmt: skip
    for name in ("mixed", "english"):
        e = r[f"end_to_end_{name}"]
        print(f"ftkit report ({name}): {e['report']['best_s']:.2f} s with FT305, {e['report_without_ft305']['best_s']:.2f} s without: "
              f"wall {e['wall_ratio']:.3f}x, CPU {e['cpu_ratio']:.3f}x")  # fmt: skip
    print("\nPRECISION TARGET MET" if r["ok"] else "\nPRECISION TARGET MISSED")


if __name__ == "__main__":
    sys.exit(main())
