#!/usr/bin/env python3
"""Benchmark ``ftkit report`` against ``ftkit stats`` on the same file, measured in the same run.

    python benchmarks/bench_report.py [--out-dir DIR] [--size-mb N] [--repeats N] [--keep-inputs] [--base DIR]

1. Generates ~100 MB of large records (``bench_validate.py``'s generator, fixed seed: mixed
   Chinese/English text, 1-4 turns, a system prompt on most records, one bad line in a thousand).
2. Times, interleaved, best (min) of ``--repeats`` (default 3) each, every command under a fresh
   wrapper process (wall time and peak RSS of that command only):
   - ``ftkit stats FILE --format json`` (the reference: one validating, tokenizing pass);
   - ``ftkit report FILE -o report.html --force`` (the same pass plus split keys, near-duplicate
     normalisation (FT504), stats, recommendation, cost and the SVG charts);
   - ``ftkit report FILE --format json`` (the same without the charts), for comparison.
   With ``--base DIR`` (e.g. a git worktree of an older commit), that ftkit's stats and report
   (HTML) too, in the same rounds: a change's effect measured against the same noise.
3. Prints the figures (wall time, and CPU time, which moves less on a shared machine) and the
   bound: the report's CPU time spread over both CPUs for the whole run, against stats' wall
   time (no scheduling can do better; a bound above 1.3 means the work itself must shrink); writes
   ``DIR/report.json``, and exits 1 when report (HTML) takes more than 1.3x stats in wall time
   (the issue's target), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import DEFAULT_OUT, MB, base_command, ftkit_command, gen_large, load_average, log, timed_rounds

MAX_RATIO = 1.3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"where the input and report.json go [default: {DEFAULT_OUT}]")
    parser.add_argument("--size-mb", type=int, default=100, help="size of the generated file [default: 100]")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command; the best counts [default: 3]")
    parser.add_argument("--keep-inputs", action="store_true", help="keep the generated .jsonl file")
    parser.add_argument("--base", type=Path, help="also time the ftkit package in this directory (e.g. a git worktree of an older commit)")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    ftkit = ftkit_command()

    data = out / "report_input.jsonl"
    log(f"generating {args.size_mb} MB of records into {data} ...")
    info = gen_large(data, args.size_mb * MB)
    log(f"  {info['bytes'] / MB:.1f} MB, {info['lines']:,} lines, {info['bad_lines']} bad")

    commands = {
        "stats": [*ftkit, "stats", str(data), "--format", "json"],
        "report_html": [*ftkit, "report", str(data), "-o", str(out / "report.html"), "--force"],
        "report_json": [*ftkit, "report", str(data), "--format", "json"],
    }
    if args.base:
        base = base_command(args.base)
        commands |= {"base_stats": [*base, *commands["stats"][len(ftkit) :]], "base_report_html": [*base, *commands["report_html"][len(ftkit) :]]}
    try:
        best = timed_rounds(commands, args.repeats, out)
    finally:
        if not args.keep_inputs:
            data.unlink(missing_ok=True)

    ratio_html = best["report_html"]["best_s"] / best["stats"]["best_s"]
    ratio_json = best["report_json"]["best_s"] / best["stats"]["best_s"]
    # CPU seconds (both processes of --jobs 2) move less than wall time on a shared machine.
    ratio_cpu = best["report_html"]["cpu_s"] / best["stats"]["cpu_s"]
    # The report's CPU spread over every CPU for the whole run: no scheduling does better, so a
    # bound above the target says the work itself must shrink.
    cpus = min(os.cpu_count() or 1, 2)  # the scan uses two processes at most
    bound = best["report_html"]["cpu_s"] / cpus / best["stats"]["best_s"]
    ratio_base = best["base_report_html"]["best_s"] / best["base_stats"]["best_s"] if args.base else None
    ok = ratio_html <= MAX_RATIO and all(rc == 0 for b in best.values() for rc in b["exit_codes"])
    results = {
        "input": info, "repeats": args.repeats, "commands": {k: " ".join(v) for k, v in commands.items()}, "best": best,
        "ratio_report_html_to_stats": round(ratio_html, 3), "ratio_report_json_to_stats": round(ratio_json, 3),
        "ratio_report_html_to_stats_cpu": round(ratio_cpu, 3), "ratio_bound_all_cpus_busy": round(bound, 3),
        "base": str(args.base) if args.base else None, "ratio_base_report_html_to_stats": round(ratio_base, 3) if ratio_base else None,
        "target_ratio": MAX_RATIO, "ok": ok,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(), "load_average": load_average()},
    }
    (out / "report.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print(f"input: {info['bytes'] / MB:.1f} MB, {info['lines']:,} records ({info['bad_lines']} bad)")
    print(f"{'command':<14}{'best s':>9}{'runs':>28}{'best CPU s':>12}{'peak RSS MB':>13}")
    for name, b in best.items():
        print(f"{name:<14}{b['best_s']:>9.2f}{', '.join(f'{r:.2f}' for r in b['runs_s']):>28}{b['cpu_s']:>12.2f}{b['maxrss_mb']:>13.1f}")
    print(f"report (HTML) / stats = {ratio_html:.2f} wall (target <= {MAX_RATIO}), {ratio_cpu:.2f} CPU; report (JSON) / stats = {ratio_json:.2f} wall")
    print(f"with all {cpus} CPUs busy for the whole report, it would take {best['report_html']['cpu_s'] / cpus:.2f} s: {bound:.2f}x stats at best")
    if ratio_base is not None:
        print(f"base ({args.base}): report (HTML) / stats = {ratio_base:.2f} wall")
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
