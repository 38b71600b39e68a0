"""The JSON-array paths of ``ftkit.scan.engine.FileScan``: a file that is one JSON array of
records, and a line that is one (``json.dump(records)``). Each element is checked as a record,
at the line it starts on, with pointers that start with its index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO

from ftkit.findings import Finding
from ftkit.scan.arrays import ArrayError, array_spans
from ftkit.scan.fastpath import CAREFUL
from ftkit.scan.parse import parse_text
from ftkit.scan.reader import UNPARSED, UTF8_BOM

if TYPE_CHECKING:
    from ftkit.scan.fastpath import CleanCheck

#: An accepted record waiting in the scan's batch (``FileScan._flush``): line, raw, value,
#: verdict, pointer prefix, whether ``raw`` is the record's line(s) of the file, and its contents
#: as the fast path listed them (None: not listed).
Pending = tuple[int, bytes, Any, int, str, bool, "list[str] | None"]


class ArrayScan:
    """Mixed into ``FileScan``, which provides the state and the record paths declared here."""

    if TYPE_CHECKING:
        records: int
        invalid: int
        json_array: bool
        has_bom: bool
        sniffed: bool
        spans: dict[int, int]
        counter: Any
        collector: Any
        clean: CleanCheck
        pending: list[Pending]

        def add(self, finding: Finding) -> bool: ...
        def _accepted(self, line: int, raw: bytes, value: Any, seen: int, prefix: str = "", located: bool = True,
                      texts: list[str] | None = None) -> None: ...  # fmt: skip
        def _check(self, line: int, raw: bytes | int, value: Any, problems: list[Finding], prefix: str = "") -> None: ...
        def _flush(self) -> None: ...

    def _scan_array(self, stream: BinaryIO) -> None:
        """A JSON array file: every element is checked as a record (loaded whole, like convert)."""
        self.json_array = True
        stream.seek(0)
        data = stream.read()
        if self.counter is not None:
            self.counter.add(len(data))
        self.has_bom = data.startswith(UTF8_BOM)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.sniffed = True  # no record can be told apart: no FT002 on top
            self.add(Finding(line, "FT003", "", f"invalid UTF-8 at byte {exc.start + 1:,} of the file; re-save the file as UTF-8"))
            return
        del data
        import orjson

        verdict = self.clean.verdict
        try:
            for index, line, source in array_spans(text):
                self.records += 1
                if "\n" in source:
                    self.spans[line] = line + source.count("\n")
                raw = source.encode("utf-8", "surrogatepass")
                try:  # the fast path, as for a line: orjson, then the one clean-record test
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    value = UNPARSED
                prefix = f"/{index}"
                seen = verdict(value, raw) if value is not UNPARSED else CAREFUL
                if seen:
                    # an element: not re-readable by line
                    self._accepted(line, raw, value, seen, prefix, located=False, texts=self.clean.texts)
                    continue
                parsed = parse_text(source)
                problems = [f._replace(line=line, pointer=prefix + f.pointer) for f in parsed.findings]
                self._check(line, raw, parsed.value if parsed.ok else UNPARSED, problems, prefix)
            if self.pending:
                self._flush()
        except ArrayError as exc:
            if self.pending:  # the elements before the break are records like any others
                self._flush()
            self.records += 1
            self.invalid += 1
            message = f"the JSON array breaks at line {exc.line:,} column {exc.column:,}: {exc}; no record from there on can be read"
            self.add(Finding(exc.line, "FT006", "", message))
            if self.collector is not None:
                self.collector.reject(exc.line)

    def _line_array(self, line: int, value: list[Any], problems: list[Finding]) -> None:
        """``json.dump(records)``: a JSON array of records on one line; each element is a record."""
        import orjson

        self.json_array = True
        message = f"the line is a JSON array of {len(value):,} records, not one record; `ftkit convert` writes it as JSON Lines"
        self.add(Finding(line, "FT017", "", message))
        self.records += len(value) - 1  # the line was counted as one record
        for index, element in enumerate(value):
            prefix = f"/{index}"
            own = [f for f in problems if f.pointer == prefix or f.pointer.startswith(prefix + "/")]
            try:
                raw = orjson.dumps(element)
            except TypeError:  # a value orjson does not write (a huge integer): its own findings say why
                raw = repr(element).encode("utf-8", "surrogatepass")
            self._check(line, raw, element, own, prefix)
