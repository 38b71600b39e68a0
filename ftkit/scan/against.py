"""FT503: records that the validated files share with another file (``validate --against``).

For users who split elsewhere: ``ftkit validate train.jsonl --against validation.jsonl`` warns
once per record of train.jsonl that is also in validation.jsonl, naming both lines. "The same
record" means the same canonical JSON (sorted keys, no whitespace), as for ``ftkit split``: key
order, spacing and a trailing ``\\r`` do not hide a copy. The other file is read by the same
reader, with the same file checks: one that is not JSON Lines text, or holds no record, is a
usage error rather than a silent "nothing shared".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ftkit.checks import Selector
from ftkit.errors import InputError
from ftkit.findings import Finding
from ftkit.policy.profile import Profile
from ftkit.scan.inputs import Input, describe_os_error
from ftkit.scan.reader import HEAD_BYTES, Reader, sniff
from ftkit.tokens.table import canonical, stable_hash

CODE = "FT503"


def records(item: Input, max_line_bytes: int, strict: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) for every record that is a JSON object; ``strict``: a file that is not JSON
    Lines text is a usage error (the other side of ``--against``), else it has no records."""
    try:
        with open(item.path, "rb") as stream:
            found = sniff(stream.read(HEAD_BYTES))
            if found is not None:
                if strict:
                    raise InputError(f"--against {item.name}: {found.code} {found.message}")
                return
            stream.seek(0)
            for line, _, _, value, _ in Reader(stream, max_line_bytes):
                if isinstance(value, dict):  # BLANK and UNPARSED are not
                    yield line, value
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {describe_os_error(exc)}") from None


def _record_hashes(item: Input, max_line_bytes: int, strict: bool = False) -> Iterator[tuple[int, int]]:
    """(line, hash of the canonical JSON) for every record that is a JSON object."""
    for line, value in records(item, max_line_bytes, strict):
        yield line, stable_hash(canonical(value))


def shared_records(inputs: Sequence[Input], against: Input, profile: Profile, selected: Selector) -> dict[str, list[Finding]]:
    """FT503 findings, by input name, for each record of ``inputs`` that is also in ``against``."""
    if not selected(CODE):
        return {}
    check_distinct(inputs, against)
    first: dict[int, int] = {}
    copies: dict[int, int] = {}
    for n, h in _record_hashes(against, profile.data.max_line_bytes, strict=True):
        if first.setdefault(h, n) != n:
            copies[h] = copies.get(h, 1) + 1
    if not first:
        raise InputError(f"--against {against.name} holds no records to compare with")
    found: dict[str, list[Finding]] = {}
    for item in inputs:
        for n, h in _record_hashes(item, profile.data.max_line_bytes):
            line = first.get(h)
            if line is None:
                continue
            more = copies.get(h, 1) - 1
            also = f" (and {more} more time{'s' if more != 1 else ''} there)" if more else ""
            message = (f"this record is also in {against.name}:{line}{also}; a record on both sides makes validation loss look "
                       "better than it is: keep it in one file")  # fmt: skip
            found.setdefault(item.name, []).append(Finding(n, CODE, "", message))
    return found


def check_distinct(inputs: Sequence[Input], against: Input) -> None:
    if any(_same(item, against) for item in inputs):
        raise InputError(f"--against {against.name} is also one of the files being validated; compare two different files")


def _same(a: Input, b: Input) -> bool:
    try:
        return a.path.resolve() == b.path.resolve() or a.path.samefile(b.path)
    except OSError:
        return False
