"""Repair a JSONL file with documented, safe fixes, each tied to the rule code it repairs.

Always applied
  FT004 utf8-bom            the byte-order mark before line 1 is removed
  FT005 blank-line          blank lines are dropped
  FT015 crlf-line-ends      the CR before a line's LF is removed
  FT008 record-spans-lines  a pretty-printed record is joined onto one line
  FT109 role-invalid        a role in the wrong case, with spaces, or a known alias (the profile's
                            ``data.role_aliases``: human -> user, gpt/bot/model -> assistant) is
                            replaced by the role meant; the same lookup as validate's hint
On request (``FixOptions``)
  FT203 turns-not-alternating  ``merge_consecutive``: two user (or two assistant) messages in a
                               row, each with only role and content, become one message whose
                               content is the two joined by a blank line ("\\n\\n")
  FT204 ends-without-reply     ``drop_unpaired_user``: a final user message right after an
                               assistant reply is dropped
  FT111 / FT112                ``remove_unknown_keys``: record and message keys the profile does
                               not list are removed (a top-level "system" string is lost with them)

Nothing else is guessed at: a record that still has an error-level finding after these fixes is
written to the rejects file, as it was read. Every input record is in exactly one of the output
and the rejects file (blank lines are not records).

Files
  OUT       one record per line, LF line ends. A record no fix touched is written byte for byte
            as read (only a BOM and the CR line end are gone). A fixed record is re-serialised
            with ``json.dumps`` in the input line's own style when compact or ", "/": "
            separators, with or without ``ensure_ascii``, reproduce the line; otherwise with
            ", "/": " and characters as they are (``ensure_ascii=False``).
  REJECTS   default ``OUT-stem.rejects.jsonl``, always written (empty when nothing is rejected).
            One JSON object per rejected record, the shape of ``ftkit split``'s rejected.jsonl:
            ``{"line", "reasons", "text"}`` (+ ``"end_line"`` for a record over several lines;
            ``"base64"`` instead of ``"text"`` for bytes that are not UTF-8; ``"omitted_bytes"``
            and no text for a line longer than the profile's max_line_bytes).
  CHANGES   default ``OUT-stem.changes.json``, always written: a JSON array of
            ``{"line", "code", "action", "pointer"}`` in line order. File-level changes (FT004,
            FT005, FT015) are logged for every line; record changes only for records written
            to OUT (a rejected record is in REJECTS as it was read).

The input is streamed (memory does not grow with the file); outputs are written atomically and
never over an existing file unless ``force``. ``in_place`` first copies PATH to PATH.bak (refused
when PATH.bak exists) and then replaces PATH.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, deque
from pathlib import Path
from typing import IO, BinaryIO

import orjson
from pydantic import BaseModel, Field

from ftkit.scan.fastpath import CleanCheck
from ftkit.outputs import atomic_write
from ftkit.policy.profile import Profile, as_profile
from ftkit.scan.reader import UTF8_BOM, Parsed, iter_lines, parse_text, read_rest, sniff
from ftkit.repair.record_fixes import FixOptions, fix_record, serialise
from ftkit.repair.rejects import RejectsFile, kept, reason
from ftkit.repair.common import Finding, OutputCheck, RepairError, beside, check_output, check_paths, record_errors

class FixError(RepairError):
    """The fix cannot start or finish: bad paths, outputs in the way, a file that is not JSONL."""


class FixResult(BaseModel):
    """What ``fix_file`` returns; the CLI's JSON output."""

    input: str
    output: str
    rejects: str
    changes: str
    backup: str | None = Field(description="with in_place: where the original is kept")
    records: int = Field(description="input records (non-blank lines; a pretty-printed record counts once)")
    written: int
    rewritten: int = Field(description="records written re-serialised because a fix changed them")
    rejected: int
    blank_lines: int
    fixed: int = Field(description="records written with at least one change (a BOM or CR removed counts)")
    fixed_by_code: dict[str, int] = Field(description="records written with a change of this rule code")
    changes_by_code: dict[str, int] = Field(description="logged changes per rule code (blank lines dropped included)")
    rejected_by_code: dict[str, int] = Field(description="rejected records per rule code of their errors")
    output_check: OutputCheck


class _ChangeLog:
    """The CHANGES file: a JSON array written entry by entry, so it never has to fit in memory."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.by_code: Counter[str] = Counter()

    def add(self, line: int, code: str, action: str, where: str = "") -> None:
        entry = json.dumps({"line": line, "code": code, "action": action, "pointer": where}, ensure_ascii=False)
        self.stream.write((b",\n  " if self.by_code else b"[\n  ") + entry.encode("utf-8"))
        self.by_code[code] += 1

    def close(self) -> None:
        self.stream.write(b"\n]\n" if self.by_code else b"[]\n")


class _Lines:
    """Numbered physical lines; lines read ahead in vain can be given back."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int) -> None:
        self._lines = iter_lines(stream, max_line_bytes)
        self._back: deque[bytes | int] = deque()
        self.n = 0

    def next(self) -> bytes | int | None:
        item = self._back.popleft() if self._back else next(self._lines, None)
        if item is not None:
            self.n += 1
        return item

    def give_back(self, items: list[bytes | int]) -> None:
        self._back.extendleft(reversed(items))
        self.n -= len(items)


class _Fixer:
    def __init__(self, profile: Profile, options: FixOptions, out: IO[bytes], rejects: IO[bytes], log: IO[bytes]) -> None:
        self.profile, self.data, self.options = profile, profile.data, options
        self.clean = CleanCheck(profile.data)
        self.out, self.rejects, self.log = out, RejectsFile(rejects), _ChangeLog(log)
        self.records = self.written = self.rewritten = self.blank = 0
        self.rejected_by_code: Counter[str] = Counter()
        self.fixed_by_code: Counter[str] = Counter()
        self.fixed = 0
        self.no_join_until = 0  # lines read ahead in vain never start a read-ahead themselves

    def run(self, stream: BinaryIO) -> None:
        lines = _Lines(stream, self.data.max_line_bytes)
        while (raw := lines.next()) is not None:
            n = lines.n
            if type(raw) is int:
                self.records += 1
                message = f"line is {raw:,} bytes, longer than the {self.data.max_line_bytes:,}-byte limit; is the file missing newlines?"
                self._reject(n, n, [("FT013", "", message)], raw)
                continue
            line, changes = self._line_end(n, raw)  # type: ignore[arg-type]
            if not line or (line[0] in b" \t\x0b\x0c" and not line.strip()):
                self.blank += 1
                self._log(changes + [(n, "FT005", "", "dropped the blank line")])
                continue
            self.records += 1
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                pass
            else:
                if self.clean(obj, line):
                    self._log(changes, written=True)
                    self._write(line)
                    continue
            self._careful(n, line, changes, lines)
        self.log.close()

    def _line_end(self, n: int, raw: bytes) -> tuple[bytes, list[tuple[int, str, str, str]]]:
        changes = []
        if raw[-1:] == b"\r":
            raw = raw[:-1]
            changes.append((n, "FT015", "", "CRLF line end -> LF"))
        if n == 1 and raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM):]
            changes.append((n, "FT004", "", "removed the UTF-8 byte-order mark"))
        return raw, changes

    def _careful(self, n: int, line: bytes, changes: list[tuple[int, str, str, str]], lines: _Lines) -> None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._log(changes)
            message = f"invalid UTF-8 at byte {exc.start + 1} of the line ({line[exc.start:exc.start + 1]!r}); re-save the file as UTF-8"
            self._reject(n, n, [("FT003", "", message)], line)
            return
        parsed, texts = parse_text(text), [text]
        if parsed.incomplete and n > self.no_join_until:
            joined, taken, more = self._join(text, lines)
            if joined is None:
                lines.give_back(taken)
                self.no_join_until = n + len(taken)
            else:
                parsed, texts = joined, texts + more
                changes += [(n + k + 1, "FT015", "", "CRLF line end -> LF") for k, t in enumerate(taken) if t[-1:] == b"\r"]  # type: ignore[index]
        last = n + len(texts) - 1
        errors = [f for f in parsed.findings if self._is_error(f[0])]
        if errors or not parsed.ok:
            self._log(changes)
            self._reject(n, last, errors or parsed.findings, "\n".join(texts))
            return
        fixed, fixes = fix_record(parsed.value, self.data, self.options)
        errors = record_errors(fixed, self.profile)
        if errors:
            self._log(changes)
            self._reject(n, last, errors, "\n".join(texts))
            return
        if last > n:
            fixes.insert(0, ("FT008", "", f"joined lines {n}-{last} into one line"))
        self._log(sorted(changes + [(n, code, where, action) for code, where, action in fixes], key=lambda c: c[0]), written=True)
        if fixes:
            self.rewritten += 1
            self._write(serialise(fixed, parsed.value, text if last == n else None))
        else:
            self._write(line)

    def _join(self, text: str, lines: _Lines) -> tuple[Parsed | None, list[bytes | int], list[str]]:
        """Read ahead for the rest of a pretty-printed record: (the record, lines read, their text)."""
        found = read_rest(text, iter(lines.next, None))
        return found.parsed, found.taken, found.pieces

    def _is_error(self, code: str) -> bool:
        return self.profile.severity.get(code, "error") == "error"

    def _log(self, changes: list[tuple[int, str, str, str]], written: bool = False) -> None:
        """Log changes; ``written``: they are those of one record written to the output."""
        for line, code, where, action in changes:
            self.log.add(line, code, action, where)
        if written and changes:
            self.fixed += 1
            self.fixed_by_code.update({c[1] for c in changes})

    def _write(self, line: bytes) -> None:
        self.out.write(line + b"\n")
        self.written += 1

    def _reject(self, n: int, last: int, found: list[Finding], line: bytes | str | int) -> None:
        """``line``: the text of the record as read, its bytes when not UTF-8, or the length of an over-long line."""
        self.rejects.add({"line": n}, [reason(*f) for f in found], ({"end_line": last} if last > n else {}) | kept(line))
        self.rejected_by_code.update({code for code, _, _ in found})


def fix_file(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    rejects: str | os.PathLike[str] | None = None,
    changes: str | os.PathLike[str] | None = None,
    options: FixOptions | None = None,
    in_place: bool = False,
    force: bool = False,
    profile: str | Profile = "siliconflow",
) -> FixResult:
    """Fix ``path`` into ``output`` (see the module docstring), then validate the output.

    Raises ``FixError`` when it cannot start or finish (nothing is left half-written) and
    ``ftkit.profile.ProfileError`` for an unknown profile. Never prints, never exits.
    """
    prof = as_profile(profile)
    src = Path(path)
    if in_place == (output is not None):
        raise FixError("give an output file (-o OUT) or --in-place (which keeps the original as PATH.bak), not both" if in_place
                       else "no output file: give -o OUT, or --in-place to replace the file and keep the original as PATH.bak")
    out = src if in_place else Path(output)  # type: ignore[arg-type]
    rej = Path(rejects) if rejects else beside(out, ".rejects.jsonl")
    log = Path(changes) if changes else beside(out, ".changes.json")
    backup = Path(f"{src}.bak") if in_place else None
    check_paths(src, None if in_place else out, [rej, log], prof.data, force, FixError)
    if in_place and out.suffix not in prof.data.extensions:
        raise FixError(f"{src} must end in {' or '.join(prof.data.extensions)} to be fixed in place; use -o OUT.jsonl")
    _refuse_whole_file(src)
    if backup is not None:
        _make_backup(src, backup)
    try:
        with open(backup or src, "rb") as stream, atomic_write(out) as o, atomic_write(rej) as r, atomic_write(log) as c:
            fixer = _Fixer(prof, options or FixOptions(), o, r, c)
            fixer.run(stream)
    except OSError as exc:
        if backup is not None:
            backup.unlink(missing_ok=True)  # the input was not replaced: the backup is not needed
        raise FixError(f"cannot fix {src} into {out}: {exc.strerror or exc}") from None
    if backup is not None:
        shutil.copymode(backup, out)
    return FixResult(
        input=str(src), output=str(out), rejects=str(rej), changes=str(log), backup=str(backup) if backup else None,
        records=fixer.records, written=fixer.written, rewritten=fixer.rewritten, rejected=fixer.rejects.count,
        blank_lines=fixer.blank, fixed=fixer.fixed, fixed_by_code=dict(sorted(fixer.fixed_by_code.items())), changes_by_code=dict(sorted(fixer.log.by_code.items())),
        rejected_by_code=dict(sorted(fixer.rejected_by_code.items())), output_check=check_output(out, prof),
    )


def _refuse_whole_file(src: Path) -> None:
    """Files that are not JSON Lines text at all: nothing line by line can repair them."""
    try:
        with open(src, "rb") as stream:
            found = sniff(stream.read(8192))
    except OSError as exc:
        raise FixError(f"cannot read {src}: {exc.strerror or exc}") from None
    if found:
        raise FixError(f"{src}: {found[0]} {found[2]}")


def _make_backup(src: Path, backup: Path) -> None:
    try:
        with open(src, "rb") as stream, open(backup, "xb") as copy:
            shutil.copyfileobj(stream, copy, 1 << 20)
            copy.flush()
            os.fsync(copy.fileno())
        shutil.copymode(src, backup)
    except FileExistsError:
        raise FixError(f"{backup} already exists; --in-place keeps the original there and never replaces a backup: move it away first") from None
    except OSError as exc:
        backup.unlink(missing_ok=True)
        raise FixError(f"cannot back up {src} to {backup}: {exc.strerror or exc}") from None

