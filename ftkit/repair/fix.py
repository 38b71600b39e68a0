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
                               not list are removed; a top-level "system" string (Anthropic,
                               Bedrock/Nova) is moved into a first system message, never lost
  FT601-FT606                  ``redact``: each email address, phone number, identity number,
                               card number, public IP address or secret of the kinds asked for is
                               replaced by its placeholder (<EMAIL>, <PHONE>, <ID_NUMBER>, <CARD>,
                               <IP>, <SECRET>; ``rules/privacy.toml``)

Nothing else is guessed at: a record that still has an error-level finding after these fixes is
written to the rejects file, as it was read. Every input record is in exactly one of the output
and the rejects file (blank lines are not records).

Files
  OUT       one record per line, LF line ends. A record no fix touched is written byte for byte
            as read (only a BOM and the CR line end are gone). A fixed record is re-serialised
            with ``json.dumps`` in the input line's own style when compact or ", "/": "
            separators, with or without ``ensure_ascii``, reproduce the line; otherwise with
            ", "/": " and characters as they are (``ensure_ascii=False``). A record whose only
            change is a redaction keeps every other byte of its line: only the content strings
            that held a match are written anew (when json.dumps reproduces them as they were
            written; otherwise the whole record is re-serialised as above).
  REJECTS   default ``OUT-stem.rejects.jsonl``, always written (empty when nothing is rejected).
            One JSON object per rejected record, the shape of ``ftkit split``'s rejected.jsonl:
            ``{"line", "reasons", "text"}`` (+ ``"end_line"`` for a record over several lines;
            ``"base64"`` instead of ``"text"`` for bytes that are not UTF-8; ``"omitted_bytes"``
            and no text for a line longer than the profile's max_line_bytes).
  CHANGES   default ``OUT-stem.changes.json``, always written: a JSON array of
            ``{"line", "code", "action", "pointer"}`` in line order; a redaction adds ``"kind"``,
            ``"start"`` and ``"end"`` (0-based character offsets in the content as read, end
            excluded) and never holds the value. File-level changes (FT004, FT005, FT015) are
            logged for every line; record changes only for records written to OUT (a rejected
            record is in REJECTS as it was read, not redacted).

The input is streamed (memory does not grow with the file); outputs are written atomically and
never over an existing file unless ``force``. ``in_place`` first copies PATH to PATH.bak (refused
when PATH.bak exists) and then replaces PATH. Records are read by the one reader
(``ftkit.scan.reader``), so fix and validate agree on what a record is.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from ftkit.checks import Selector
from ftkit.checks.prefilter import Prefilter
from ftkit.checks.privacy import PRIVACY_CODES, privacy_kinds
from ftkit.errors import DataError, InputError, OutputError, OutputExists
from ftkit.findings import Finding
from ftkit.outputs import RejectsFile, atomic_outputs, kept, reason
from ftkit.policy.profile import Profile
from ftkit.repair.common import OutputCheck, beside, check_output, check_paths, record_errors
from ftkit.repair.record_fixes import Change as RecordChange
from ftkit.repair.record_fixes import FixOptions, fix_record, serialise, splice_contents
from ftkit.scan.fastpath import CleanCheck
from ftkit.scan.inputs import Input, describe_os_error
from ftkit.scan.reader import BLANK, HEAD_BYTES, UNPARSED, Reader, careful, sniff

Change = tuple[int, str, str, str, "Mapping[str, Any] | None"]  # (line, code, pointer, action, more keys) as logged


class FixResult(BaseModel):
    """What ``ftkit.fix`` returns; the CLI's JSON output."""

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

    def add(self, line: int, code: str, action: str, where: str = "", extra: Mapping[str, Any] | None = None) -> None:
        entry = json.dumps({"line": line, "code": code, "action": action, "pointer": where, **(extra or {})}, ensure_ascii=False)
        self.stream.write((b",\n  " if self.by_code else b"[\n  ") + entry.encode("utf-8", "backslashreplace"))
        self.by_code[code] += 1

    def close(self) -> None:
        self.stream.write(b"\n]\n" if self.by_code else b"[]\n")


class _Fixer:
    def __init__(
        self, profile: Profile, selected: Selector, options: FixOptions, out: IO[bytes], rejects: IO[bytes], log: IO[bytes]
    ) -> None:
        self.profile, self.data, self.options, self.selected = profile, profile.data, options, selected
        # Records the redaction may change, and records a privacy rule would reject, must not be
        # copied by the fast path: its prefilter sends them to the careful path.
        kinds = set(options.redact) | set(privacy_kinds(profile, selected, False))
        self.clean = CleanCheck(profile.data, Prefilter(kinds) if kinds else None)
        self.out, self.rejects, self.log = out, RejectsFile(rejects), _ChangeLog(log)
        self.records = self.written = self.rewritten = self.blank = 0
        self.rejected_by_code: Counter[str] = Counter()
        self.fixed_by_code: Counter[str] = Counter()
        self.fixed = 0

    def run(self, stream: IO[bytes], counter: Any = None) -> None:
        reader = Reader(stream, self.data.max_line_bytes, counter=counter, track_cr=True)
        cr_lines = reader.cr_lines
        seen_cr = 0
        for line, end, raw, value, problems in reader:
            changes: list[Change] = []
            if line == 1 and reader.has_bom:
                changes.append((1, "FT004", "", "removed the UTF-8 byte-order mark", None))
            while seen_cr < len(cr_lines) and cr_lines[seen_cr] <= end:
                changes.append((cr_lines[seen_cr], "FT015", "", "CRLF line end -> LF", None))
                seen_cr += 1
            if value is BLANK:
                self.blank += 1
                self._log([*changes, (line, "FT005", "", "dropped the blank line", None)])
                continue
            self.records += 1
            if problems is None:
                if self.clean(value, raw):  # type: ignore[arg-type]  # a fast-parsed item's raw is bytes
                    self._log(changes, written=True)
                    self._write(raw)  # type: ignore[arg-type]  # fast-parsed: bytes
                    continue
                parsed = careful(raw)  # type: ignore[arg-type]  # a fast-parsed item's raw is bytes
                value = parsed.value if parsed.ok else UNPARSED
                problems = [f._replace(line=line) for f in parsed.findings]
            self._careful(line, end, raw, value, problems, changes)
        self.log.close()

    def _careful(self, n: int, last: int, raw: bytes | int, value: Any, problems: list[Finding], changes: list[Change]) -> None:
        # FT008 (a record over several lines) is what fix repairs, not a reason to reject
        errors = [f for f in problems if f.code != "FT008" and self._is_error(f.code)]
        if errors or value is UNPARSED:
            self._log(changes)
            self._reject(n, last, errors or problems, raw)
            return
        fixed, fixes = fix_record(value, self.data, self.options)
        errors = record_errors(fixed, self.profile, self.selected)
        rewrite = bool(fixes) or last > n
        line: bytes = raw  # type: ignore[assignment]  # a parsed record's raw is bytes
        spliced = splice_contents(raw, value, fixed) if fixes and last == n and all(c.code in PRIVACY_CODES for c in fixes) else None  # type: ignore[arg-type]  # a parsed record's raw is bytes
        if spliced is not None and not errors:
            line = spliced  # only redactions: every byte but the redacted content strings kept
        elif rewrite and not errors:
            try:
                line = serialise(fixed, value, raw.decode("utf-8") if last == n else None)  # type: ignore[union-attr]  # a parsed record's raw is bytes
            except (ValueError, TypeError):  # NaN, Infinity or a huge integer kept because its rule is not an error
                errors = [
                    Finding(
                        n, "FT009", "", "the record holds a number JSON cannot write back exactly (NaN, Infinity or an over-long integer)"
                    )
                ]
        if errors:
            self._log(changes)
            self._reject(n, last, errors, raw)
            return
        if last > n:
            fixes.insert(0, RecordChange("FT008", "", f"joined lines {n}-{last} into one line"))
        self._log(sorted([*changes, *((n, *fix) for fix in fixes)], key=lambda c: c[0]), written=True)
        if rewrite:
            self.rewritten += 1
        self._write(line)

    def _is_error(self, code: str) -> bool:
        return self.selected(code) and self.profile.severity.get(code, "error") == "error"

    def _log(self, changes: list[Change], written: bool = False) -> None:
        """Log changes; ``written``: they are those of one record written to the output."""
        for line, code, where, action, extra in changes:
            self.log.add(line, code, action, where, extra)
        if written and changes:
            self.fixed += 1
            self.fixed_by_code.update({c[1] for c in changes})

    def _write(self, line: bytes) -> None:
        self.out.write(line + b"\n")
        self.written += 1

    def _reject(self, n: int, last: int, found: list[Finding], raw: bytes | int) -> None:
        """``raw``: the record's bytes as read, or the length of an over-long line."""
        self.rejects.add(
            {"line": n}, [reason(f.code, f.pointer, f.message) for f in found], ({"end_line": last} if last > n else {}) | kept(raw)
        )
        self.rejected_by_code.update({f.code for f in found})


def fix_file(
    item: Input,
    output: Path | None,
    profile: Profile,
    selected: Selector,
    *,
    rejects: Path | None = None,
    changes: Path | None = None,
    options: FixOptions | None = None,
    in_place: bool = False,
    force: bool = False,
    counter: Any = None,
) -> FixResult:
    """Fix one input into ``output`` (see the module docstring), then validate the output.

    Raises an ``FtkitError`` when it cannot start or finish (nothing is left half-written).
    Never prints, never exits.
    """
    if in_place == (output is not None):
        raise OutputError(
            "give an output file (-o OUT) or --in-place (which keeps the original as PATH.bak), not both"
            if in_place
            else "no output file: give -o OUT, or --in-place to replace the file and keep the original as PATH.bak"
        )
    if in_place and item.copied:
        raise InputError(f"{item.name} is a stream; --in-place needs a file: give -o OUT")
    out = item.path if in_place else output
    assert out is not None
    rej = rejects or beside(out, ".rejects.jsonl")
    log = changes or beside(out, ".changes.json")
    backup = Path(f"{item.path}.bak") if in_place else None
    check_paths(item, None if in_place else out, [rej, log], profile.data, force)
    if in_place and out.suffix not in profile.data.extensions:
        raise OutputError(f"{item.name} must end in {' or '.join(profile.data.extensions)} to be fixed in place; use -o OUT.jsonl")
    _refuse_whole_file(item)
    if backup is not None:
        _make_backup(item.path, backup)
    try:
        with (
            open(backup or item.path, "rb") as stream,
            atomic_outputs([out, rej, log], like=item.path, force=[force or in_place, force, force]) as (o, r, c),
        ):
            fixer = _Fixer(profile, selected, options or FixOptions(), o, r, c)
            fixer.run(stream, counter)
            if fixer.records == 0:
                raise DataError(f"{item.name}: FT002 the file holds no records; nothing was written")
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None
    except BaseException:
        if backup is not None:
            backup.unlink(missing_ok=True)  # the input was not replaced: the backup is not needed
        raise
    return FixResult(
        input=item.name, output=str(out), rejects=str(rej), changes=str(log), backup=str(backup) if backup else None,
        records=fixer.records, written=fixer.written, rewritten=fixer.rewritten, rejected=fixer.rejects.count,
        blank_lines=fixer.blank, fixed=fixer.fixed, fixed_by_code=dict(sorted(fixer.fixed_by_code.items())),
        changes_by_code=dict(sorted(fixer.log.by_code.items())), rejected_by_code=dict(sorted(fixer.rejected_by_code.items())),
        output_check=check_output(out, profile, selected),
    )  # fmt: skip


def _refuse_whole_file(item: Input) -> None:
    """Files that are not JSON Lines text at all: nothing line by line can repair them."""
    try:
        with open(item.path, "rb") as stream:
            found = sniff(stream.read(HEAD_BYTES))
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None
    if found:
        raise DataError(f"{item.name}: {found.code} {found.message}")


def _make_backup(src: Path, backup: Path) -> None:
    try:
        with open(src, "rb") as stream, open(backup, "xb") as copy:
            shutil.copyfileobj(stream, copy, 1 << 20)
            copy.flush()
            os.fsync(copy.fileno())
        shutil.copymode(src, backup)
    except FileExistsError:
        raise OutputExists(
            f"{backup} already exists; --in-place keeps the original there and never replaces a backup: move it away first"
        ) from None
    except OSError as exc:
        backup.unlink(missing_ok=True)
        raise OutputError(f"cannot back up {src} to {backup}: {exc.strerror or exc}") from None
