"""Validate files: stream every record, check it, collect every finding.

Speed comes from a fast path: the reader parses each line with orjson, and a plainly
well-formed record (``ftkit.scan.fastpath.CleanCheck``) is accepted at once. Anything else is
parsed again carefully (``ftkit.scan.parse``) and goes through every rule in ``ftkit.checks``,
which explain what is wrong. ``tests/test_engine_properties.py`` checks that the fast path
never accepts a record that a rule would flag.

The passes that count tokens and show findings (``validate --tokens``, ``report``) also run the
costly record rules (``ftkit.checks.costly_checks``: FT305) on every record without an error,
whichever path it took; plain ``validate`` does not.

A ``collector`` (e.g. the token table's builder) sees every record: ``add(line, record)`` for
one without a selected error, ``reject(line)`` for the others.

A JSON array file (FT017, an error: the platform wants JSON Lines) is still read: its elements
are counted and checked as records, each at the line it starts on, with pointers that start
with its index (``/3/messages/1/role``: an RFC 6901 pointer into the file's JSON value). The same
holds for a one-line array of records. When most records with findings have one shape (a prompt
set, Alpaca, preference pairs, ...), the file's result says so (``FileResult.shape``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, Literal

from ftkit.checks import ROLES, Selector, all_rules, costly_checks, level_of, record_checks
from ftkit.checks.prefilter import Prefilter
from ftkit.checks.privacy import PRIVACY_CODES, privacy_kinds
from ftkit.checks.shapes import failure_shape, file_shape
from ftkit.errors import InputError
from ftkit.findings import FileResult, Finding, Scan, sort_findings
from ftkit.policy.profile import Profile
from ftkit.scan import headstart, parallel
from ftkit.scan.dataset import RecordFacts
from ftkit.scan.elements import ArrayScan, Pending
from ftkit.scan.fastpath import SUSPECT, CleanCheck
from ftkit.scan.headstart import Early
from ftkit.scan.inputs import Input, describe_os_error
from ftkit.scan.reader import BLANK, HEAD_BYTES, UNPARSED, Reader, bom, careful, crlf, sniff

#: accepted records checked together (``FileScan._flush``)
BATCH = 256


def _is_record_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "messages" in value[0]


class FileScan(ArrayScan):
    """The state of validating one file; ``run()`` returns its result."""

    def __init__(self, item: Input, profile: Profile, selected: Selector, jobs: int = 1, collector: Any = None,
                 near_duplicates: bool | Literal["clusters"] = False, dataset_rules: bool = True, counter: Any = None,
                 privacy: bool | None = None) -> None:  # fmt: skip
        self.item, self.jobs, self.counter = item, jobs, counter
        # The dataset rules (FT501, FT504-FT507) keep a few integers per record. A caller that
        # only needs the errors (stats, split, cost) may leave them out, unless the profile makes
        # one of them an error.
        self.dataset_rules = dataset_rules or any(
            profile.severity.get(code) == "error" for code in profile.severity if code.startswith("FT5")
        )
        # ``near_duplicates="clusters"``: also when FT504 is not selected (split --group-by near)
        self.near_duplicates = near_duplicates == "clusters" or (bool(near_duplicates) and selected("FT504"))
        self.collector = collector  # e.g. ftkit.tokens.table.TableBuilder: add(line, record) / reject(line)
        self.profile, self.data = profile, profile.data
        self.selected = selected
        self.severity: dict[str, str] = dict(profile.severity)
        # The privacy kinds checked (FT6xx): validate's default ones (privacy None), all (True) or
        # none (False), and in every case those the profile makes errors.
        self.private = privacy_kinds(profile, selected, privacy)
        off = {code for code in PRIVACY_CODES if code not in self.private.values()}
        chosen = [r for r in record_checks() if selected(r.code) and r.code not in off]
        self.checks = [[r for r in chosen if r.needs <= level] for level in range(ROLES + 1)]  # by level_of
        self.private_checks = [r for r in chosen if r.code in PRIVACY_CODES]
        # The passes that pay for normalising text (validate --tokens, report) also run the
        # costly record rules (FT305), on every record without an error, fast path or not.
        self.costly = [r for r in costly_checks() if selected(r.code)] if near_duplicates else []
        for rule in self.costly:  # load what they need now, before a second process forks, not in both
            list(rule.check({"messages": []}, self.data))  # type: ignore[misc]  # record rules have a check
        self.clean = CleanCheck(self.data, Prefilter(self.private) if self.private else None)
        self._reset()

    def _reset(self) -> None:
        self.found: list[Finding] = []
        self.spans: dict[int, int] = {}
        self.messages: dict[str, str] = {}  # one string object per distinct message
        self.records = 0
        self.invalid = 0
        self.facts = RecordFacts(self.near_duplicates, self.profile.quality) if self.dataset_rules else None
        self.marks: list[tuple[int, int]] = []  # (line, byte offset), for re-reading lines (Reader.marks)
        self.pending: list[Pending] = []  # accepted records waiting (_flush)
        self.early: Early | None = None  # this process's head start (ftkit.scan.headstart)
        self.head: list[Early] | None = None  # every process's
        self.batched = self.collector is not None or bool(self.costly)
        self.crlf_lines = 0
        self.first_crlf = 0
        self.has_bom = False
        self.sniffed = False  # the file was recognised as not JSON Lines at all
        self.json_array = False  # the records are the elements of a JSON array
        self.shapes: Counter[str] = Counter()  # records with findings, by failure_shape
        if self.collector is not None:
            self.collector.reset()

    def add(self, finding: Finding) -> bool:
        """Keep a finding; True when it is a selected error (so the record is not valid)."""
        if not self.selected(finding.code):
            return False
        line, code, pointer, text = finding
        message = self.messages.setdefault(text, text)
        self.found.append(finding if message is text else Finding(line, code, pointer, message))  # (twice as quick as _replace)
        return self.severity.get(finding.code, "error") == "error"

    def run(self) -> FileResult:
        try:
            with open(self.item.path, "rb") as stream:
                found = sniff(stream.read(HEAD_BYTES))
                if found and found.code == "FT017":
                    self.add(found)
                    self._ready()
                    self._scan_array(stream)
                elif found:
                    self.sniffed = True
                    self.add(found)
                else:
                    self._scan_file(stream)
        except OSError as exc:
            raise InputError(f"cannot read {self.item.name}: {describe_os_error(exc)}") from None
        self._file_level()
        return FileResult(self.item.name, self.records, self.records - self.invalid, sort_findings(self.found), self.spans,
                          file_shape(self.shapes, self.records, self.profile.quality.file_shape_share), self.json_array, self.marks)  # fmt: skip

    def _scan_file(self, stream: BinaryIO) -> None:
        """Scan the whole file; on a big file, the second half in a forked child at the same time."""
        size = os.fstat(stream.fileno()).st_size
        cut = parallel.cut_point(stream, size) if self.jobs > 1 and size >= parallel.PARALLEL_FROM and hasattr(os, "fork") else 0
        if cut and self.facts is not None:
            self.facts.prepare()  # imports and tables made once, before the fork, for both processes
        # while the collector's tokenizer is built: the costly work of each part's first records
        before = (parallel.lines_before(stream, cut) if cut else 0) if headstart.wanted(self) else None
        self.head = headstart.start(self, [(0, cut, 0), (cut, size, before)] if cut else [(0, size, 0)]) if before is not None else None
        self._ready()
        self.early = self.head[0] if self.head else None
        stream.seek(0)
        if not cut:
            self._scan(Reader(stream, self.data.max_line_bytes, counter=self.counter))
            return
        child = parallel.fork_call(lambda: self._scan_part(cut, size, before))
        reader = Reader(stream, self.data.max_line_bytes, limit=cut, counter=self.counter)
        try:
            self._scan(reader)
            # while the child may still be busy: what the merge and the dataset rules will import
            if self.collector is not None:
                self.collector.prepare_merge()
            if self.facts is not None:
                self.facts.prepare_merge(size / max(cut, 1))
        except BaseException:  # an error, Ctrl-C, SIGTERM: the child must not outlive us
            child.stop()
            raise
        part = child.result()
        if self.counter is not None:
            self.counter.absorb_child()
        if reader.read_past_end:  # a multi-line record may cross the cut: rescan alone, to be exact
            self._reset()
            stream.seek(0)
            self._scan(Reader(stream, self.data.max_line_bytes))
            return
        self._merge(part)

    def _ready(self) -> None:
        """The collector's tokenizer before any record (a bad one fails first; a fork shares its tables)."""
        if hasattr(self.collector, "ready"):
            self.collector.ready()

    def _scan_part(self, start: int, end: int, first_line: int | None = None) -> tuple[Any, ...]:
        """Run in the child: scan bytes [start, end) (``first_line`` lines before it, when
        counted already) and return what the parent merges."""
        if self.counter is not None:
            self.counter.in_child()
        self.early = self.head[1] if self.head else None
        with open(self.item.path, "rb") as stream:
            first_line = parallel.lines_before(stream, start) if first_line is None else first_line
            stream.seek(start)
            self._scan(Reader(stream, self.data.max_line_bytes, limit=end - start, first_line=first_line, counter=self.counter))
        collected = self.collector.export() if self.collector is not None else None
        facts = self.facts.export() if self.facts is not None else None
        return (self.found, self.spans, self.records, self.invalid, facts, self.crlf_lines, self.first_crlf, collected, self.shapes,
                self.marks)  # fmt: skip

    def _merge(self, part: tuple[Any, ...]) -> None:
        found, spans, records, invalid, facts, crlf_lines, first_crlf, collected, shapes, marks = part
        self.marks.extend(marks)
        self.shapes.update(shapes)
        if self.collector is not None:
            self.collector.merge(collected)
        self.found.extend(found)
        self.spans.update(spans)
        self.records += records
        self.invalid += invalid
        if self.facts is not None:
            self.facts.merge(facts)
        self.crlf_lines += crlf_lines
        self.first_crlf = self.first_crlf or first_crlf

    def _scan(self, reader: Reader) -> None:
        clean = self.clean
        verdict = clean.verdict
        accepted = self._accepted
        records = 0
        for line, end, raw, value, problems in reader:
            if value is BLANK:
                self.add(problems[0])  # type: ignore[index]  # a blank line always has its finding
                continue
            records += 1
            if problems is None:
                seen = verdict(value, raw)  # type: ignore[arg-type]  # a fast-parsed item's raw is bytes
                if seen:
                    accepted(line, raw, value, seen, texts=clean.texts)  # type: ignore[arg-type]  # as above
                    continue
                parsed = careful(raw)  # type: ignore[arg-type]  # fast-parsed: bytes
                value = parsed.value if parsed.ok else UNPARSED
                problems = [f._replace(line=line) for f in parsed.findings]
            elif end != line:
                self.spans[line] = end
            self._check(line, raw, value, problems)
        if self.pending:
            self._flush()
        self.records += records
        self.crlf_lines += reader.crlf_lines
        self.first_crlf = self.first_crlf or reader.first_crlf
        self.has_bom |= reader.has_bom
        self.marks.extend(reader.marks)

    def _accepted(self, line: int, raw: bytes, value: Any, seen: int, prefix: str = "", located: bool = True,
                  texts: list[str] | None = None) -> None:  # fmt: skip
        """A record the fast path found well-formed (``seen``: CLEAN or SUSPECT), from a line or
        an array element: only the FT6xx rules (when suspect) and the costly rules can flag it;
        then the dataset facts and the collector get it. Where tokens are counted, a batch at a
        time (``_flush``); a plain validate keeps each record only as long as it looks at it (its
        work is light, so a record read again 256 records later costs more than it saves).
        ``texts``: its contents, when the fast path listed them."""
        if self.batched:
            self.pending.append((line, raw, value, seen, prefix, located, texts))
            if len(self.pending) >= BATCH:
                self._flush()
            return
        if seen == SUSPECT and self._run(self.private_checks, line, value, prefix):  # unbatched: no costly rules
            self.invalid += 1
            return
        if self.facts is not None:
            self.facts.observe(line, raw, value["messages"], located, texts)

    def _flush(self) -> None:
        """The waiting records, one stage at a time over the whole batch: each stage's tables
        (the script counts, the shingle hashes, the tokenizer's ranks) stay in the CPU's caches
        instead of evicting each other record by record: a third less CPU for the report's extra
        work and ~7% less for stats (benchmarks/bench_report.py)."""
        batch, self.pending = self.pending, []
        early, ahead = self.early, {}
        if early is not None:  # the records worked on ahead (ftkit.scan.headstart): line -> index
            ahead = {item[0]: i for item in batch if not item[4] and (i := early.index(item[0], item[1])) >= 0}
        if self.private_checks or self.costly:
            batch = self._batch_rules(batch, ahead)
        if self.facts is not None:
            observe = self.facts.observe
            for line, raw, value, _, _, located, texts in batch:
                observe(line, raw, value["messages"], located, texts, early.signed(ahead[line]) if line in ahead else None)  # type: ignore[union-attr]  # ahead is empty without early
        if self.collector is not None:
            add = self.collector.add
            for line, _, value, *_ in batch:
                add(line, value)

    def _check(self, line: int, raw: bytes | int, value: Any, problems: list[Finding], prefix: str = "") -> None:
        """The careful path for one record: its parse findings and every record rule. ``prefix``:
        the element's pointer in a JSON array (``/3``), put before every pointer."""
        if self.pending:
            self._flush()  # the records before it first: facts and collector see lines in order
        if not prefix and _is_record_array(value):
            self._line_array(line, value, problems)
            return
        error = False
        before = len(self.found)
        for finding in problems:
            error |= self.add(finding)
        if value is not UNPARSED:
            data = self.data
            for rule in self.checks[level_of(value, data.roles)]:
                for pointer, message in rule.check(value, data):  # type: ignore[misc]  # record rules have a check
                    error |= self.add(Finding(line, rule.code, prefix + pointer, message))
            if self.costly and not error:
                error = self._costly(line, value, prefix)
            if len(self.found) > before:
                kind = failure_shape(value, data)
                if kind is not None:
                    self.shapes[kind] += 1
        if value is not UNPARSED and not error and self.facts is not None:
            try:
                self.facts.observe(line, raw, value["messages"], not prefix)  # type: ignore[arg-type]  # as above
            except (KeyError, TypeError, AttributeError, IndexError, ValueError):
                pass  # not a well-formed record (its errors were deselected): no dataset facts
        if self.collector is not None:
            if value is not UNPARSED and not error:
                self.collector.add(line, value)
            else:
                self.collector.reject(line)
        self.invalid += error

    def _costly(self, line: int, value: Any, prefix: str = "") -> bool:
        """The costly record rules on one record; True when one of them found an error."""
        return self._run(self.costly, line, value, prefix)

    def _batch_rules(self, batch: list[Pending], ahead: dict[int, int]) -> list[Pending]:
        """For well-formed records: the FT6xx rules on those the prefilter suspects and the costly
        rules (their batch form when they have one) on all, but those worked on ``ahead``. Returns
        the records without an error; one with an error is counted invalid and kept from the
        collector, as the careful path would."""
        data = self.data
        bad = [seen == SUSPECT and self._run(self.private_checks, line, value, prefix) for line, _, value, seen, prefix, *_ in batch]
        for r, rule in enumerate(self.costly):
            found = rule.problems([item[2] for item in batch if item[0] not in ahead], data)
            if ahead:
                fresh = iter(found)
                found = [self.early.problems(ahead[item[0]], r) if item[0] in ahead else next(fresh) for item in batch]  # type: ignore[union-attr]  # ahead is empty without early
            for k, problems in enumerate(found):
                for pointer, message in problems:
                    bad[k] |= self.add(Finding(batch[k][0], rule.code, batch[k][4] + pointer, message))
        if not any(bad):
            return batch
        kept = []
        for item, error in zip(batch, bad):
            if not error:
                kept.append(item)
                continue
            self.invalid += 1
            if self.collector is not None:
                self.collector.reject(item[0])
        return kept

    def _run(self, rules: list[Any], line: int, value: Any, prefix: str = "") -> bool:
        error = False
        for rule in rules:
            for pointer, message in rule.check(value, self.data):
                error |= self.add(Finding(line, rule.code, prefix + pointer, message))
        return error

    def _file_level(self) -> None:
        suffix = self.item.suffix
        if suffix is not None and suffix not in self.data.extensions:
            self.add(
                Finding(None, "FT001", "", f"file name ends in {suffix or '(nothing)'!r}, expected {' or '.join(self.data.extensions)}")
            )
        if self.has_bom:
            self.add(bom())
        if self.records == 0 and not self.sniffed:
            self.add(Finding(None, "FT002", "", "the file holds no records; expected one JSON object per line"))
        elif self.records < self.data.min_records and not self.sniffed:
            message = f"only {self.records} record{'s' if self.records != 1 else ''}; fewer than {self.data.min_records} examples rarely teach a model anything"
            self.add(Finding(None, "FT502", "", message))
        if self.crlf_lines:
            self.add(crlf(self.crlf_lines, self.first_crlf))
        if self.facts is not None:
            self.facts.marks = self.marks
            for finding in self.facts.findings(self.item.path, self.profile, self.records - self.invalid, self.spans):
                self.add(finding)
            if self.near_duplicates and hasattr(self.collector, "near"):  # e.g. for split --group-by near
                self.collector.near = self.facts.clusters


def run_scan(
    inputs: Iterable[Input],
    profile: Profile,
    selected: Selector,
    *,
    jobs: int = 1,
    collector: Callable[[], Any] | None = None,
    near_duplicates: bool | Literal["clusters"] = False,
    dataset_rules: bool = True,
    counter: Any = None,
    config: str | None = None,
    privacy: bool | None = None,
) -> Scan:
    """Validate every input; ``collector()`` (if given) makes one record collector per file.

    ``near_duplicates`` adds FT504, which shingles all text (as costly as parsing it; "clusters":
    even when FT504 is not selected, for a collector that wants the clusters);
    ``dataset_rules=False`` leaves out the warnings about the whole dataset (FT501, FT504-FT507);
    ``privacy``: which FT6xx kinds to look for: None those ``validate`` checks by default, True
    all, False none (a kind the profile makes an error is always checked).
    """
    all_rules()  # register every rule before the first lookup
    files = []
    for item in inputs:
        scan = FileScan(item, profile, selected, jobs, collector() if collector else None, near_duplicates, dataset_rules, counter, privacy)
        files.append(scan.run())
    return Scan(profile.name, profile.severity, files, config)
