"""The per-record table: one pass over the file builds it; stats, split, recommend, cost and the
report all read it instead of re-reading or re-tokenizing the file.

``TableBuilder`` plugs into the validation scan (``ftkit.engine.FileScan``): every record without
an error-level finding is tokenized once; records with errors are only counted. The result is a
polars DataFrame with one row per valid record (columns in ``COLUMNS``).
"""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ftkit.policy.profile import Profile, as_profile
from ftkit.tokens.tokenizer import ChatTemplate, Tokenizer, get_tokenizer, is_configured

if TYPE_CHECKING:
    import polars as pl

    from ftkit.models import Report, Violation

#: Column name -> meaning. Token columns count content tokens unless said otherwise.
COLUMNS = {
    "line": "1-based physical line of the record",
    "system": "content tokens of system messages",
    "user": "content tokens of user messages",
    "assistant": "content tokens of assistant messages",
    "total": "templated tokens of the whole record (default system prompt included when applied)",
    "trainable": "assistant content tokens plus each assistant's end token",
    "turns": "assistant messages (user/assistant pairs)",
    "key": "keyed hash of the record's canonical JSON (sorted keys), for split and cross-file checks",
    "system_key": "keyed hash of the first system prompt's text (0: none)",
    "first_user_key": "hash of the first user message text",
}
_INT_COLUMNS = ("line", "system", "user", "assistant", "total", "trainable", "turns", "system_key")
_KEY_COLUMNS = ("key", "first_user_key")
# Repeated system prompts are counted once; a bound keeps memory small on odd data.
_CACHE_LIMIT = 4096


def stable_hash(data: bytes, seed: str = "ftkit") -> int:
    """A 63-bit keyed hash that is the same on every machine and Python version."""
    digest = hashlib.blake2b(data, digest_size=8, key=seed.encode("utf-8")[:64]).digest()
    return int.from_bytes(digest, "big") >> 1


def canonical(record: Any) -> bytes:
    """The record as canonical JSON: sorted keys, no whitespace, UTF-8."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class Assumptions:
    """What the token numbers assume; printed with every figure derived from them."""

    model: str
    tokenizer: str
    template: str
    default_system: bool
    default_system_tokens: int
    max_tokens: int

    def describe(self) -> list[str]:
        return [
            f"tokenizer: {self.tokenizer} (model {self.model}), counted offline",
            f"chat template: {self.template}; each message is <|im_start|>{{role}}\\n{{content}}<|im_end|>\\n",
            (f"records without a system message get the template's default system prompt ({self.default_system_tokens} tokens)"
             if self.default_system else "no default system prompt is added to records without one"),
            "trainable tokens: assistant content plus its <|im_end|> end token",
            f"Max Tokens: {self.max_tokens}; longer records are truncated to it",
        ]


class TableBuilder:
    """Collects one row per valid record during the validation scan."""

    def __init__(self, tokenizer: str, template: ChatTemplate, keys: bool = False, seed: str = "ftkit") -> None:
        self.spec, self.template, self.keys, self.seed = tokenizer, template, keys, seed
        # Built on first use: a parallel scan forks first, so both processes build it at once.
        self.tok: Tokenizer | None = None
        self.reset()
        self.cache: dict[str, tuple[int, int]] = {}  # system prompt -> (tokens, key)

    def ready(self) -> Tokenizer:
        """The tokenizer, with the template's per-message overheads worked out once."""
        if self.tok is None:
            tok, template = get_tokenizer(self.spec), self.template
            self.additive = template.additive(tok)
            self.overhead = {r: template.overhead(tok, r) for r in ("system", "user", "assistant")}
            self.suffix = tok.count(template.trainable_suffix) if template.trainable_suffix else 0
            self.head = tok.count(template.head([])) if template.default_system and template.system_prompt else 0
            self.tok = tok
        return self.tok

    def reset(self) -> None:
        self.cols: dict[str, array[int]] = {name: array("q") for name in (*_INT_COLUMNS, *(_KEY_COLUMNS if self.keys else ()))}
        self.rejected = array("q")

    def prepare_merge(self) -> None:
        """Called in the parent of a parallel scan once its own part is done: import what the
        table and its report need, instead of doing it after the child has finished."""
        import polars  # noqa: F401

        import ftkit.models  # noqa: F401

    def reject(self, line: int) -> None:
        self.rejected.append(line)

    def add(self, line: int, record: dict[str, Any]) -> None:
        """Tokenize one record that passed validation (one that cannot be is rejected)."""
        try:
            self._add(line, record)
        except (KeyError, TypeError, AttributeError, IndexError):  # possible when error rules are ignored
            for column in self.cols.values():
                del column[len(self.cols["turns"]) :]
            self.reject(line)

    def _add(self, line: int, record: dict[str, Any]) -> None:
        msgs = record["messages"]
        count, overhead, cache = (self.tok or self.ready()).count, self.overhead, self.cache
        per = {"system": 0, "user": 0, "assistant": 0}
        total = 0 if msgs[0]["role"] == "system" else self.head
        turns = system_key = 0
        for m in msgs:
            role, text = m["role"], m["content"]
            if role == "system":
                known = cache.get(text)
                if known is None:
                    known = (count(text), stable_hash(text.encode("utf-8"), self.seed))
                    if len(cache) < _CACHE_LIMIT:
                        cache[text] = known
                n = known[0]
                system_key = system_key or known[1]
            else:
                n = count(text)
            per[role] += n
            if role == "assistant":
                turns += 1
            if self.additive and not text[:1].isspace():
                total += n + overhead[role]
            else:  # leading whitespace can merge with the template's newline: count it whole
                total += count(self.template.render(role, text))
        cols = self.cols
        cols["line"].append(line)
        cols["system"].append(per["system"])
        cols["user"].append(per["user"])
        cols["assistant"].append(per["assistant"])
        cols["total"].append(total)
        cols["trainable"].append(per["assistant"] + turns * self.suffix)
        cols["turns"].append(turns)
        cols["system_key"].append(system_key)
        if self.keys:
            seed = self.seed
            cols["key"].append(stable_hash(canonical(record), seed))
            first_user = next((m["content"] for m in msgs if m["role"] == "user"), "")
            cols["first_user_key"].append(stable_hash(first_user.encode("utf-8"), seed))

    def export(self) -> tuple[dict[str, bytes], bytes]:
        return {k: v.tobytes() for k, v in self.cols.items()}, self.rejected.tobytes()

    def merge(self, exported: tuple[dict[str, bytes], bytes]) -> None:
        cols, rejected = exported
        for name, data in cols.items():
            self.cols[name].frombytes(data)
        self.rejected.frombytes(rejected)

    def frame(self) -> pl.DataFrame:
        """The rows as a polars frame, sorted by line. The builder's columns move into it."""
        import polars as pl

        series = []
        for name in list(self.cols):  # hand each column over, so arrays and frame never coexist
            series.append(pl.Series(name, self.cols.pop(name), dtype=pl.Int64))
        frame = pl.DataFrame(series)
        return frame if frame["line"].is_sorted() else frame.sort("line")


@dataclass
class RecordTable:
    """Validation report plus the per-record token table of one or more files."""

    report: Report
    frame: pl.DataFrame  # one row per valid record, with a "file" column (index into paths)
    paths: list[str]
    rejected: dict[str, list[int]]  # path -> lines of records left out for errors
    assumptions: Assumptions
    report_severity: dict[str, str]  # the profile's severities, for findings derived from the table


def resolve_model(profile: Profile, model: str | None) -> str:
    return model or profile.tokens.default_model


def build_table(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    profile: str | Profile = "siliconflow",
    model: str | None = None,
    tokenizer: str | None = None,
    default_system: bool | None = None,
    max_tokens: int | None = None,
    keys: bool = False,
    seed: str = "ftkit",
    jobs: int = 1,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    near_duplicates: bool = False,
    dataset_rules: bool = True,
) -> RecordTable:
    """Validate ``paths`` and tokenize every valid record once (see ``COLUMNS``).

    ``near_duplicates`` also looks for FT504 (it normalises all text, a cost only the report
    and ``validate --tokens`` need to pay). ``dataset_rules=False``: callers that only need to
    know which records have errors (stats, split, cost, recommend) skip the dataset warnings."""
    from ftkit.scan.engine import run_scan

    prof = as_profile(profile)
    model_name = resolve_model(prof, model)
    spec = tokenizer or model_name
    if not is_configured(spec):  # anything but the packaged tokenizers: fail now, not mid-scan
        get_tokenizer(spec)
    use_default = prof.tokens.default_system if default_system is None else default_system
    template = ChatTemplate.from_spec(model_name, default_system=use_default)
    limit = prof.tokens.max_tokens if max_tokens is None else max_tokens
    builders: list[TableBuilder] = []

    def make_builder() -> TableBuilder:
        builders.append(TableBuilder(spec, template, keys=keys, seed=seed))
        return builders[-1]

    report = run_scan(paths, prof, select=select, ignore=ignore, jobs=jobs, collector=make_builder, near_duplicates=near_duplicates,
                      dataset_rules=dataset_rules).to_report()
    import polars as pl  # after the scan: the child process never needs it

    frames = [b.frame().with_columns(file=pl.lit(i, dtype=pl.Int32)) for i, b in enumerate(builders)]
    names = [f.path for f in report.files]
    rejected = {names[i]: sorted(b.rejected.tolist()) for i, b in enumerate(builders)}
    first = builders[0] if builders else TableBuilder(spec, template)
    tok = first.ready()
    assumptions = Assumptions(model_name, tok.name, template.name, bool(use_default and template.system_prompt), first.head, limit)
    frame = pl.concat(frames) if frames else pl.DataFrame()
    return RecordTable(report, frame, names, rejected, assumptions, dict(prof.severity))



def length_violations(table: RecordTable) -> list[Violation]:
    """FT401 for every record whose templated length exceeds Max Tokens."""
    import polars as pl

    from ftkit.checks import RULES
    from ftkit.models import Violation

    limit = table.assumptions.max_tokens
    if table.frame.is_empty():
        return []
    over = table.frame.filter(pl.col("total") > limit).select("file", "line", "total").sort("file", "line")
    severity = table.report_severity.get("FT401", "warning")
    return [
        Violation(path=table.paths[f], line=line, pointer="", code="FT401", name=RULES["FT401"].name, severity=severity,  # type: ignore[arg-type]
                  message=f"record is {total:,} tokens with the chat template, {total - limit:,} over Max Tokens {limit:,}; the last {total - limit:,} tokens would be cut")
        for f, line, total in over.iter_rows()
    ]
