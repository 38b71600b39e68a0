#!/usr/bin/env python3
"""Benchmark ``ftkit report`` on templated records against ``ftkit stats`` on the same file.

    python benchmarks/bench_templated.py [--out-dir DIR] [--records 160000] [--repeats 2] [--base DIR]

Templated data (the same words around a different number, as generated or form-filled datasets
are) is the near-duplicate check's worst case: the records share the template's shingles, so in
most bands every record falls into one bucket, and every record is a candidate whose whole text
is read again and compared. (Two records share 6 of their 10 shingles: similarity 0.6, no FT504.)

1. Writes ``--records`` records: ``question N`` and 40 words, answered by 30 words.
2. Times, interleaved, best of ``--repeats``, each under a fresh wrapper process (wall time and
   peak RSS of that command only): ``ftkit stats FILE --format json`` and ``ftkit report FILE
   --format json``; with ``--base DIR``, that ftkit's report too (PYTHONPATH=DIR).
3. Prints the figures and writes ``DIR/templated.json``. No target: the report on the benchmark's
   ordinary records is bounded by bench_report.py; this one shows that the worst case stays linear
   (2026-12-01: 160,000 records, 84 MB: report 14.9 s and 457 MB against stats 4.35 s; the commit
   before the fix, in the same run, 341.5 s and 3,388 MB).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import DEFAULT_OUT, MB, base_command, ftkit_command, load_average, log, timed_rounds


def write_templated(path: Path, records: int) -> int:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(records):
            record = {"messages": [{"role": "user", "content": f"question {n} " + "words " * 40},
                                   {"role": "assistant", "content": "answer " * 30}]}  # fmt: skip
            out.write(json.dumps(record) + "\n")
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--records", type=int, default=160_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--base", type=Path, help="also time the report of the ftkit package in this directory (PYTHONPATH)")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = out / "templated.jsonl"
    size = write_templated(data, args.records)
    log(f"wrote {args.records:,} templated records, {size / MB:.1f} MB")
    ftkit = ftkit_command()
    commands = {"stats": [*ftkit, "stats", str(data), "--format", "json"], "report": [*ftkit, "report", str(data), "--format", "json"]}
    if args.base:
        commands["base_report"] = [*base_command(args.base), *commands["report"][len(ftkit) :]]
    try:
        best = timed_rounds(commands, args.repeats, out)
    finally:
        data.unlink(missing_ok=True)
    ratio = best["report"]["best_s"] / best["stats"]["best_s"]
    results = {"records": args.records, "bytes": size, "repeats": args.repeats, "best": best, "ratio_report_to_stats": round(ratio, 3),
               "load_average": load_average()}  # fmt: skip
    (out / "templated.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{args.records:,} templated records, {size / MB:.1f} MB")
    print(f"{'command':<14}{'best s':>9}{'best CPU s':>12}{'peak RSS MB':>13}")
    for name, b in best.items():
        print(f"{name:<14}{b['best_s']:>9.2f}{b['cpu_s']:>12.2f}{b['maxrss_mb']:>13.1f}")
    print(f"report / stats = {ratio:.2f} wall")
    return 0 if all(rc == 0 for b in best.values() for rc in b["exit_codes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
