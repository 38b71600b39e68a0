#!/usr/bin/env python3
"""Benchmark ftkit where findings and records are many: time and peak memory.

    python benchmarks/bench_findings.py [--out-dir DIR] [--records N] [--gigabytes G] [--keep-inputs]

1. A file of N (default 1,000,000) lines that are each ``{}``: one finding per record (FT102).
   ``ftkit validate`` in every format (text, json, github) and ``ftkit stats``, each in its own
   process, timed, with its peak RSS; a bare ``json.loads`` loop over the same file is the
   reference. Targets: every format under 30 s and 300 MB.
2. A file of about G gigabytes (default 1) of small valid records, made by repeating a block with
   a per-copy tag so that no record duplicates another: ``ftkit validate`` (default --jobs, and
   --jobs 1) peak RSS, and what it comes to per record. Target: under 200 MB.

Prints a table, writes OUT/findings.json, exits 1 when a target is missed. The machine's load is
printed with the figures: on a shared machine compare the ratios, and repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20
MAX_SECONDS, MAX_RSS_MB = 30.0, 300.0
MAX_RSS_SMALL_MB = 200.0

REFERENCE = "import json, sys\nfor line in open(sys.argv[1], 'rb'):\n    json.loads(line)\n"
# Runs one command, then prints its wall time and the peak RSS of its processes (children included).
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "wall = time.perf_counter() - t\n"
    "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
)


def measure(argv: list[str], cwd: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], cwd=cwd, capture_output=True, text=True, check=True).stdout.split()
    return {"seconds": round(float(out[0]), 3), "rss_mb": round(int(out[1]) / 1024, 1), "exit": int(out[2])}


def ftkit(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from ftkit.cli import main; main(sys.argv[1:])", *args]


def small_record(i: int, tag: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"question {tag}-{i}: how do I change my address?"},
                                    {"role": "assistant", "content": f"Open the order {i}, press Change, save."}]})  # fmt: skip


def write_small(path: Path, gigabytes: float) -> int:
    block = [small_record(i, "{tag}") for i in range(20_000)]
    text = "\n".join(block) + "\n"
    target, written, copies = int(gigabytes * (1 << 30)), 0, 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            chunk = text.replace("{tag}", f"c{copies}")
            out.write(chunk)
            written += len(chunk.encode())
            copies += 1
    return copies * len(block)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args()
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text("[tool.ftkit]\n")  # default settings, whatever is above
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "load_before": os.getloadavg()}

    empty = out / "empty_objects.jsonl"
    empty.write_bytes(b"{}\n" * args.records)
    runs = {"reference json.loads": [sys.executable, "-c", REFERENCE, str(empty)]}
    for fmt in ("text", "json", "github"):
        runs[f"validate --format {fmt}"] = ftkit("validate", str(empty), "--format", fmt)
    runs["stats"] = ftkit("stats", str(empty))
    rows = {}
    for name, argv in runs.items():
        print(f"running {name} on {args.records:,} lines of {{}} ...", file=sys.stderr)
        rows[name] = measure(argv, out)
    results["findings"] = {"records": args.records, "runs": rows}

    small = out / "small_records.jsonl"
    print(f"writing {args.gigabytes:g} GB of small records ...", file=sys.stderr)
    count = write_small(small, args.gigabytes)
    size_mb = small.stat().st_size / MB
    memory = {}
    for name, extra in (("validate", []), ("validate --jobs 1", ["--jobs", "1"])):
        print(f"running {name} on {size_mb:,.0f} MB ...", file=sys.stderr)
        memory[name] = measure(ftkit("validate", str(small), *extra), out)
        memory[name]["bytes_per_record"] = round(memory[name]["rss_mb"] * MB / count, 1)
    results["small"] = {"records": count, "size_mb": round(size_mb, 1), "runs": memory}
    results["load_after"] = os.getloadavg()
    if not args.keep_inputs:
        empty.unlink()
        small.unlink()

    ref = rows["reference json.loads"]["seconds"]
    print(f"\n{args.records:,} lines of {{}} ({empty.name}); one finding each")
    print(f"{'command':<26} {'time':>9} {'x ref':>7} {'peak RSS':>10}  exit")
    for name, r in rows.items():
        print(f"{name:<26} {r['seconds']:>8.2f}s {r['seconds'] / ref:>7.1f} {r['rss_mb']:>8.0f}MB  {r['exit']}")
    print(f"\n{size_mb:,.0f} MB of small records ({count:,} records)")
    for name, r in memory.items():
        print(f"{name:<26} {r['seconds']:>8.2f}s {r['rss_mb']:>8.0f}MB  ({r['bytes_per_record']} bytes per record)  exit {r['exit']}")
    missed = [name for name, r in rows.items() if name.startswith("validate") and (r["seconds"] > MAX_SECONDS or r["rss_mb"] > MAX_RSS_MB)]
    missed += [name for name, r in memory.items() if r["rss_mb"] > MAX_RSS_SMALL_MB]
    print(f"\ntargets: a million findings in < {MAX_SECONDS:g} s and < {MAX_RSS_MB:g} MB in every format; "
          f"{args.gigabytes:g} GB of small records < {MAX_RSS_SMALL_MB:g} MB: " + ("all met" if not missed else f"MISSED {missed}"))  # fmt: skip
    print(f"load average before/after: {results['load_before']} / {results['load_after']}")
    (out / "findings.json").write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(out / "__pycache__", ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
