#!/usr/bin/env python3
"""Benchmark the small costs issue 16 bounds: start-up on a 10-line file, and what the JSON
output of many findings adds over the text output.

    python benchmarks/bench_speed.py [--out-dir DIR] [--repeats 7] [--findings 10000] [--base DIR]

1. **Start-up.** ``ftkit validate`` and ``ftkit stats`` of a 10-line valid file (the same one as
   bench_validate.py's (c)), against ``python -c pass`` in the same run. Target: each < 0.3 s.
   Also timed: ``python -c "import click, polars, pydantic"``, the floor under stats' start-up
   (its table is a polars frame, its result pydantic models, its command line click).
2. **JSON of many findings.** A file of N (default 10,000) records whose assistant role is
   misspelled (one FT201 finding each, with a pointer): ``ftkit validate --format json`` against
   ``--format text`` (which shows 50 and counts the rest). Target: json - text <= 0.2 s.

Every command runs in a fresh wrapper process that reads ``getrusage(RUSAGE_CHILDREN)``: wall
time and CPU time (user + sys of the whole process tree), best of ``--repeats``, all commands
interleaved so that a change in the machine's load hits them alike. ``--base DIR`` also runs
the ftkit package found in DIR (e.g. a ``git worktree`` of an older commit) with
``PYTHONPATH=DIR``, interleaved with the current one.

Writes ``OUT/speed.json``; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import DEFAULT_OUT, gen_tiny

MAX_START = 0.3
MAX_JSON_EXTRA = 0.2

WRAPPER = r"""
import json, os, resource, subprocess, sys, time
argv, env = json.loads(sys.argv[1]), dict(os.environ, **json.loads(sys.argv[2]))
start = time.perf_counter()
done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
wall = time.perf_counter() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rc": done.returncode}))
"""


def measure(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps(argv), json.dumps(env)], cwd=cwd,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def interleaved(commands: dict[str, tuple[list[str], dict[str, str]]], repeats: int, cwd: Path) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, (argv, env) in commands.items():
            runs[name].append(measure(argv, env, cwd))
    return {name: {"wall_s": round(min(r["wall"] for r in rs), 4), "cpu_s": round(min(r["cpu"] for r in rs), 4),
                   "runs_s": [round(r["wall"], 3) for r in rs], "exit_codes": sorted({r["rc"] for r in rs})}
            for name, rs in runs.items()}  # fmt: skip


def misspelled(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            record = {"messages": [{"role": "user", "content": f"question {i}: where is my order?"},
                                   {"role": "asistant", "content": f"Order {i} ships tomorrow."}]}  # fmt: skip
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--base", type=Path, help="also measure the ftkit package in this directory (PYTHONPATH)")
    args = parser.parse_args()
    out: Path = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text("[tool.ftkit]\n")  # default settings, whatever the cwd
    tiny, many = out / "c_tiny.jsonl", out / "many_findings.jsonl"
    gen_tiny(tiny)
    misspelled(many, args.findings)
    versions = {"current": {}}
    if args.base:
        versions["base"] = {"PYTHONPATH": str(args.base.resolve())}
    load_before = os.getloadavg()

    ftkit = [sys.executable, "-m", "ftkit"]
    # the floor under stats' start-up: the packages its result and table are made of, and the CLI's
    start = {"python -c pass": ([sys.executable, "-c", "pass"], {}),
             "import click, polars, pydantic": ([sys.executable, "-c", "import click, polars, pydantic"], {})}  # fmt: skip
    for version, env in versions.items():
        start[f"validate ({version})"] = ([*ftkit, "validate", str(tiny)], env)
        start[f"stats ({version})"] = ([*ftkit, "stats", str(tiny)], env)
    print(f"start-up: {len(start)} commands x {args.repeats}", file=sys.stderr)
    startup = interleaved(start, args.repeats, out)

    fmt = {}
    for version, env in versions.items():
        for kind in ("text", "json"):
            fmt[f"{kind} ({version})"] = ([*ftkit, "validate", str(many), "--format", kind], env)
    print(f"json vs text: {len(fmt)} commands x {args.repeats}", file=sys.stderr)
    formats = interleaved(fmt, args.repeats, out)

    targets = {}
    for version in versions:
        for verb in ("validate", "stats"):
            targets[f"{verb} of 10 lines < {MAX_START} s ({version})"] = startup[f"{verb} ({version})"]["wall_s"] < MAX_START
        extra = formats[f"json ({version})"]["wall_s"] - formats[f"text ({version})"]["wall_s"]
        targets[f"json - text <= {MAX_JSON_EXTRA} s for {args.findings:,} findings ({version}): {extra:.3f} s"] = extra <= MAX_JSON_EXTRA
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_before": load_before, "load_after": os.getloadavg(),
              "nproc": os.cpu_count(), "python": sys.version.split()[0], "repeats": args.repeats,
              "startup": startup, "formats": formats, "findings": args.findings, "targets": targets}  # fmt: skip
    (out / "speed.json").write_text(json.dumps(result, indent=2) + "\n")

    print(f"best of {args.repeats}, interleaved; load average {load_before} -> {result['load_after']}")
    base = startup["python -c pass"]
    print(f"\n{'start-up, 10 lines':<28}{'wall':>9}{'cpu':>9}{'wall - python':>15}")
    for name, r in startup.items():
        print(f"{name:<28}{r['wall_s']:>8.3f}s{r['cpu_s']:>8.3f}s{r['wall_s'] - base['wall_s']:>14.3f}s")
    print(f"\n{f'{args.findings:,} findings':<28}{'wall':>9}{'cpu':>9}")
    for name, r in formats.items():
        print(f"{name:<28}{r['wall_s']:>8.3f}s{r['cpu_s']:>8.3f}s")
    print("\ntargets")
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    for path in (tiny, many, out / "pyproject.toml"):
        path.unlink(missing_ok=True)
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
