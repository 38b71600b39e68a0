"""Validate files: stream every line, check every record, collect every finding.

Speed comes from a fast path: each line is parsed with orjson and accepted at once when it is a
plainly well-formed record (``_CleanCheck``). Anything else takes the careful path
(``ftkit.reader.parse_line`` and every rule in ``ftkit.checks``), which explains what is wrong.
``tests/test_engine_properties.py`` checks that the fast path never accepts a record that a rule
would flag.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from ftkit.scan import parallel
from ftkit.checks import RULES, all_rules, record_checks
from ftkit.scan.dataset import RecordFacts
from ftkit.scan.fastpath import CleanCheck
from ftkit.findings import FileResult, Finding, Scan

if TYPE_CHECKING:
    from ftkit.models import Report
from ftkit.policy.profile import Profile, as_profile
from ftkit.scan.reader import UTF8_BOM, Parsed, iter_lines, parse_text, read_rest, sniff

def _is_record_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "messages" in value[0]


class ValidationError(OSError):
    """A path that cannot be validated at all (missing, a directory, unreadable)."""


class Selector:
    """flake8-style ``--select`` / ``--ignore`` by code prefix; the longer matching prefix wins."""

    def __init__(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> None:
        self.select = tuple(s.strip().upper() for s in select if s.strip())
        self.ignore = tuple(s.strip().upper() for s in ignore if s.strip())
        codes = {rule.code for rule in all_rules()}
        unknown = [p for p in (*self.select, *self.ignore) if not any(code.startswith(p) for code in codes)]
        if unknown:  # a typo must not switch every check off (or keep them on) unnoticed
            raise ValueError(f"unknown rule code or prefix {', '.join(map(repr, unknown))} in select/ignore; `ftkit rules` lists the codes")

    def __call__(self, code: str) -> bool:
        chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1) if self.select else 0
        dropped = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return chosen >= 0 and chosen > dropped


class FileScan:
    """The state of validating one file; ``run()`` returns its summary and findings."""

    def __init__(self, path: Path, profile: Profile, selected: Selector, jobs: int = 1, collector: Any = None,
                 near_duplicates: bool = False, dataset_rules: bool = True) -> None:
        self.jobs = jobs
        # The dataset rules (FT501, FT504-FT507) keep a few integers per record. A caller that
        # only needs the errors (stats, split, cost) may leave them out, unless the profile makes
        # one of them an error.
        self.dataset_rules = dataset_rules or any(
            profile.severity.get(code) == "error" for code in profile.severity if code.startswith("FT5"))
        self.near_duplicates = near_duplicates and selected("FT504")
        self.collector = collector  # e.g. ftkit.table.TableBuilder: add(line, record) / reject(line)
        self.path, self.profile, self.data = path, profile, profile.data
        self.selected = selected
        self.severity = profile.severity
        self._reset()
        self.checks = [r for r in record_checks() if selected(r.code)]
        self.clean = CleanCheck(self.data)

    def _reset(self) -> None:
        self.found: list[tuple[int | None, str, str, str]] = []  # line, pointer, code, message
        self.records = 0
        self.invalid = 0
        self.facts = RecordFacts(near=self.near_duplicates) if self.dataset_rules else None
        self.crlf = 0
        self.first_crlf = 0
        self.sniffed = False  # the file was recognised as not JSON Lines at all
        self.no_join_until = 0  # lines up to this one were read ahead in vain: no new read-ahead
        self.read_past_end = False  # a read-ahead reached the end of this process's byte range
        if self.collector is not None:
            self.collector.reset()

    def add(self, line: int | None, code: str, pointer: str, message: str) -> bool:
        """Record a finding; True when it is a selected error (so the record is not valid)."""
        if not self.selected(code):
            return False
        self.found.append((line, pointer, code, message))
        return self.severity.get(code, "error") == "error"

    def run(self) -> tuple[FileResult, list[Finding]]:
        try:
            with open(self.path, "rb") as stream:
                head = stream.read(8192)
                sniffed = sniff(head)
                if sniffed:
                    self.sniffed = True
                    self.add(None, sniffed[0], sniffed[1], sniffed[2])
                else:
                    self._scan_file(stream)
        except OSError as exc:
            raise ValidationError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        self._file_level()
        return self._finish()

    def _scan_file(self, stream: BinaryIO) -> None:
        """Scan the whole file; on a big file, the second half in a forked child at the same time."""
        size = os.fstat(stream.fileno()).st_size
        cut = parallel.cut_point(stream, size) if self.jobs > 1 and size >= parallel.PARALLEL_FROM and hasattr(os, "fork") else 0
        if not cut:
            stream.seek(0)
            self._scan(iter_lines(stream, self.data.max_line_bytes))
            return
        child = parallel.fork_call(lambda: self._scan_part(cut, size))
        stream.seek(0)
        self._scan(iter_lines(stream, self.data.max_line_bytes, cut))
        if self.collector is not None:
            self.collector.prepare_merge()  # while the child may still be busy
        part = child()
        if self.read_past_end:  # a multi-line record may cross the cut: rescan alone, to be exact
            self._reset()
            stream.seek(0)
            self._scan(iter_lines(stream, self.data.max_line_bytes))
            return
        self._merge(part)

    def _scan_part(self, start: int, end: int) -> tuple[Any, ...]:
        """Run in the child: scan bytes [start, end) and return what the parent merges."""
        with open(self.path, "rb") as stream:
            first_line, remaining = 0, start
            while remaining and (block := stream.read(min(1 << 22, remaining))):
                first_line += block.count(b"\n")
                remaining -= len(block)
            self._scan(iter_lines(stream, self.data.max_line_bytes, end - start), first_line)
        collected = self.collector.export() if self.collector is not None else None
        facts = self.facts.export() if self.facts is not None else None
        return (self.found, self.records, self.invalid, facts, self.crlf, self.first_crlf, collected)

    def _merge(self, part: tuple[Any, ...]) -> None:
        found, records, invalid, facts, crlf, first_crlf, collected = part
        if self.collector is not None:
            self.collector.merge(collected)
        self.found.extend(found)
        self.records += records
        self.invalid += invalid
        if self.facts is not None:
            self.facts.merge(facts)
        self.crlf += crlf
        self.first_crlf = min(x for x in (self.first_crlf, first_crlf) if x) if (self.first_crlf or first_crlf) else 0

    def _scan(self, lines: Iterator[bytes | int], first_line: int = 0) -> None:
        loads, decode_error, clean = orjson.loads, orjson.JSONDecodeError, self.clean
        observe = self.facts.observe if self.facts is not None else None
        collect = self.collector.add if self.collector is not None else None
        source = lines
        n = first_line
        while True:
            for line in source:
                n += 1
                if type(line) is int:
                    self.records += 1
                    self.invalid += self._reject(n, self.add(n, "FT013", "", f"line is {line:,} bytes, longer than the {self.data.max_line_bytes:,}-byte limit; is the file missing newlines?"))
                    continue
                if line[-1:] == b"\r":
                    line = line[:-1]
                    self.crlf += 1
                    self.first_crlf = self.first_crlf or n
                if n == 1 and line.startswith(UTF8_BOM):
                    self.add(1, "FT004", "", "the file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM")
                    line = line[3:]
                if not line or (line[0] in b" \t\x0b\x0c" and not line.strip()):
                    self.add(n, "FT005", "", "blank line; every line must hold one JSON record (remove it)")
                    continue
                self.records += 1
                try:
                    obj = loads(line)
                except decode_error:
                    pass
                else:
                    if clean(obj, line):
                        if observe is not None:
                            observe(n, line, obj["messages"])
                        if collect is not None:
                            collect(n, obj)
                        continue
                consumed = self._careful(line, n, source)
                if isinstance(consumed, list):  # read ahead for nothing: give the lines back
                    # No read-ahead starts among lines given back, so those of any earlier give-back
                    # are used up by now: chain onto the file itself, never onto another chain.
                    source = chain(consumed, lines)
                    break
                n += consumed
            else:
                return

    def _careful(self, line: bytes, n: int, source: Iterator[bytes | int]) -> int | list[bytes | int]:
        """Check one line the slow, explaining way. Returns how many more lines it consumed
        (a pretty-printed record), or the lines it read ahead in vain."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.invalid += self._reject(n, self.add(n, "FT003", "", f"invalid UTF-8 at byte {exc.start + 1} of the line ({line[exc.start:exc.start + 1]!r}); re-save the file as UTF-8"))
            return 0
        parsed = parse_text(text)
        consumed: int | list[bytes | int] = 0
        if parsed.incomplete and n > self.no_join_until:
            joined, taken = self._join(text, n, source)
            if joined is None:
                consumed = taken
            else:
                parsed, consumed = joined, len(taken)
        error = False
        for code, pointer, message in parsed.findings:
            error |= self.add(n, code, pointer, message)
        if parsed.ok and _is_record_array(parsed.value):  # json.dump(records) on one line
            error |= self.add(n, "FT017", "", f"the line is a JSON array of {len(parsed.value)} records; write one record per line (or convert it with `ftkit convert`)")
        elif parsed.ok:
            for rule in self.checks:
                for pointer, message in rule.check(parsed.value, self.data):  # type: ignore[misc]
                    error |= self.add(n, rule.code, pointer, message)
        if parsed.ok and not error and self.facts is not None:
            try:
                self.facts.observe(n, line, parsed.value["messages"])
            except (KeyError, TypeError, AttributeError, IndexError, ValueError):
                pass  # not a well-formed record (its errors were deselected): no dataset facts
        if self.collector is not None:
            if parsed.ok and not error:
                self.collector.add(n, parsed.value)
            else:
                self.collector.reject(n)
        self.invalid += error
        return consumed

    def _reject(self, n: int, error: bool) -> bool:
        if self.collector is not None:
            self.collector.reject(n)
        return error

    def _join(self, text: str, n: int, source: Iterator[bytes | int]) -> tuple[Parsed | None, list[bytes | int]]:
        """Read ahead for the rest of a pretty-printed record: (the record, lines read)."""
        found = read_rest(text, source)
        if found.parsed is not None:
            last = n + len(found.taken)
            found.parsed.findings.insert(0, ("FT008", "", f"one JSON record is spread over lines {n}-{last}; write each record on a single line (json.dumps without indent)"))
            return found.parsed, found.taken
        self.read_past_end |= found.exhausted  # the record may go on past this process's range
        self.no_join_until = n + len(found.taken)
        return None, found.taken

    def _file_level(self) -> None:
        if self.path.suffix not in self.data.extensions:
            self.add(None, "FT001", "", f"file name ends in {self.path.suffix or '(nothing)'!r}, expected {' or '.join(self.data.extensions)}")
        if self.records == 0 and not self.sniffed:
            self.add(None, "FT002", "", "the file holds no records; expected one JSON object per line")
        elif self.records < self.data.min_records:
            self.add(None, "FT502", "", f"only {self.records} record{'s' if self.records != 1 else ''}; fewer than {self.data.min_records} examples rarely teach a model anything")
        if self.crlf:
            self.add(self.first_crlf, "FT015", "", f"{self.crlf:,} line{'s end' if self.crlf != 1 else ' ends'} with CRLF (Windows line ends), the first at line {self.first_crlf}")
        if self.facts is not None:
            for line, code, pointer, message in self.facts.findings(self.path, self.profile, self.records - self.invalid):
                self.add(line, code, pointer, message)

    def _finish(self) -> tuple[FileResult, list[Finding]]:
        path = str(self.path)
        self.found.sort(key=lambda f: (f[0] or 0, f[2], f[1]))
        findings = [
            Finding(path, line, pointer, code, RULES[code].name, self.severity.get(code, "error"), message)
            for line, pointer, code, message in self.found
        ]
        return FileResult(path, self.records, self.records - self.invalid), findings


def expand_paths(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, each once; a directory stands for the files below it named ``*.jsonl``
    in any letter case (a ``.JSONL`` one is then reported by FT001, not skipped unseen)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".jsonl" and p.is_file())
            if not found:
                raise ValidationError(f"{path} is a directory with no .jsonl files")
        elif path.exists():
            found = [path]
        else:
            raise ValidationError(f"{path}: no such file")
        for file in found:
            if file.resolve() not in seen:  # a file named twice is validated (and counted) once
                seen.add(file.resolve())
                out.append(file)
    return out


def run_scan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    profile: Profile,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    jobs: int = 1,
    collector: Callable[[], Any] | None = None,
    near_duplicates: bool = False,
    dataset_rules: bool = True,
) -> Scan:
    """Validate files; ``collector()`` (if given) makes one record collector per file.
    ``near_duplicates`` adds FT504, which normalises all text (as costly as parsing it);
    ``dataset_rules=False`` leaves out the warnings about the whole dataset (FT501, FT504-FT507)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    all_rules()  # register every rule before the first lookup
    selected = Selector(select, ignore)
    files, violations = [], []
    for path in expand_paths(paths):
        scan = FileScan(path, profile, selected, jobs, collector() if collector else None, near_duplicates, dataset_rules)
        summary, found = scan.run()
        files.append(summary)
        violations.extend(found)
    return Scan(profile.name, files, violations)


def scan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    profile: str | Profile = "siliconflow",
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    jobs: int = 1,
) -> Scan:
    """``validate`` without tokens, returning the scan's plain result (no pydantic import)."""
    return run_scan(paths, as_profile(profile), select, ignore, jobs)


def validate(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    profile: str | Profile = "siliconflow",
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    jobs: int = 1,
    tokens: bool = False,
    model: str | None = None,
    max_tokens: int | None = None,
) -> Report:
    """Validate one or more JSONL files (or directories of them) against a platform profile.

    Raises ``ValidationError`` (an ``OSError``) when a path cannot be read, and
    ``ftkit.profile.ProfileError`` for an unknown profile. Never prints, never exits.
    ``jobs=2`` lets a big file be scanned by two processes (fork, POSIX only).
    ``tokens=True`` also tokenizes every valid record and adds the length rule (FT401) for
    ``model`` (default: the profile's) at ``max_tokens`` (default: the profile's Max Tokens).
    """
    prof = as_profile(profile)
    if not tokens:
        return run_scan(paths, prof, select, ignore, jobs).to_report()
    from ftkit.tokens.table import build_table, length_violations

    table = build_table(paths, prof, model=model, max_tokens=max_tokens, jobs=jobs, select=tuple(select), ignore=tuple(ignore),
                        near_duplicates=True)
    extra = [v for v in length_violations(table) if Selector(select, ignore)(v.code)]
    order = {path: i for i, path in enumerate(table.paths)}
    found = sorted([*table.report.violations, *extra], key=lambda v: (order[v.path], v.line or 0, v.code, v.pointer))
    from ftkit.models import Report

    return Report.build(prof.name, table.report.files, found)
