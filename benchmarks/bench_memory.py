#!/usr/bin/env python3
"""Peak memory of ``ftkit validate``, ``stats`` and ``split`` on about G gigabytes of small records.

    python benchmarks/bench_memory.py [--gigabytes G] [--out-dir DIR] [--only validate,stats,split] [--keep-inputs]

The input (default 1 GB) is small valid records (two short messages, about 75 bytes each) made
by repeating a block with a per-copy tag, so that no record duplicates another. Each command
runs in its own process with the default ``--jobs``; while it runs, a sampler reads the memory of
the whole process tree (the command and any process it forks) from /proc every 20 ms:

- ``tree PSS``: the sum of the processes' proportional set sizes, pages shared after a fork
  counted once: what the command costs the machine. The targets are on this figure.
- ``tree RSS``: the sum of their resident sizes (shared pages counted in every process).
- ``max RSS``: the largest single process (``getrusage(RUSAGE_CHILDREN)``, as bench_findings.py).

Targets: validate < 200 MB, stats < 400 MB, split < 400 MB. Prints a table, writes
OUT/memory.json, exits 1 when a target is missed. Memory figures do not depend on the machine's
load; the wall times printed with them do.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_findings import ftkit, write_small  # the same input as bench_findings.py part (2)

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20
TARGETS_MB = {"validate": 200.0, "stats": 400.0, "split": 400.0}

# Runs one command, sampling the memory of its process tree, then prints wall time, peak tree PSS,
# peak tree RSS (kB), the largest single RSS (kB) and the exit code.
WRAPPER = r"""
import os, resource, subprocess, sys, time

def tree(root):
    kids, out = {}, [root]
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
            kids.setdefault(ppid, []).append(int(name))
    for pid in out:
        out.extend(kids.get(pid, []))
    return out

def sizes(pid):
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for row in f:
                if row.startswith(b"Pss:"):
                    pss = int(row.split()[1])
                elif row.startswith(b"Rss:"):
                    rss = int(row.split()[1])
    except OSError:
        pass
    return pss, rss

t = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak_pss = peak_rss = 0
while proc.poll() is None:
    pss = rss = 0
    for pid in tree(proc.pid):
        p, r = sizes(pid)
        pss, rss = pss + p, rss + r
    peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
    time.sleep(0.02)
wall = time.perf_counter() - t
print(wall, peak_pss, peak_rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, proc.returncode)
"""


def measure(argv: list[str], cwd: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], cwd=cwd, capture_output=True, text=True, check=True).stdout.split()
    return {
        "seconds": round(float(out[0]), 2),
        "tree_pss_mb": round(int(out[1]) / 1024, 1),
        "tree_rss_mb": round(int(out[2]) / 1024, 1),
        "max_rss_mb": round(int(out[3]) / 1024, 1),
        "exit": int(out[4]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--only", default="validate,stats,split", help="comma-separated commands to run")
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args()
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text("[tool.ftkit]\n")  # default settings, whatever is above
    small = out / f"memory_{args.gigabytes:g}gb.jsonl"
    if not small.exists():
        print(f"writing {args.gigabytes:g} GB of small records ...", file=sys.stderr)
        count = write_small(small, args.gigabytes)
    else:
        with small.open("rb") as stream:  # kept from an earlier run (--keep-inputs)
            count = sum(1 for _ in stream)
    size_mb = small.stat().st_size / MB
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "load_before": os.getloadavg(),
        "records": count,
        "size_mb": round(size_mb, 1),
    }
    split_dir = out / "memory_split"
    commands = {
        "validate": ftkit("validate", str(small)),
        "stats": ftkit("stats", str(small)),
        "split": ftkit("split", str(small), "--out-dir", str(split_dir), "--force"),
    }
    runs = {}
    for name in args.only.split(","):
        print(f"running {name} on {size_mb:,.0f} MB ...", file=sys.stderr)
        runs[name] = measure(commands[name], out)
        runs[name]["bytes_per_record"] = round(runs[name]["tree_pss_mb"] * MB / count, 1)
        shutil.rmtree(split_dir, ignore_errors=True)
    results["runs"] = runs
    results["load_after"] = os.getloadavg()
    if not args.keep_inputs:
        small.unlink()

    print(f"\n{size_mb:,.0f} MB of small records ({count:,} records), default --jobs")
    print(f"{'command':<10} {'time':>8} {'tree PSS':>9} {'tree RSS':>9} {'max RSS':>8} {'B/rec':>6} {'target':>7}  exit")
    missed = []
    for name, r in runs.items():
        ok = r["tree_pss_mb"] < TARGETS_MB[name] and r["exit"] in (0, 1)
        missed += [] if ok else [name]
        print(f"{name:<10} {r['seconds']:>7.1f}s {r['tree_pss_mb']:>7.0f}MB {r['tree_rss_mb']:>7.0f}MB {r['max_rss_mb']:>6.0f}MB "
              f"{r['bytes_per_record']:>6} {TARGETS_MB[name]:>5.0f}MB  {r['exit']}{'' if ok else '  MISSED'}")  # fmt: skip
    print(f"load average before/after: {results['load_before']} / {results['load_after']}")
    (out / "memory.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
