"""Benchmark building the verified Qwen2.5 tokenizer against tiktoken's plain load of the same file.

    python benchmarks/bench_tokenizer.py [--out-dir DIR] [--repeats 9]

The tokenizer is built on the stats path, so checking its rank file (size, sha256, number of
ranks: issue 18) must not make it slower. Measured in one process, interleaved, best of N:

- reference: ``tiktoken.load.load_tiktoken_bpe`` of the packaged ``qwen.tiktoken`` (no cache, no
  hash check) and ``tiktoken.Encoding`` with the same pattern and added tokens: the build with no
  verification at all;
- ftkit: ``tokenizer_from_config("qwen2_5")``: read once, hashed once, checked, parsed, built.

Target: ftkit within 1.1x of the reference. Writes ``DIR/tokenizer.json``; exits 1 when missed.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import DEFAULT_OUT

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

    runs: dict[str, list[float]] = {"reference": [], "ftkit": []}
    for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
        for name, build in (("reference", reference), ("ftkit", ftkit)):
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
        "targets": {f"ratio <= {MAX_RATIO}": ratio <= MAX_RATIO},
    }
    (args.out_dir / "tokenizer.json").write_text(json.dumps(result, indent=2))
    print(f"reference (tiktoken load, no check) best {best['reference'] * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}")
    print(f"ftkit (verified build)            best {best['ftkit'] * 1000:.0f} ms")
    print(f"ratio {ratio:.2f} (target <= {MAX_RATIO})")
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
