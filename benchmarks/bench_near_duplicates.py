#!/usr/bin/env python3
"""FT504 near-duplicates: accuracy on edited copies, and the speed of MinHash implementations.

    python benchmarks/bench_near_duplicates.py [--out-dir DIR] [--families N] [--unrelated N] [--speed-mb N] [--repeats N]

1. Accuracy. tests/near_corpus.py's generator (families of a record and 1-3 edited copies, each
   with one word-level edit per ``edit_every`` units plus punctuation, spacing and case edits;
   unrelated records, some sharing long instructions or half an answer) at several edit rates,
   through ``ftkit validate --tokens`` with the default profile (Jaccard >= 0.8, 14 x 8 bands).
   Prints recall and precision, and the recall among copies whose true similarity to an earlier
   family member is >= 0.8 (what the hashing alone misses). Exits 1 when the default edit rate
   (one per 60 units) misses recall >= 0.9 or precision >= 0.95.
2. Speed. The same ~``--speed-mb`` MB of record texts (bench_validate.py's mixed Chinese/English
   generator) signed with 112 MinHash values each by: ftkit's numpy code (``ftkit.scan.shingles``),
   numpy shingles + rensa's digest matrix from those hashes, rensa and datasketch from Python
   shingle strings (units cut by a regular expression, the way a library is fed). The reference,
   measured in the same run: counting the same texts' tokens with the Qwen tokenizer (what the
   passes that run FT504 do anyway). Best of ``--repeats`` CPU seconds each; libraries that are
   not installed are skipped.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from bench_validate import DEFAULT_OUT, MB, LargeRecords, log  # noqa: E402
from near_corpus import make_corpus  # noqa: E402

RATES = (100, 80, 60, 50, 40)
DEFAULT_RATE = 60
K, BANDS, ROWS, SIZE = 112, 14, 8, 5
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
_UNIT = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def accuracy(out: Path, families: int, unrelated: int) -> list[dict[str, Any]]:
    import numpy as np

    import ftkit
    from ftkit.policy.profile import QualityRules
    from ftkit.scan.near import _shingle_sets, conversation, jaccards

    rows = []
    for rate in RATES:
        corpus = make_corpus(seed=1500 + rate, families=families, unrelated=unrelated, edit_every=rate)
        path = out / f"near_corpus_{rate}.jsonl"
        path.write_text("\n".join(corpus.lines) + "\n", encoding="utf-8")
        start = time.perf_counter()
        report = ftkit.validate(path, tokens=True)
        seconds = time.perf_counter() - start
        found = [(v.line, int(re.search(r"line (\d+)", v.message).group(1))) for v in report.violations if v.code == "FT504"]  # type: ignore[union-attr]
        recall, precision = corpus.score(found)
        # the true similarity of each copy to its closest earlier family member
        sets = _shingle_sets([conversation(json.loads(x)["messages"]) for x in corpus.lines], QualityRules(near_duplicate_shingle=SIZE))
        members: dict[int, list[int]] = {}
        pairs: list[tuple[int, int]] = []  # (earlier family member, copy), rows of ``sets``
        for n, fam in enumerate(corpus.family):
            if fam >= 0:
                pairs.extend((m, n) for m in members.get(fam, ()))
                members.setdefault(fam, []).append(n)
        closest: dict[int, float] = {}
        for (_, n), similarity in zip(pairs, jaccards(sets, np.array(pairs, dtype=np.int64).reshape(-1, 2)).tolist()):
            closest[n] = max(closest.get(n, 0.0), similarity)
        flagged = {line for line, _ in found}
        similar = sum(s >= 0.8 for s in closest.values())
        hit = sum(s >= 0.8 and n + 1 in flagged for n, s in closest.items())
        rows.append({"edit_every": rate, "records": len(corpus.lines), "copies": len(corpus.positives()), "found": len(found),
                     "recall": round(recall, 4), "precision": round(precision, 4), "copies_at_0.8": similar,
                     "recall_at_0.8": round(hit / similar, 4) if similar else None, "seconds": round(seconds, 2)})  # fmt: skip
        path.unlink()
    return rows


def _texts(size: int) -> list[str]:
    gen = LargeRecords(random.Random(15))
    texts, total = [], 0
    while total < size:
        msgs = gen.record(f"r{len(texts)}")["messages"]
        text = "\n".join(m["content"] for m in msgs if m["role"] != "system")
        texts.append(text)
        total += len(text.encode("utf-8"))
    return texts


def _python_shingles(text: str) -> list[str]:
    units = _UNIT.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(units) < SIZE:
        return [" ".join(units)] if units else []
    return [" ".join(units[i : i + SIZE]) for i in range(len(units) - SIZE + 1)]


def _batches(texts: list[str], chars: int = 1 << 16) -> list[list[str]]:
    out, cur, n = [], [], 0
    for t in texts:
        cur.append(t)
        n += len(t)
        if n >= chars:
            out.append(cur)
            cur, n = [], 0
    return out + ([cur] if cur else [])


def speed(texts: list[str], repeats: int) -> dict[str, Any]:
    import numpy as np

    from ftkit.scan.shingles import _tables, shingles, signatures
    from ftkit.tokens.tokenizer import get_tokenizer

    tok = get_tokenizer("Qwen/Qwen2.5-7B-Instruct")
    _tables()
    batches = _batches(texts)

    def tokens() -> None:
        for t in texts:
            tok.count(t)

    def ftkit_numpy() -> None:
        for b in batches:
            signatures(*shingles(b, SIZE), len(b), K)

    def shingle_strings() -> None:
        for t in texts:
            _python_shingles(t)

    candidates: dict[str, Callable[[], None]] = {"tokenizer (reference)": tokens, "ftkit numpy (shingles + one-permutation MinHash)": ftkit_numpy,
                                                 "Python shingle strings only (what the libraries are fed)": shingle_strings}  # fmt: skip
    try:
        import rensa

        def numpy_rensa() -> None:
            for b in batches:
                hashes, owner = shingles(b, SIZE)
                offsets = np.searchsorted(owner, np.arange(len(b) + 1)).astype(np.uint64)
                rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, K, 1)

        def rensa_strings() -> None:
            rensa.RMinHash.digests_from_token_sets([_python_shingles(t) for t in texts], K, 1)

        candidates["ftkit numpy shingles + rensa digest matrix"] = numpy_rensa
        candidates[f"rensa {getattr(rensa, '__version__', '')} RMinHash from shingle strings".replace("  ", " ")] = rensa_strings
    except ImportError:
        log("  rensa is not installed: skipped")
    try:
        import datasketch

        def datasketch_strings() -> None:
            for t in texts:
                m = datasketch.MinHash(num_perm=K, seed=1)
                m.update_batch([s.encode("utf-8") for s in _python_shingles(t)])

        candidates[f"datasketch {datasketch.__version__} MinHash.update_batch"] = datasketch_strings
    except ImportError:
        log("  datasketch is not installed: skipped")
    best = dict.fromkeys(candidates, float("inf"))
    for i in range(repeats):
        for name, work in candidates.items():  # interleaved, so that load on the machine hits all alike
            start = time.process_time()
            work()
            best[name] = min(best[name], time.process_time() - start)
            log(f"  run {i + 1}/{repeats} {name:<60} {best[name]:7.2f} s")
    ref = best["tokenizer (reference)"]
    return {"texts": len(texts), "chars": sum(map(len, texts)), "best_cpu_s": {k: round(v, 3) for k, v in best.items()},
            "ratio_to_tokenizer": {k: round(v / ref, 3) for k, v in best.items()}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"where the corpus and near_duplicates.json go [default: {DEFAULT_OUT}]")
    parser.add_argument("--families", type=int, default=1000, help="families of edited copies per corpus [default: 1000]")
    parser.add_argument("--unrelated", type=int, default=3000, help="unrelated records per corpus [default: 3000]")
    parser.add_argument("--speed-mb", type=int, default=10, help="MB of text for the speed comparison [default: 10]")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each implementation; the best counts [default: 3]")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)

    log("accuracy ...")
    rows = accuracy(out, args.families, args.unrelated)
    log(f"speed on {args.speed_mb} MB of text ...")
    timing = speed(_texts(args.speed_mb * MB), args.repeats)
    default = next(r for r in rows if r["edit_every"] == DEFAULT_RATE)
    ok = default["recall"] >= 0.9 and default["precision"] >= 0.95
    (out / "near_duplicates.json").write_text(json.dumps({"accuracy": rows, "speed": timing, "ok": ok}, indent=2) + "\n", encoding="utf-8")

    print(f"{'edit every':>10}{'records':>9}{'copies':>8}{'found':>7}{'recall':>8}{'precision':>11}{'copies >= 0.8':>15}{'recall there':>14}")
    for r in rows:
        print(f"{r['edit_every']:>10}{r['records']:>9}{r['copies']:>8}{r['found']:>7}{r['recall']:>8.3f}{r['precision']:>11.3f}"
              f"{r['copies_at_0.8']:>15}{(r['recall_at_0.8'] or 0):>14.3f}")  # fmt: skip
    print(f"\nMinHash signatures ({K} values) of {timing['texts']:,} texts, {timing['chars']:,} characters; best CPU s, and / tokenizer:")
    for name, seconds in timing["best_cpu_s"].items():
        print(f"  {name:<62}{seconds:>8.2f}{timing['ratio_to_tokenizer'][name]:>8.2f}")
    print(f"default (one edit per {DEFAULT_RATE} units): recall {default['recall']:.3f} (target >= 0.9), precision {default['precision']:.3f} (target >= 0.95)")
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
