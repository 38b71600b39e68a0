#!/usr/bin/env python3
"""Benchmark ``ftkit split``: wall time and peak memory on generated files.

    python benchmarks/bench_split.py [--out-dir DIR] [--mb 100] [--records 1000000] [--keep-inputs]

1. Generates, deterministically (fixed seed), into DIR:
   (a) ``--mb`` MB (default 100) of chat records of realistic size: a system prompt on most,
       1-4 user/assistant turns of mixed Chinese/English text, about 1 KB a record;
   (b) ``--records`` (default 1,000,000) small records (a few words a message) for the memory
       target "1M records well under 300 MB".
2. Runs ``ftkit split FILE --out-dir ... --force --format json`` on each under a fresh ``python``
   wrapper that times it and reads ``getrusage(RUSAGE_CHILDREN)``, so the figures belong to that
   one command (with the default --jobs 2 the peak RSS is that of the larger of its processes).
   Best of ``--repeats`` (default 2) runs; also once with ``--stratify length --group-by system``.
3. Prints a table and exits 1 when peak RSS for (b) is 300 MB or more.
Generated inputs and outputs are deleted at the end unless ``--keep-inputs`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20
SEED = 20240601
MAX_RSS_MB = 300

WRAPPER = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"wall": wall, "rss_mb": rss / 1024, "rc": done.returncode, "out": done.stdout.decode(), "err": done.stderr.decode()[-500:]}))
"""

ZH = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研质信"
EN = ["the", "model", "answer", "question", "please", "explain", "data", "train", "loss", "token", "split", "python", "function", "value", "result"]


def text(rng: random.Random, size: int) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(ZH) for _ in range(size // 3 or 1))
    return " ".join(rng.choice(EN) for _ in range(size // 6 or 1))


def generate_large(path: Path, size: int) -> int:
    rng = random.Random(SEED)
    systems = [text(rng, 120) for _ in range(20)]
    written = n = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < size:
            msgs = [{"role": "system", "content": rng.choice(systems)}] if rng.random() < 0.8 else []
            for _ in range(rng.randint(1, 4)):
                msgs.append({"role": "user", "content": text(rng, rng.randint(20, 300))})
                msgs.append({"role": "assistant", "content": text(rng, rng.randint(40, 600))})
            line = json.dumps({"messages": msgs}, ensure_ascii=False) + "\n"
            written += len(line.encode("utf-8"))
            out.write(line)
            n += 1
    return n


def generate_small(path: Path, records: int) -> None:
    rng = random.Random(SEED + 1)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            user = f"q{i} " + " ".join(rng.choice(EN) for _ in range(rng.randint(2, 8)))
            answer = " ".join(rng.choice(EN) for _ in range(rng.randint(2, 10)))
            out.write(json.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}) + "\n")


def measure(path: Path, out_dir: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "ftkit", "split", str(path), "--out-dir", str(out_dir), "--force", "--format", "json", *extra]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, check=True, cwd=REPO)
    figures = json.loads(done.stdout)
    if figures["rc"] != 0:
        raise SystemExit(f"ftkit split failed ({figures['rc']}): {figures['err']}")
    figures["summary"] = json.loads(figures.pop("out"))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args()
    work = args.out_dir / "split-bench"
    work.mkdir(parents=True, exist_ok=True)
    large, small = work / "large.jsonl", work / "small.jsonl"
    print(f"generating {args.mb} MB of ~1 KB records and {args.records:,} small records in {work} ...", flush=True)
    n_large = generate_large(large, args.mb * MB)
    generate_small(small, args.records)
    rows = []
    for label, path, extra in [
        (f"(a) {args.mb} MB, {n_large:,} records", large, []),
        (f"(a) {args.mb} MB, --stratify length --group-by system", large, ["--stratify", "length", "--group-by", "system"]),
        (f"(b) {args.records:,} small records ({small.stat().st_size / MB:.0f} MB)", small, []),
    ]:
        runs = [measure(path, work / "out", extra) for _ in range(max(1, args.repeats))]
        best = min(runs, key=lambda r: r["wall"])
        rows.append((label, best["wall"], max(r["rss_mb"] for r in runs), best["summary"]))
    print(f"\n{'input':<58} {'wall s':>7} {'peak RSS MB':>12}  train / validation records")
    for label, wall, rss, summary in rows:
        print(f"{label:<58} {wall:>7.2f} {rss:>12.0f}  {summary['train']['records']:,} / {summary['validation']['records']:,}")
    print(f"\nmachine: {os.cpu_count()} cpus, python {sys.version.split()[0]}; best of {args.repeats} runs, peak RSS the highest")
    if not args.keep_inputs:
        shutil.rmtree(work)
    small_rss = rows[-1][2]
    if small_rss >= MAX_RSS_MB:
        print(f"FAIL: peak RSS {small_rss:.0f} MB for {args.records:,} records, target < {MAX_RSS_MB} MB")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
