"""The per-record token table: one pass over the data builds it; stats, split, recommend, cost
and the report all read it instead of re-reading or re-tokenizing the file.

``TableBuilder`` plugs into the scan as its collector: every record without an error-level
finding is tokenized once; records with errors are only counted. ``frame()`` turns the rows
into a polars DataFrame (columns in ``COLUMNS``). This module knows tokens, not files: the
scan that feeds it is run by ``ftkit.plan.table.build_table``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ftkit.errors import InputError, TokenizerError
from ftkit.tokens.columns import Columns
from ftkit.tokens.data import TokenizerSource
from ftkit.tokens.template import ChatTemplate
from ftkit.tokens.tokenizer import Engine, Tokenizer, building, get_tokenizer

if TYPE_CHECKING:
    import polars as pl

    from ftkit.findings import Scan

#: Column name -> meaning. Token columns count content tokens unless said otherwise.
COLUMNS = {
    "line": "1-based physical line of the record",
    "system": "content tokens of system messages",
    "user": "content tokens of user messages",
    "assistant": "content tokens of assistant messages",
    "total": "templated tokens of the whole record (default system prompt included when applied)",
    "trainable": "assistant content tokens plus each assistant's end token",
    "turns": "assistant messages (user/assistant pairs)",
    # Where the trainable tokens sit in the templated sequence (0-based token positions), so
    # that what a Max Tokens cut leaves can be worked out for any limit: at limit L a reply is
    # cut when reply_end > L and lost entirely when reply_start >= L (right truncation). A
    # record with no assistant message has 0 and 0.
    "reply_start": "position of the first trainable token",
    "reply_end": "position just past the last trainable token",
    "trainable_kept": "trainable tokens training sees at the table's Max Tokens under the profile's truncation",
    "key": "keyed hash of the record's canonical JSON (sorted keys), for split and cross-file checks",
    "system_key": "keyed hash of the first system prompt's text (0: none)",
    "first_user_key": "hash of the first user message text",
    "near_key": "the key of the first record of the record's near-duplicate cluster (FT504), else its own key; only when asked for",
}
_INT_COLUMNS = ("line", "system", "user", "assistant", "total", "trainable", "turns", "system_key",
                "reply_start", "reply_end", "trainable_kept")  # fmt: skip
_KEY_COLUMNS = ("key", "first_user_key")
# Hashes take eight bytes a row (Int64); every other column four (Int32 in the frame, ``line``
# too: a wider copy of it would be the biggest thing stats and split make after the scan). A
# record's tokens are bounded by its bytes, which the reader bounds far below 2**31; totals over
# many records are summed as Int64 (``column_sum``).
_WIDE = frozenset(("system_key", *_KEY_COLUMNS))
# Repeated system prompts are counted once; a bound keeps memory small on odd data.
_CACHE_LIMIT = 4096
#: Columns this long are handed to polars through numpy (a copy-free view, 6x quicker than polars
#: reading the array item by item); shorter ones directly, so a small table never imports numpy
#: (0.05 s of ftkit stats's start-up; stats sorts a short column in polars for the same reason).
NUMPY_FROM_ROWS = 1 << 16


def stable_hash(data: bytes, seed: str = "ftkit") -> int:
    """A 63-bit keyed hash that is the same on every machine and Python version."""
    digest = hashlib.blake2b(data, digest_size=8, key=seed.encode("utf-8")[:64]).digest()
    return int.from_bytes(digest, "big") >> 1


def canonical(record: Any) -> bytes:
    """The record as canonical JSON: sorted keys, no whitespace, UTF-8."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=_as_json)
    except TypeError:  # an integer beyond 64 bits, which orjson does not write
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_text_of)
        return text.encode("utf-8", "surrogatepass")


def _as_json(value: Any) -> Any:
    text = getattr(value, "text", None)  # ftkit.scan.parse.LongInt: the digits as written
    if isinstance(text, str):
        return orjson.Fragment(text.encode("ascii"))
    raise TypeError(type(value).__name__)


def _text_of(value: Any) -> Any:
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    raise TypeError(type(value).__name__)


@dataclass(frozen=True)
class Assumptions:
    """What the token numbers assume; each becomes a sentence only when shown (``lines``)."""

    model: str
    tokenizer: str
    template: str
    message_format: str  # the template's per-message text, e.g. <|im_start|>{role}\n{content}<|im_end|>\n
    trainable_suffix: str
    default_system: bool
    default_system_tokens: int
    max_tokens: int
    source: TokenizerSource  # the tokenizer data counted with (package, version, sha256)
    truncation: str = "right"  # the profile's [tokens] truncation: "right" or "drop"

    def lines(self, *, max_tokens: bool = True) -> list[str]:
        """The assumptions as sentences; ``max_tokens=False`` leaves out the Max Tokens one
        (for callers that state their own)."""
        shown = self.message_format.encode("unicode_escape").decode("ascii")
        out = [
            f"tokenizer: {self.tokenizer} (model {self.model}), counted offline",
            f"chat template: {self.template}; each message is {shown}",
            (f"records without a system message get the template's default system prompt ({self.default_system_tokens} tokens)"
             if self.default_system else "no default system prompt is added to records without one"),
            f"trainable tokens: assistant content plus its {self.trainable_suffix} end token" if self.trainable_suffix
            else "trainable tokens: assistant content",
        ]  # fmt: skip
        if max_tokens:
            out.append(truncation_text(self.truncation, self.max_tokens))
        return out


def truncation_text(truncation: str, limit: int | None = None) -> str:
    """The truncation model as one sentence (``limit``: the Max Tokens it applies to, if one)."""
    lead = f"Max Tokens: {limit}; a longer record" if limit is not None else "a record longer than Max Tokens"
    what = ("is cut at the right: its templated tokens past Max Tokens are not trained on, and a reply that starts "
            "past it is lost" if truncation == "right" else "is left out of training whole")  # fmt: skip
    return f'{lead} {what} (profile [tokens] truncation = "{truncation}"; the platform does not document it)'


class TableBuilder:
    """Collects one row per valid record during the scan (the scan's ``collector``)."""

    def __init__(self, tokenizer: str, template: ChatTemplate, keys: bool = False, seed: str = "ftkit",
                 max_tokens: int | None = None, truncation: str = "right", columns: Sequence[str] | None = None,
                 engine: Engine = "tiktoken", release: Callable[[], None] | None = None) -> None:  # fmt: skip
        self.spec, self.template, self.keys, self.seed, self.engine = tokenizer, template, keys, seed, engine
        self.releases = release  # lets the tokenizer go once the rows are counted (``release``)
        self.columns = tuple(columns) if columns is not None else None  # None: all of them
        # trainable_kept is worked out for this limit (None: no limit, every trainable token kept)
        self.limit, self.drop = max_tokens if max_tokens is not None else sys.maxsize, truncation == "drop"
        # Built on first use (``ready``); the scan makes it ready before its first record (and so
        # before it forks: the tables the tokenizer builds on its first count are then shared).
        self.tok: Tokenizer | None = None
        self.tokenizer_name: str | None = None
        self.source: TokenizerSource | None = None
        self.reset()
        self.cache: dict[str, tuple[int, int]] = {}  # system prompt -> (tokens, key)

    def building(self) -> bool:
        """True while its tokenizer is being built in another thread (``build_in_background``)."""
        return self.tok is None and building(self.spec, self.engine)

    def ready(self) -> Tokenizer:
        """The tokenizer, with the template's per-message overheads worked out once."""
        if self.tok is None:
            tok, template = get_tokenizer(self.spec, self.engine), self.template
            self.tokenizer_name, self.source = tok.name, tok.source  # for the table's Assumptions
            self.additive = template.additive(tok)
            self.overhead = {r: template.overhead(tok, r) for r in ("system", "user", "assistant")}
            self.suffix = tok.count(template.trainable_suffix) if template.trainable_suffix else 0
            self.tail = template.tail(tok)
            self.head = tok.count(template.head([])) if template.default_system and template.system_prompt else 0
            self.tok = tok
        return self.tok

    def reset(self) -> None:
        names = (*_INT_COLUMNS, *(_KEY_COLUMNS if self.keys else ()))
        # only the columns asked for are kept (each row is still worked out whole)
        self.kept = [names.index(name) for name in self.columns] if self.columns is not None else None
        kept = [names[i] for i in self.kept] if self.kept is not None else names
        # hashes eight bytes, lines four, counts from one byte up (ftkit.tokens.columns)
        self.cols = Columns({name: "q" if name in _WIDE else "i" if name == "line" else "B" for name in kept})
        self.rejected = array("q")
        #: set by the scan when it looked for near-duplicates: line -> first line of its cluster
        self.near: dict[int, int] | None = None

    def prepare_merge(self) -> None:
        """Called in the parent of a parallel scan once its own part is done: let the tokenizer
        go and import what the table and its summaries need, instead of doing it after the child
        has finished."""
        self.release()
        import polars  # noqa: F401

        import ftkit.models  # noqa: F401

    def release(self) -> None:
        """Let the tokenizer go, once this builder's rows are counted, when it was made with
        ``release`` (for a big input: the process needs the memory for the table more than it
        needs the tokenizer again; it is built again if asked for). ``release`` is then what
        lets go of it: every builder's reference and the cache."""
        if self.releases is not None and self.tok is not None:
            self.tok = None
            self.releases()

    def reject(self, line: int) -> None:
        self.rejected.append(line)

    def add(self, line: int, record: dict[str, Any]) -> None:
        """Tokenize one record that passed validation (one that cannot be is rejected)."""
        try:
            row = self._row(line, record)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):  # possible when error rules are ignored
            self.reject(line)
            return
        except TokenizerError as exc:
            raise TokenizerError(f"line {line:,}: {exc}") from None
        if self.kept is not None:
            row = tuple([row[i] for i in self.kept])
        try:
            self.cols.append(row)  # all or nothing: the row is complete
        except OverflowError:  # a line number or count past 2**31 - 1, the table's widest column
            raise InputError(f"line {line:,}: past what the token table holds (line numbers and token counts below 2**31)") from None

    def _row(self, line: int, record: dict[str, Any]) -> tuple[int, ...]:
        msgs = record["messages"]
        count, overhead, cache = (self.tok or self.ready()).count, self.overhead, self.cache
        per = {"system": 0, "user": 0, "assistant": 0}
        total = 0 if msgs[0]["role"] == "system" else self.head
        turns = system_key = first = last = kept = 0
        limit, suffix, tail = self.limit, self.suffix, self.tail
        for m in msgs:
            role, text = m["role"], m["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
            if role == "system":
                known = cache.get(text)
                if known is None:
                    known = (count(text), stable_hash(text.encode("utf-8", "surrogatepass"), self.seed))
                    if len(cache) < _CACHE_LIMIT:
                        cache[text] = known
                n = known[0]
                system_key = system_key or known[1]
            else:
                n = count(text)
            per[role] += n
            if self.additive and not text[:1].isspace():
                total += n + overhead[role]
            else:  # leading whitespace can merge with the template's newline: count it whole
                total += count(self.template.render(role, text))
            if role == "assistant":  # its trainable span: content + end token, before the template's tail
                turns += 1
                last = total - tail
                start = last - n - suffix
                first = first if turns > 1 else start
                kept += min(n + suffix, max(0, limit - start))
        trainable = per["assistant"] + turns * suffix
        if self.drop and total > limit:  # the record is left out whole
            kept = 0
        row = (line, per["system"], per["user"], per["assistant"], total, trainable, turns, system_key, first, last, kept)
        if not self.keys:
            return row
        seed = self.seed
        first_user = next((m["content"] for m in msgs if m["role"] == "user"), "")
        return (*row, stable_hash(canonical(record), seed), stable_hash(first_user.encode("utf-8", "surrogatepass"), seed))

    def system_prompts(self) -> dict[int, str]:
        """system_key -> text of every system prompt cached so far."""
        return {key: text for text, (_, key) in self.cache.items()}

    def export(self) -> tuple[list[Any], bytes]:
        """What the child of a parallel scan sends back: the columns as buffers, pickled without a copy."""
        self.release()  # in both processes: pages shared since the fork are freed only when both free them
        return self.cols.export(), self.rejected.tobytes()  # the columns leave with the result (the child exits after)

    def merge(self, exported: tuple[list[Any], bytes]) -> None:
        cols, rejected = exported
        self.cols.merge(cols)
        self.rejected.frombytes(rejected)

    def frame(self) -> pl.DataFrame:
        """The rows as a polars frame, sorted by line. The builder's columns move into it."""
        import polars as pl

        series = []
        for name, values in self.cols.pop(numpy_from=NUMPY_FROM_ROWS):  # each column handed over, so arrays and frame never coexist
            dtype = pl.Int64 if name in _WIDE else pl.Int32
            if isinstance(values, array):  # a short column: no numpy for a small table
                series.append(pl.Series(name, values, dtype=dtype))
                continue
            # no copy of a column already of its dtype (the series takes the array's buffer); a
            # narrower one is copied wider and then freed
            series.append(pl.Series(name, values).cast(dtype))
            del values
        frame = pl.DataFrame(series)
        frame = frame if frame["line"].is_sorted() else frame.sort("line")
        return self._near_key(frame) if self.near is not None and self.keys else frame

    def _near_key(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add ``near_key``. Exact copies of a clustered record were left out of the clustering
        (FT501 covers them) but share its key, so the mapping goes from key to key."""
        import polars as pl

        near = self.near or {}
        roots = pl.DataFrame({"line": list(near), "root": list(near.values())}, schema={"line": pl.Int32, "root": pl.Int32})
        root_key = roots.join(frame.select(pl.col("line").alias("root"), pl.col("key").alias("near_key")), on="root").select(
            "line", "near_key"
        )
        by_key = frame.select("line", "key").join(root_key, on="line").select("key", "near_key").unique("key", keep="first")
        joined = frame.join(by_key, on="key", how="left", maintain_order="left")
        return joined.with_columns(pl.coalesce("near_key", "key").alias("near_key"))


def column_sum(series: pl.Series) -> int:
    """The sum of an integer column of the table, in 64 bits (polars sums Int32 in 32)."""
    if len(series) < NUMPY_FROM_ROWS:  # a copy in 64 bits costs less than importing numpy
        import polars as pl

        return int(series.cast(pl.Int64).sum())
    import numpy as np

    return int(series.to_numpy().sum(dtype=np.int64))


@dataclass
class RecordTable:
    """The scan of one or more files plus the per-record token table of their valid records."""

    scan: Scan
    frame: pl.DataFrame  # one row per valid record, with a "file" column (index into paths)
    paths: list[str]  # the names shown, in scan order
    read_paths: list[Path]  # the files read for them (a private copy for standard input)
    rejected: dict[str, list[int]]  # name -> lines of records left out for errors
    assumptions: Assumptions
    severity: dict[str, str]  # the profile's severities, for findings derived from the table
    # system_key -> text of the system prompts the builders cached (the scan's own process only;
    # bounded by the cache): the payoff needs the text of the file's most common prompt.
    system_prompts: dict[int, str] = field(default_factory=dict)

    @property
    def rejected_count(self) -> int:
        return sum(len(lines) for lines in self.rejected.values())
