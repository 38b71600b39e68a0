"""Validate files: stream every line, check every record, collect every finding.

Speed comes from a fast path: each line is parsed with orjson and accepted at once when it is a
plainly well-formed record (``_CleanCheck``). Anything else takes the careful path
(``ftkit.reader.parse_line`` and every rule in ``ftkit.checks``), which explains what is wrong.
``tests/test_engine_properties.py`` checks that the fast path never accepts a record that a rule
would flag.
"""

from __future__ import annotations

import os
import pickle
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ftkit.checks import RULES, all_rules, record_checks
from ftkit.dedup import find_duplicates
from ftkit.models import FileSummary, Report, Violation
from ftkit.profile import DataRules, Profile, load_profile
from ftkit.reader import UTF8_BOM, Parsed, iter_lines, parse_text, sniff

# A pretty-printed record is joined back together over at most this many lines and characters.
_MAX_JOIN_LINES = 5_000
_MAX_JOIN_CHARS = 8 << 20


def _is_record(text: str) -> bool:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and "messages" in value


def _depth(text: str) -> int:
    """Brackets opened minus closed (strings not excluded: only decides when to try a parse)."""
    return text.count("{") + text.count("[") - text.count("}") - text.count("]")


# Files at least this big are scanned by two processes when jobs > 1.
_PARALLEL_FROM = 8 << 20


def _halfway_newline(stream: BinaryIO, size: int) -> int:
    """The offset just after the first newline past the middle of the file (0: none)."""
    stream.seek(size // 2)
    while block := stream.read(1 << 16):
        at = block.find(b"\n")
        if at >= 0:
            cut = stream.tell() - len(block) + at + 1
            return cut if cut < size else 0
    return 0


def _fork(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``work`` in a forked child; the returned function waits for and returns its result.

    Plain fork + pipe: the child inherits the loaded profile and rules (and the same hash seed,
    so record hashes agree) and only ever returns pickled data.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_fd)

    def wait() -> Any:
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        if not data:
            raise RuntimeError("the second validation process died without a result")
        status, result = pickle.loads(data)
        if status != "ok":
            raise RuntimeError(f"the second validation process failed: {result}")
        return result

    return wait


class ValidationError(OSError):
    """A path that cannot be validated at all (missing, a directory, unreadable)."""


class Selector:
    """flake8-style ``--select`` / ``--ignore`` by code prefix; the longer matching prefix wins."""

    def __init__(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> None:
        self.select = tuple(s.strip().upper() for s in select if s.strip())
        self.ignore = tuple(s.strip().upper() for s in ignore if s.strip())

    def __call__(self, code: str) -> bool:
        chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1) if self.select else 0
        dropped = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return chosen >= 0 and chosen > dropped


class _CleanCheck:
    """True only for a record that no rule could flag: the fast path's single test."""

    def __init__(self, data: DataRules) -> None:
        self.record_keys = frozenset(data.record_keys)
        self.message_keys = frozenset(("role", "content"))
        specials = sorted(data.special_tokens, key=len, reverse=True)
        self.special = re.compile("|".join(map(re.escape, specials))).search if specials else None
        self.usable = {"system", "user", "assistant"} <= set(data.roles) and self.message_keys <= set(data.message_keys)
        self.patterns: dict[tuple[int, bool], list[str]] = {}

    def _pattern(self, n: int, system: bool) -> list[str]:
        """The only role sequence of length n that passes every FT2xx rule (one leading system)."""
        pattern = self.patterns.get((n, system))
        if pattern is None:
            turns = n - system
            pattern = ["system"] * system + ["user", "assistant"] * (turns // 2) if turns >= 2 and turns % 2 == 0 else []
            self.patterns[(n, system)] = pattern
        return pattern

    def __call__(self, obj: Any, line: bytes) -> bool:
        if type(obj) is not dict or not self.usable:
            return False
        msgs = obj.get("messages")
        if type(msgs) is not list or not msgs or not obj.keys() <= self.record_keys:
            return False
        mk = self.message_keys
        try:
            if not all([m.keys() == mk for m in msgs]):
                return False
            roles = [m["role"] for m in msgs]
            texts = [m["content"] for m in msgs]
            joined = "".join(texts)  # TypeError unless every content is a string
        except (AttributeError, TypeError):
            return False
        if roles != self._pattern(len(roles), roles[0] == "system"):
            return False
        if not all(texts) or any(map(str.isspace, texts)):
            return False
        if "<" in joined and self.special and self.special(joined):
            return False
        # Duplicate keys are invisible after parsing. With no whitespace before any colon, every
        # key is followed directly by '":', so this count is at least the number of keys written;
        # equal to the number of keys parsed means no key was written twice.
        return line.count(b'":') == len(obj) + 2 * len(msgs) and b" :" not in line and b"\t" not in line and b"\r" not in line


class FileScan:
    """The state of validating one file; ``run()`` returns its summary and findings."""

    def __init__(self, path: Path, profile: Profile, selected: Selector, jobs: int = 1, collector: Any = None) -> None:
        self.jobs = jobs
        self.collector = collector  # e.g. ftkit.table.TableBuilder: add(line, record) / reject(line)
        self.path, self.profile, self.data = path, profile, profile.data
        self.selected = selected
        self.severity = profile.severity
        self.found: list[tuple[int | None, str, str, str]] = []  # line, pointer, code, message
        self.records = 0
        self.invalid = 0
        # One 64-bit hash and line number per parsed record: 16 bytes, for FT501.
        self.hashes = array("q")
        self.hash_lines = array("q")
        self.crlf = 0
        self.first_crlf = 0
        self.no_join_until = 0  # lines up to this one were read ahead in vain: no new read-ahead
        self.checks = [r for r in record_checks() if selected(r.code)]
        self.clean = _CleanCheck(self.data)

    def add(self, line: int | None, code: str, pointer: str, message: str) -> bool:
        """Record a finding; True when it is a selected error (so the record is not valid)."""
        if not self.selected(code):
            return False
        self.found.append((line, pointer, code, message))
        return self.severity.get(code, "error") == "error"

    def run(self) -> tuple[FileSummary, list[Violation]]:
        if self.path.suffix not in self.data.extensions:
            self.add(None, "FT001", "", f"file name ends in {self.path.suffix or '(nothing)'!r}, expected {' or '.join(self.data.extensions)}")
        try:
            with open(self.path, "rb") as stream:
                head = stream.read(8192)
                sniffed = sniff(head)
                if sniffed:
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
        cut = _halfway_newline(stream, size) if self.jobs > 1 and size >= _PARALLEL_FROM and hasattr(os, "fork") else 0
        if not cut:
            stream.seek(0)
            self._scan(iter_lines(stream, self.data.max_line_bytes))
            return
        child = _fork(lambda: self._scan_part(cut, size))
        stream.seek(0)
        self._scan(iter_lines(stream, self.data.max_line_bytes, cut))
        self._merge(child())

    def _scan_part(self, start: int, end: int) -> tuple[Any, ...]:
        """Run in the child: scan bytes [start, end) and return what the parent merges."""
        with open(self.path, "rb") as stream:
            first_line, remaining = 0, start
            while remaining and (block := stream.read(min(1 << 22, remaining))):
                first_line += block.count(b"\n")
                remaining -= len(block)
            self._scan(iter_lines(stream, self.data.max_line_bytes, end - start), first_line)
        collected = self.collector.export() if self.collector is not None else None
        return (self.found, self.records, self.invalid, self.hashes.tobytes(), self.hash_lines.tobytes(), self.crlf, self.first_crlf, collected)

    def _merge(self, part: tuple[Any, ...]) -> None:
        found, records, invalid, hashes, hash_lines, crlf, first_crlf, collected = part
        if self.collector is not None:
            self.collector.merge(collected)
        self.found.extend(found)
        self.records += records
        self.invalid += invalid
        self.hashes.frombytes(hashes)
        self.hash_lines.frombytes(hash_lines)
        self.crlf += crlf
        self.first_crlf = min(x for x in (self.first_crlf, first_crlf) if x) if (self.first_crlf or first_crlf) else 0

    def _scan(self, lines: Iterator[bytes | int], first_line: int = 0) -> None:
        loads, decode_error, clean = orjson.loads, orjson.JSONDecodeError, self.clean
        hashes, hash_lines = self.hashes, self.hash_lines
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
                        hashes.append(hash(line))
                        hash_lines.append(n)
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
        if parsed.ok:
            for rule in self.checks:
                for pointer, message in rule.check(parsed.value, self.data):  # type: ignore[misc]
                    error |= self.add(n, rule.code, pointer, message)
            self.hashes.append(hash(line))
            self.hash_lines.append(n)
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
        """Read ahead for the rest of a pretty-printed record: (the record, lines read).

        Linear, whatever the input: one parse attempt, when the brackets opened on the first line
        are closed again; and lines read ahead in vain never start a read-ahead themselves.
        """
        taken: list[bytes | int] = []
        parts, size, depth = [text], len(text), _depth(text)
        for nxt in source:
            taken.append(nxt)
            if type(nxt) is int or len(taken) > _MAX_JOIN_LINES:
                break
            try:
                piece = nxt.rstrip(b"\r").decode("utf-8")
            except UnicodeDecodeError:
                break
            if piece[:1] == "{" and piece.rstrip()[-1:] == "}" and _is_record(piece):
                break  # a whole record of its own follows: the first line was cut short
            parts.append(piece)
            size += len(piece)
            depth += _depth(piece)
            if size > _MAX_JOIN_CHARS:
                break
            if depth <= 0:
                parsed = parse_text("\n".join(parts))
                if parsed.ok:
                    last = n + len(taken)
                    parsed.findings.insert(0, ("FT008", "", f"one JSON record is spread over lines {n}-{last}; write each record on a single line (json.dumps without indent)"))
                    return parsed, taken
                break
        self.no_join_until = n + len(taken)
        return None, taken

    def _file_level(self) -> None:
        if self.records == 0:
            self.add(None, "FT002", "", "the file holds no records; expected one JSON object per line")
        elif self.records < self.data.min_records:
            self.add(None, "FT502", "", f"only {self.records} record{'s' if self.records != 1 else ''}; fewer than {self.data.min_records} examples rarely teach a model anything")
        if self.crlf:
            self.add(self.first_crlf, "FT015", "", f"{self.crlf:,} line{'s end' if self.crlf != 1 else ' ends'} with CRLF (Windows line ends), the first at line {self.first_crlf}")
        for line, first in find_duplicates(self.hashes, self.hash_lines):
            self.add(line, "FT501", "", f"this record is identical to line {first}; drop the copy")

    def _finish(self) -> tuple[FileSummary, list[Violation]]:
        path = str(self.path)
        self.found.sort(key=lambda f: (f[0] or 0, f[2], f[1]))
        violations = [
            Violation(path=path, line=line, pointer=pointer, code=code, name=RULES[code].name, severity=self.severity.get(code, "error"), message=message)
            for line, pointer, code, message in self.found
        ]
        summary = FileSummary(path=path, records=self.records, valid_records=self.records - self.invalid)
        return summary, violations


def expand_paths(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files as given; a directory stands for the ``*.jsonl`` files below it."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
            if not found:
                raise ValidationError(f"{path} is a directory with no .jsonl files")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise ValidationError(f"{path}: no such file")
    return out


def run_scan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    profile: Profile,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    jobs: int = 1,
    collector: Callable[[], Any] | None = None,
) -> Report:
    """Validate files; ``collector()`` (if given) makes one record collector per file."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    all_rules()  # register every rule before the first lookup
    selected = Selector(select, ignore)
    files, violations = [], []
    for path in expand_paths(paths):
        summary, found = FileScan(path, profile, selected, jobs, collector() if collector else None).run()
        files.append(summary)
        violations.extend(found)
    return Report.build(profile.name, files, violations)


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
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    if not tokens:
        return run_scan(paths, prof, select, ignore, jobs)
    from ftkit.table import build_table, length_violations

    table = build_table(paths, prof, model=model, max_tokens=max_tokens, jobs=jobs, select=tuple(select), ignore=tuple(ignore))
    extra = [v for v in length_violations(table) if Selector(select, ignore)(v.code)]
    order = {path: i for i, path in enumerate(table.paths)}
    found = sorted([*table.report.violations, *extra], key=lambda v: (order[v.path], v.line or 0, v.code, v.pointer))
    return Report.build(prof.name, table.report.files, found)
