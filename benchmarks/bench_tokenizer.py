"""Benchmark building the verified Qwen2.5 tokenizer against tiktoken's plain load of the same file.

    python benchmarks/bench_tokenizer.py [--out-dir DIR] [--repeats 9]

The tokenizer is built on the stats path, so checking its rank file (size, sha256, number of
ranks: issue 18) must not make it slower. Measured in one process, interleaved, best of N:

- reference: ``tiktoken.load.load_tiktoken_bpe`` of the packaged ``qwen.tiktoken`` (no cache, no
  hash check) and ``tiktoken.Encoding`` with the same pattern and added tokens: the build with no
  verification at all;
- ftkit: ``tokenizer_from_config("qwen2_5")``: read once, hashed once, checked, parsed, built;
- ftkit's small engine (``engine="small"``, pure Python: checked, split, not decoded), no target.

Then where the small engine stops paying (``ftkit.plan.table.SMALL_BELOW_BYTES``): ``ftkit stats``
of generated files of 32 KB to 1 MB in fresh processes, counted by each engine (the threshold
forced either way), interleaved, best of 3.

Target: ftkit within 1.1x of the reference. Writes ``DIR/tokenizer.json``; exits 1 when missed.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import DEFAULT_OUT, gen_small

CROSSOVER_KB = [32, 64, 128, 256, 512, 1024]
STATS_CODE = r"""
import sys, time
t = time.perf_counter()
from ftkit.plan import table
table.SMALL_BELOW_BYTES = int(sys.argv[2])
from ftkit.cli import main
try:
    main(["stats", sys.argv[1], "--format", "json", "-q"])
except SystemExit:
    pass
print(time.perf_counter() - t, file=sys.stderr)
"""


def crossover(out: Path) -> dict[str, dict[str, float]]:
    """Seconds of ``ftkit stats`` per input size, counted by tiktoken and by the small engine."""
    result: dict[str, dict[str, float]] = {}
    for kb in CROSSOVER_KB:
        path = out / f"crossover_{kb}k.jsonl"
        gen_small(path, kb << 10)
        runs: dict[str, list[float]] = {"tiktoken": [], "small": []}
        for _ in range(3):
            for engine, below in (("tiktoken", 0), ("small", 1 << 62)):
                done = subprocess.run([sys.executable, "-c", STATS_CODE, str(path), str(below)], capture_output=True, text=True, check=True)
                runs[engine].append(float(done.stderr.strip().splitlines()[-1]))
        result[f"{kb} KB"] = {k: round(min(v), 3) for k, v in runs.items()}
        path.unlink()
    return result

MAX_RATIO = 1.1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = ""  # the reference reads the file itself, as ftkit does

    import tiktoken
    import tiktoken.load

    from ftkit.tokens.tokenizer import token_config, tokenizer_from_config

    spec = token_config()["tokenizers"]["qwen2_5"]
    path = importlib.resources.files(spec["package"]).joinpath(spec["resource"])
    added = {t: int(spec["first_added_id"]) + i for i, t in enumerate(spec["added_tokens"])}

    def reference() -> object:
        ranks = tiktoken.load.load_tiktoken_bpe(str(path))
        return tiktoken.Encoding(name="qwen2_5", pat_str=spec["pattern"], mergeable_ranks=ranks, special_tokens=added)

    def ftkit() -> object:
        return tokenizer_from_config("qwen2_5")

    def small() -> object:
        return tokenizer_from_config("qwen2_5", engine="small")

    runs: dict[str, list[float]] = {"reference": [], "ftkit": [], "small engine": []}
    for _ in range(args.repeats):  # interleaved, so that load changes hit all alike
        for name, build in (("reference", reference), ("ftkit", ftkit), ("small engine", small)):
            t = time.perf_counter()
            build()
            runs[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in runs.items()}
    ratio = best["ftkit"] / best["reference"]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "best_s": {k: round(v, 4) for k, v in best.items()},
        "runs_s": {k: [round(x, 4) for x in v] for k, v in runs.items()},
        "ratio": round(ratio, 2),
        "stats_s_by_engine": crossover(args.out_dir),
        "targets": {f"ratio <= {MAX_RATIO}": ratio <= MAX_RATIO},
    }
    (args.out_dir / "tokenizer.json").write_text(json.dumps(result, indent=2))
    print(f"reference (tiktoken load, no check) best {best['reference'] * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}")
    print(f"ftkit (verified build)            best {best['ftkit'] * 1000:.0f} ms")
    print(f"small engine (pure Python)        best {best['small engine'] * 1000:.0f} ms (built on first use; regex imported in it)")
    print(f"ratio {ratio:.2f} (target <= {MAX_RATIO})")
    print("ftkit stats, seconds:   tiktoken   small engine")
    for size, by in result["stats_s_by_engine"].items():
        print(f"  {size:>8}            {by['tiktoken']:8.3f}   {by['small']:8.3f}")
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
