"""A head start on the costly record work while the tokenizer is being built.

The fast engine builds its tokenizer in about a second (``ftkit.tokens.tokenizer.
build_in_background``), in native code that does not hold the GIL, and no token can be counted
before it is done: one core would wait. The passes that shingle text and run the costly rules
(``ftkit report``, ``validate --tokens``) have work that needs no tokens: the costly rules' findings
(FT305) and the near-duplicate band hashes (FT504). So meanwhile the scan does that work for the
first records of each part of the file that a process will scan, a few records from each part in
turn (the parts stay even), and keeps the results by line (``Early``). When it scans those lines it
takes them instead of working them out again; what it does again, reading, parsing and the fast
path's test, is the cheap part.

Only records the fast path accepts are worked on ahead: that is a pure function of a line's bytes
and the profile, and the results are the same functions of the record that the scan would call,
so the scan's findings and band hashes are the same with a head start or without
(``tests/test_head_start.py`` compares whole scans).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ftkit.checks import Problem, Rule
from ftkit.policy.profile import DataRules, QualityRules
from ftkit.scan.fastpath import CleanCheck
from ftkit.scan.near import NearSignatures
from ftkit.scan.reader import BLANK, Item, Reader

#: Records taken from one part before turning to the next, and between two looks at ``waiting()``.
STEP = 64
#: Records kept per part at most (about 120 bytes each with the default 14 bands).
MAX_RECORDS = 1 << 17


class Early:
    """What the head start worked out for the first accepted records of one part, in line order."""

    def __init__(self, width: int) -> None:
        self.lines = array("q")
        self.sums = array("q")  # each record's hash(raw): a line whose bytes changed since is worked out again
        self.bands = array("q")  # ``width`` band hashes per record (none without FT504)
        self.width = width
        self.found: dict[int, list[list[Problem]]] = {}  # index -> each costly rule's problems, when any has one
        self._at = 0

    def index(self, line: int, raw: bytes) -> int:
        """The index of ``line``'s results, or -1 (also when its bytes are not those worked on:
        the file changed meanwhile); the scan asks in increasing line order."""
        lines, at = self.lines, self._at
        while at < len(lines) and lines[at] < line:
            at += 1
        self._at = at
        if at < len(lines) and lines[at] == line:
            self._at = at + 1
            return at if self.sums[at] == hash(raw) else -1
        return -1

    def problems(self, index: int, rule: int) -> list[Problem]:
        """What costly rule number ``rule`` found in record ``index``."""
        found = self.found.get(index)
        return found[rule] if found is not None else []

    def signed(self, index: int) -> bytes | None:
        """Record ``index``'s band hashes, as ``NearSignatures.add_signed`` takes them."""
        width = self.width
        return self.bands[index * width : (index + 1) * width].tobytes() if width else None


def wanted(scan: Any) -> bool:
    """The scan's (a ``FileScan``) collector is waiting for its tokenizer (``building()``), and the scan has costly
    work: the costly rules, or band hashes (FT504)."""
    building = getattr(scan.collector, "building", None)
    near = scan.facts is not None and scan.facts.near is not None
    return building is not None and building() and (near or bool(scan.costly))


def start(scan: Any, parts: Sequence[tuple[int, int, int]]) -> list[Early] | None:
    """``head_start`` for ``scan``, while its collector's tokenizer is being built."""
    near = scan.profile.quality if scan.facts is not None and scan.facts.near is not None else None
    return head_start(scan.item.path, parts, scan.data.max_line_bytes, scan.clean, scan.costly, scan.data, near,
                      scan.collector.building)  # fmt: skip


def head_start(path: Path, parts: Sequence[tuple[int, int, int]], max_line_bytes: int, clean: CleanCheck, costly: Sequence[Rule],
               data: DataRules, near: QualityRules | None, waiting: Callable[[], bool]) -> list[Early] | None:  # fmt: skip
    """Work ahead on each part ``(start, end, lines before start)`` of ``path`` while ``waiting()``:
    the costly rules and (``near``: with these settings) the band hashes of every record the
    fast path accepts. None when it could not (whatever stopped it, the scan then works
    everything out itself, and meets the same problem if it is one)."""
    width = near.near_duplicate_bands if near is not None else 0
    early = [Early(width) for _ in parts]
    streams: list[BinaryIO] = []
    try:
        streams.extend(open(path, "rb") for _ in parts)  # noqa: SIM115  # closed below; the file may have gone (the scan reads the one it opened)
        readers: list[Iterator[Item]] = []
        for stream, (start, end, before) in zip(streams, parts):
            stream.seek(start)
            readers.append(iter(Reader(stream, max_line_bytes, limit=end - start, first_line=before)))
        live = list(range(len(parts)))
        while live and waiting():
            for i in list(live):
                batch = _take(readers[i], clean.verdict, STEP)
                if batch:
                    _work(batch, early[i], costly, data, near)
                if len(batch) < STEP or len(early[i].lines) >= MAX_RECORDS:
                    live.remove(i)
    except Exception:  # whatever it met, the scan meets too, and reports properly
        return None
    finally:
        for stream in streams:
            stream.close()
    return early


def _take(reader: Iterator[Item], verdict: Callable[[Any, bytes], int], count: int) -> list[tuple[int, bytes, Any]]:
    """The next ``count`` records the fast path accepts (fewer at the end of the part)."""
    batch: list[tuple[int, bytes, Any]] = []
    for line, _, raw, value, problems in reader:
        if problems is None and value is not BLANK and verdict(value, raw):  # type: ignore[arg-type]  # fast-parsed: bytes
            batch.append((line, raw, value))  # type: ignore[arg-type]  # as above
            if len(batch) == count:
                break
    return batch


def _work(batch: list[tuple[int, bytes, Any]], early: Early, costly: Sequence[Rule], data: DataRules, near: QualityRules | None) -> None:
    """The costly rules and band hashes of ``batch``, as the scan works them out (``_batch_rules``,
    ``RecordFacts.observe``)."""
    values = [value for _, _, value in batch]
    found = [rule.problems(values, data) for rule in costly]
    if near is not None:
        signer = NearSignatures(near)
        for value in values:
            signer.add(signer.text(value["messages"]))
        signer.flush()
        early.bands.extend(signer.bands)
    base = len(early.lines)
    for k, (line, raw, _) in enumerate(batch):
        early.lines.append(line)
        early.sums.append(hash(raw))
        problems = [rule_found[k] for rule_found in found]
        if any(problems):
            early.found[base + k] = problems
