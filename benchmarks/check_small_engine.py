#!/usr/bin/env python3
"""Check the small engine (ftkit/tokens/bpe.py) against tiktoken on every Unicode code point.

    python benchmarks/check_small_engine.py [--raw] [--step 1] [--contexts alone,between,...]

The small engine splits text with the ``regex`` package, tiktoken with the Rust regex crate; each
has its own Unicode tables, so a character may be a letter (or a digit, or white space) to one and
not to the other. Every code point U+0000..U+10FFFF (surrogates included: both replace them) is
encoded in each context below by both, token for token:

    alone "c", between letters "acb", after a space " c", before a newline "c\\n",
    repeated "ccc", after an apostrophe "'c", between digits "1c2", after a CJK character "中c",
    in punctuation "(c).", between words "x cy", before a contraction "c's"

Tokens only differ where a merge crosses the boundary the two split at, which most contexts do
not show (``"c's"`` does: a letter keeps "'s" whole, a symbol takes the apostrophe). So the guard
is not only the code points found to differ: it is every code point whose class (letter, number,
white space, other) in ``regex``'s tables is not its class in this Python's ``unicodedata``
(Unicode 14 in Python 3.11, older than both tables): whichever Unicode version the Rust crate
has between the two, a character it classes otherwise is one of these (all are unassigned in
Unicode 14 and letters or numbers to ``regex``). ``--guard`` prints that set as the ranges to put
in rules/tokenizers.toml (``small_engine.guard``), with the token mismatches found as well.

``--raw``: without the guard, to see which characters get other tokens. Default: with the guard;
exits 1 when any code point still gets different tokens, or when the guard in the rules lacks a
code point of the class difference. Prints the versions compared (regex, tiktoken, Python's
unicodedata), which the rules pin.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from importlib.metadata import version

CONTEXTS = {
    "alone": "{}",
    "between": "a{}b",
    "after-space": " {}",
    "before-newline": "{}\n",
    "repeated": "{0}{0}{0}",
    "after-apostrophe": "'{}",
    "between-digits": "1{}2",
    "after-cjk": "中{}",
    "in-punctuation": "({}).",
    "word-space-word": "x {}y",
    "before-contraction": "{}'s",
}


def class_differences() -> list[int]:
    """Code points that ``regex`` classes otherwise than this Python's ``unicodedata``."""
    import regex

    letter, number, space = (regex.compile(p).match for p in (r"\p{L}", r"\p{N}", r"\s"))

    def by_regex(c: str) -> str:
        return "L" if letter(c) else "N" if number(c) else "S" if space(c) else "O"

    def by_unicodedata(c: str) -> str:  # White_Space has not changed since Unicode 6
        cat = unicodedata.category(c)[0]
        return cat if cat in "LN" else "S" if space(c) else "O"

    return [cp for cp in range(0x110000) if by_regex(chr(cp)) != by_unicodedata(chr(cp))]


def ranges(points: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for cp in sorted(set(points)):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", action="store_true", help="without the configured guard")
    parser.add_argument("--guard", action="store_true", help="print the guard for the rules (class differences and mismatches)")
    parser.add_argument("--step", type=int, default=1, help="check every STEP-th code point (1: all)")
    parser.add_argument("--contexts", default=",".join(CONTEXTS), help="comma-separated, of: " + ", ".join(CONTEXTS))
    args = parser.parse_args()
    from ftkit.tokens.bpe import guard_ranges
    from ftkit.tokens.tokenizer import get_tokenizer, token_config, tokenizer_from_config

    spec = token_config()["tokenizers"]["qwen2_5"]
    reference = get_tokenizer("qwen2_5")._enc  # tiktoken's Encoding.encode_ordinary
    small = tokenizer_from_config("qwen2_5", engine="small")
    encoder = small._enc.__self__  # the SmallEncoder
    if args.raw:
        encoder._guard = None
    guard = guard_ranges(spec["small_engine"].get("guard", ""))
    print(f"regex {version('regex')}, tiktoken {version('tiktoken')}, unicodedata {unicodedata.unidata_version}; "
          f"guard: {'none (--raw)' if args.raw else f'{len(guard)} ranges'}", file=sys.stderr)  # fmt: skip
    differ = class_differences()
    guarded = {cp for first, last in guard for cp in range(first, last + 1)}
    missing = [cp for cp in differ if cp not in guarded]
    print(f"{len(differ):,} code points are classed otherwise by regex than by unicodedata {unicodedata.unidata_version} "
          f"({len(ranges(differ))} ranges); {len(missing):,} of them not in the rules' guard")  # fmt: skip
    contexts = {name: CONTEXTS[name] for name in args.contexts.split(",")}
    bad: dict[int, list[str]] = {}
    compared, start = 0, time.perf_counter()
    for cp in range(0, 0x110000, args.step):
        c = chr(cp)
        for name, form in contexts.items():
            text = form.format(c)
            compared += 1
            if encoder.encode_ordinary(text) != reference(text):
                bad.setdefault(cp, []).append(name)
        if cp % 0x10000 == 0xFFFF:
            print(f"  U+{cp:06X}: {compared:,} strings, {len(bad)} code points differ ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    print(f"{compared:,} strings compared ({len(range(0, 0x110000, args.step)):,} code points x {len(contexts)} contexts): "
          f"{len(bad)} code points get other tokens")  # fmt: skip
    for cp, names in sorted(bad.items()):
        c = chr(cp)
        inside = "in the class differences" if cp in differ else "NOT in the class differences"
        print(f"  U+{cp:04X} {unicodedata.category(c)} {unicodedata.name(c, '?')} ({inside}): {', '.join(names)}")
    if args.guard:
        items = [f"{a:04X}" if a == b else f"{a:04X}-{b:04X}" for a, b in ranges(differ + list(bad))]
        print("guard = '''\n" + "\n".join(" ".join(items[i : i + 10]) for i in range(0, len(items), 10)) + "\n'''")
    return 1 if bad or (missing and not args.raw) else 0


if __name__ == "__main__":
    sys.exit(main())
