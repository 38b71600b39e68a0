#!/usr/bin/env python3
"""Accuracy and speed of FT601-FT606 (personal data and secrets), measured in one run.

    python benchmarks/bench_privacy.py [--out-dir DIR] [--quick] [--repeats N] [--keep-inputs]

1. Accuracy on the labelled corpus (tests/data/ftkit-privacy-corpus, made by
   tests/privacy_corpus.py): per kind, the labelled values, what the rules found, precision,
   recall, exact spans, and the wrong finds by the look-alike they hit.
2. The prefilter per kind, in-process, on bench_validate.py's inputs: (a) large records and (b)
   small records, the same generator and seed. For each kind alone and for validate's default
   and --privacy sets: CPU time of ``Prefilter(kinds).suspicious`` over every record's joined
   text, as a share of orjson parsing the same lines (measured in the same run), and how many
   records it sends on to the rules. This is what decides which kinds ``validate`` checks by
   default (``in_validate`` in rules/privacy.toml).
3. Whole commands, each in a fresh process under bench_validate.py's wrapper, interleaved, best
   of ``--repeats`` (default 3): the bare ``json.loads`` loop (reference), ``ftkit validate
   --ignore FT6`` (no privacy rule: validate as it was), ``ftkit validate`` (its default kinds)
   and ``ftkit validate --privacy``, on (a), (b) and (p): bench_validate's records with the
   corpus's records mixed in (one in ten), the personal-data-heavy case.
4. The matcher alone: ``find_all`` throughput on the corpus's contents (MB/s, uncached).

Prints tables, writes ``DIR/privacy.json``, exits 1 when a target is missed: precision and recall
>= 0.95 for every kind; ``ftkit validate`` (default kinds) / reference <= 1.5 on (a) and (b)
(not with ``--quick``: inputs a quarter of the size, 25 MB, 15 MB and 10 MB, where start-up
weighs more than validation).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
import privacy_corpus  # noqa: E402
from bench_validate import (  # noqa: E402
    DEFAULT_OUT,
    MB,
    REFERENCE_CODE,
    SEED,
    LargeRecords,
    best_of,
    ftkit_command,
    gen_large,
    gen_small,
    load_average,
    log,
    measure,
)  # fmt: skip

MAX_RATIO = 1.5
MIN_SCORE = 0.95
SETS = {"email": ["email"], "phone": ["phone"], "id": ["id"], "card": ["card"], "ip": ["ip"], "secret": ["secret"]}


def accuracy() -> dict[str, Any]:
    from ftkit.checks.sensitive import finder

    records, labels = privacy_corpus.load()
    find = finder().find
    return privacy_corpus.score(records, labels, lambda text: [(m.kind, m.start, m.end) for m in find(text)])


def gen_mixed(path: Path, target: int) -> dict[str, Any]:
    """(p): bench_validate's large records with one corpus record in ten, until ``target`` bytes."""
    gen = LargeRecords(random.Random(SEED + 7))
    corpus = (privacy_corpus.OUT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    written = lines = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            if lines % 10 == 9:
                record = json.loads(corpus[(lines // 10) % len(corpus)])
                record["messages"][-1]["content"] += f" #{lines}"  # no two records alike
                line = json.dumps(record, ensure_ascii=False)
            else:
                line = json.dumps(gen.record(f"#{lines:07d}"), ensure_ascii=False)
            out.write(line + "\n")
            written += len(line.encode("utf-8")) + 1
            lines += 1
    return {"path": str(path), "bytes": path.stat().st_size, "lines": lines}


def prefilter_costs(path: Path, repeats: int) -> dict[str, Any]:
    """CPU of each kind's prefilter over the joined texts, against orjson parsing the lines."""
    import orjson

    from ftkit.checks.prefilter import Prefilter
    from ftkit.policy.privacy import load_privacy

    lines = path.read_bytes().splitlines()
    items = []  # (line, joined contents, whether a content has a colon), as CleanCheck passes them
    for line in lines:
        try:
            msgs = orjson.loads(line)["messages"]
            items.append((line, "".join(m["content"] for m in msgs), line.count(b":") != 1 + 2 * len(msgs)))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue

    def parse(line: bytes) -> None:
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            pass

    def cpu(fn: Any, values: list[Any]) -> float:
        start = time.process_time()
        for value in values:
            fn(value)
        return time.process_time() - start

    kinds = load_privacy().kinds
    sets = dict(SETS) | {"validate default": [k for k, v in kinds.items() if v.in_validate], "--privacy (all)": list(kinds)}
    def line_check(kinds: list[str]) -> Any:
        check = Prefilter(kinds).suspicious_line  # what the scan runs on a well-formed record
        return lambda item: check(*item)

    checks = {name: line_check(chosen) for name, chosen in sets.items()}
    times: dict[str, list[float]] = {name: [] for name in ["orjson", *checks]}
    for _ in range(repeats):  # interleaved: a busy moment of the machine hits every variant alike
        times["orjson"].append(cpu(parse, lines))
        for name, check in checks.items():
            times[name].append(cpu(check, items))
    parse_s = min(times["orjson"])
    rows = {name: {"cpu_s": round(min(times[name]), 4), "share_of_orjson": round(min(times[name]) / parse_s, 4),
                   "suspicious": sum(map(check, items))} for name, check in checks.items()}  # fmt: skip
    return {"records": len(items), "orjson_s": round(parse_s, 4), "prefilter": rows}


def matcher_speed() -> dict[str, Any]:
    from ftkit.checks.sensitive import finder

    records, _ = privacy_corpus.load()
    texts = [m["content"] for r in records for m in r["messages"]]
    size = sum(len(t.encode("utf-8")) for t in texts)
    find = finder().find
    start = time.process_time()
    rounds = 5
    for _ in range(rounds):
        for text in texts:
            find(text)
    cpu = time.process_time() - start
    return {"texts": len(texts), "mb": round(size / MB, 3), "mb_per_s": round(rounds * size / MB / cpu, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"where inputs and privacy.json go [default: {DEFAULT_OUT}]")
    parser.add_argument("--quick", action="store_true", help="inputs a quarter of the size")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command; the best counts [default: 3]")
    parser.add_argument("--keep-inputs", action="store_true", help="keep the generated .jsonl files")
    args = parser.parse_args(argv)
    out: Path = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text("# written by benchmarks/bench_privacy.py: ftkit defaults\n[tool.ftkit]\n")
    scale = 4 if args.quick else 1
    results: dict[str, Any] = {"benchmark": "privacy", "load_average_start": load_average(), "quick": args.quick}

    log("accuracy on the labelled corpus ...")
    results["accuracy"] = accuracy()
    results["matcher"] = matcher_speed()

    inputs = {"large": (out / "a_large.jsonl", lambda p: gen_large(p, 100 * MB // scale)),
              "small": (out / "b_small.jsonl", lambda p: gen_small(p, 60 * MB // scale)),
              "mixed": (out / "p_mixed.jsonl", lambda p: gen_mixed(p, 40 * MB // scale))}  # fmt: skip
    results["inputs"], results["prefilter"], results["commands"] = {}, {}, {}
    for name, (path, make) in inputs.items():
        log(f"generating {path.name} ...")
        results["inputs"][name] = make(path)
        log(f"prefilter costs on {path.name} ...")
        results["prefilter"][name] = prefilter_costs(path, args.repeats)

    ftkit = ftkit_command()
    for name, (path, _) in inputs.items():
        commands = {"reference": [sys.executable, "-c", REFERENCE_CODE, str(path)],
                    "no privacy rule": [*ftkit, "validate", str(path), "--ignore", "FT6"],
                    "validate": [*ftkit, "validate", str(path)],
                    "validate --privacy": [*ftkit, "validate", str(path), "--privacy"]}  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in commands}
        for _ in range(args.repeats):
            for key, command in commands.items():
                runs[key].append(measure(command, out))
        entry = {key: best_of(r) for key, r in runs.items()}
        ref = entry["reference"]["best_s"]
        for key in commands:
            entry[key]["ratio"] = round(entry[key]["best_s"] / ref, 3)
        results["commands"][name] = entry
        log(f"timed {name}: " + ", ".join(f"{k} {v['best_s']:.3f} s" for k, v in entry.items()))

    targets = [{"name": f"{kind} {what}", "value": round(row[what], 4), "limit": MIN_SCORE, "ok": row[what] >= MIN_SCORE}
               for kind, row in results["accuracy"].items() for what in ("precision", "recall")]  # fmt: skip
    if not args.quick:  # small inputs measure start-up more than validation
        targets += [{"name": f"validate (default kinds) / reference, ({name})", "value": results["commands"][name]["validate"]["ratio"],
                     "limit": MAX_RATIO, "ok": results["commands"][name]["validate"]["ratio"] <= MAX_RATIO} for name in ("large", "small")]  # fmt: skip
    results["targets"] = targets
    results["ok"] = all(t["ok"] for t in targets)
    results["load_average_end"] = load_average()
    (out / "privacy.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_tables(results)
    if not args.keep_inputs:
        for path, _ in inputs.values():
            path.unlink(missing_ok=True)
        (out / "pyproject.toml").unlink(missing_ok=True)
    return 0 if results["ok"] else 1


def print_tables(results: dict[str, Any]) -> None:
    print(f"ftkit privacy benchmark; load average {results['load_average_start']} -> {results['load_average_end']}\n")
    print("accuracy on tests/data/ftkit-privacy-corpus (found = right + wrong; a find is right when it overlaps a label of its kind)")
    header = f"{'kind':<8}{'labels':>8}{'found':>8}{'precision':>11}{'recall':>9}{'exact':>8}  wrong finds by look-alike"
    print(header + "\n" + "-" * len(header))
    for kind, row in results["accuracy"].items():
        wrong = ", ".join(f"{k} {v}" for k, v in sorted(row["wrong_by_lookalike"].items())) or "-"
        print(f"{kind:<8}{row['labels']:>8}{row['found']:>8}{row['precision']:>11.3f}{row['recall']:>9.3f}{row['exact']:>8}  {wrong}")
    m = results["matcher"]
    print(f"\nmatcher (find_all, every kind, uncached): {m['mb_per_s']} MB/s on the corpus's {m['texts']:,} texts ({m['mb']} MB)")
    print("\nprefilter CPU as a share of orjson parsing the same lines (in-process), and records sent on to the rules")
    names = list(next(iter(results["prefilter"].values()))["prefilter"])
    header = f"{'kinds':<18}" + "".join(f"{name + ' share':>16}{'sent':>9}" for name in results["prefilter"])
    print(header + "\n" + "-" * len(header))
    for kinds in names:
        cells = "".join(f"{p['prefilter'][kinds]['share_of_orjson']:>16.1%}{p['prefilter'][kinds]['suspicious']:>9,}" for p in results["prefilter"].values())
        print(f"{kinds:<18}{cells}")
    print("(records: " + ", ".join(f"{n} {p['records']:,}" for n, p in results["prefilter"].items()) + ")")
    print("\nwhole commands, best of the runs, wall time (ratio to the json.loads reference)")
    keys = list(next(iter(results["commands"].values())))
    header = f"{'input':<8}{'MB':>7}" + "".join(f"{k:>22}" for k in keys)
    print(header + "\n" + "-" * len(header))
    for name, entry in results["commands"].items():
        size = results["inputs"][name]["bytes"] / MB
        print(f"{name:<8}{size:>7.1f}" + "".join(f"{entry[k]['best_s']:>13.3f}s ({entry[k]['ratio']:.2f})" for k in keys))
    print("\ntargets")
    for t in results["targets"]:
        print(f"  [{'ok' if t['ok'] else 'MISSED'}] {t['name']}: {t['value']} (limit {t['limit']})")
    print("\nALL TARGETS MET" if results["ok"] else "\nSOME TARGETS MISSED")


if __name__ == "__main__":
    sys.exit(main())
