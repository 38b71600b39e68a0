"""Token statistics from the per-record table (``ftkit.tokens.table``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ftkit.plan.cuts import SHOWN_LINES, over_limit
from ftkit.tokens.table import NUMPY_FROM_ROWS, column_sum

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from ftkit.tokens.table import RecordTable

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}


class ContentByRole(BaseModel):
    system: int
    user: int
    assistant: int


class TokenTotals(BaseModel):
    total: int = Field(description="templated tokens of all valid records")
    trainable: int = Field(description="assistant content + end tokens")
    trainable_kept: int = Field(description="trainable tokens left within Max Tokens under the profile's truncation")
    content_by_role: ContentByRole


class Lengths(BaseModel):
    """Distribution of per-record templated tokens (nearest-rank percentiles)."""

    min: int
    mean: float
    p50: int
    p90: int
    p95: int
    p99: int
    max: int


class ReplyLoss(BaseModel):
    """Records whose reply Max Tokens cuts (FT402) or removes entirely (FT403)."""

    records: int
    trainable_lost: int = Field(description="trainable tokens these records lose")
    lines: list[int] = Field(description="their line numbers, in file order (up to 20)")


class OverMax(BaseModel):
    limit: int
    truncation: str = Field(description='the truncation assumed (profile [tokens] truncation): "right" or "drop"')
    records: int
    tokens_cut: int = Field(description="templated tokens training never sees: past the limit (right) or of the dropped records (drop)")
    lines: list[int] = Field(description="line numbers of the longest records over the limit (up to 20)")
    reply_cut: ReplyLoss = Field(description="records that keep only part of their trainable tokens (FT402)")
    reply_lost: ReplyLoss = Field(description="records that keep none of them: they train on nothing (FT403)")


class Turns(BaseModel):
    min: int
    mean: float
    max: int


class Bin(BaseModel):
    lo: int
    hi: int
    count: int


class SystemPrompts(BaseModel):
    records_with_system: int
    distinct: int
    tokens: int = Field(description="system content tokens summed over all records")
    share: float = Field(description="share of all templated tokens spent on system content")
    top_prompt_records: int = Field(description="records that carry the most common system prompt")


class TokenizerData(BaseModel):
    """The tokenizer data the counts come from, so that a figure can be traced to the exact file."""

    name: str = Field(description="tokenizer key of the rules, tiktoken encoding name, or the tokenizer.json path given")
    kind: str = Field(description='"tiktoken-file" (packaged rank file, checked against the pinned sha256, size and vocab), '
                                  '"tiktoken-encoding" (tiktoken\'s cache), "tokenizer.json" (a file given) or "custom"')  # fmt: skip
    package: str | None = Field(description="the package that shipped the data (pip name); null for a file given")
    version: str | None = Field(description="that package's installed version")
    file: str | None = Field(description="the data file: resource in the package, tiktoken's file name, or the path given")
    sha256: str | None = Field(description="sha256 of the data file as read; null when it cannot be known")
    vocab: int | None = Field(description="ranks or vocabulary entries, added tokens not included")


class Stats(BaseModel):
    records: int = Field(description="valid records counted")
    rejected: int = Field(description="records left out because of error-level findings")
    files: list[str]
    tokens: TokenTotals
    lengths: Lengths | None
    turns: Turns | None
    over_max_tokens: OverMax
    system_prompt: SystemPrompts
    histogram: list[Bin]
    assumptions: list[str]
    tokenizer: TokenizerData


def _nearest_rank(sorted_values: Sequence[int], q: float) -> int:
    return int(sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)])


def _histogram(values: Sequence[int], bins: int = 12) -> list[Bin]:
    """Counts of ``values`` (sorted) in ``bins`` equal bins from the least to the greatest."""
    if not len(values):
        return []
    from bisect import bisect_left

    lo, hi = int(values[0]), int(values[-1])
    width = max(1, math.ceil((hi - lo + 1) / bins))
    # sorted: each bin's count is the distance between the positions of its bounds
    edges = [bisect_left(values, lo + i * width) for i in range(1, bins)]
    starts, ends = [0, *edges], [*edges, len(values)]
    return [Bin(lo=lo + i * width, hi=lo + (i + 1) * width - 1, count=ends[i] - starts[i]) for i in range(bins)]


# A column whose values span at most this many integers (or an eighth of its length) is sorted
# by counting, a block of rows at a time: a few MB, where a sorted copy is four bytes a record.
_COUNT_SPAN = 1 << 16
_BLOCK = 1 << 18


class _Counted(Sequence[int]):
    """Sorted values known by the distinct ones and how many of each: ``view[k]`` is what a
    sorted copy would hold at position ``k``."""

    def __init__(self, values: np.ndarray[Any, Any], counts: np.ndarray[Any, Any]) -> None:
        import numpy as np

        self.values, self.ends = values, np.cumsum(counts)

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def __getitem__(self, k: int) -> int:  # type: ignore[override]  # indexed by position only, never sliced
        import numpy as np

        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return int(self.values[np.searchsorted(self.ends, k % len(self), side="right")])


def sorted_values(column: pl.Series) -> Sequence[int]:
    """The values of an integer column (no nulls) in ascending order: counted when they span a
    narrow range, as token counts do, else a sorted copy."""
    if not column.len():
        return []
    if column.len() < NUMPY_FROM_ROWS:  # a small table: sorted in its own dtype, without importing numpy
        return column.sort()  # type: ignore[return-value]  # a series indexes as a sequence
    import numpy as np

    lo, hi = int(column.min()), int(column.max())  # type: ignore[arg-type]  # polars types min/max of a column as any scalar
    span = hi - lo + 1
    if span > max(_COUNT_SPAN, column.len() // 8):
        return column.sort().to_numpy()  # type: ignore[return-value]  # an int array indexes as a sequence
    counts = np.zeros(span, dtype=np.int64)
    for start in range(0, column.len(), _BLOCK):
        counts += np.bincount(column.slice(start, _BLOCK).to_numpy() - lo, minlength=span)
    present = np.flatnonzero(counts)
    return _Counted(present + lo, counts[present])


def _prompt_counts(keys: pl.Series) -> tuple[int, int]:
    """Distinct system prompts (non-zero keys) and the records of the most common one, counted a
    block of rows at a time: a filtered copy and a hash of every key at once is about 16 bytes a
    record when most records have a prompt (+98 MB on 6.2M records, against +6)."""
    import polars as pl

    if not keys.len():
        return 0, 0
    parts = [keys.slice(start, _BLOCK).value_counts(name="count") for start in range(0, keys.len(), _BLOCK)]
    counts = pl.concat(parts).group_by(keys.name).agg(pl.col("count").sum()).filter(pl.col(keys.name) != 0)
    return counts.height, int(counts["count"].max()) if counts.height else 0  # type: ignore[arg-type]  # polars types max() as any scalar


def _loss(rows: pl.DataFrame, lost: pl.Series) -> ReplyLoss:
    return ReplyLoss(records=rows.height, trainable_lost=column_sum(lost), lines=rows["line"].head(SHOWN_LINES).to_list())


def compute_stats(table: RecordTable) -> Stats:
    """Summarise the table: totals, length distribution, truncation, system-prompt cost. Reads
    only the columns of ``ftkit.plan.table.STATS_COLUMNS`` (a table of those alone will do)."""
    import polars as pl

    frame, limit = table.frame, table.assumptions.max_tokens
    records = frame.height
    rejected = table.rejected_count
    sums = {c: column_sum(frame[c]) if records else 0 for c in ("system", "user", "assistant", "total", "trainable")}
    # never as a list of Python ints, nor (for token counts) as a sorted copy
    totals = sorted_values(frame["total"]) if records else []
    lengths = None
    turns = None
    if records:
        lengths = Lengths(
            min=int(totals[0]),
            mean=round(sums["total"] / records, 1),
            max=int(totals[-1]),
            **{k: _nearest_rank(totals, q) for k, q in PERCENTILES.items()},
        )
        t = frame["turns"]
        turns = Turns(min=int(t.min()), mean=round(float(t.mean()), 2), max=int(t.max()))  # type: ignore[arg-type]  # polars types min/max of a column as any scalar
    truncation = table.assumptions.truncation
    over, tokens_cut, over_lines = over_limit(frame, limit, truncation) if records else (0, 0, [])
    kept = column_sum(frame["trainable_kept"]) if records else 0
    # only the columns each needs: a filter copies every column it keeps
    loss = frame.select("line", "trainable", "trainable_kept") if records else frame
    partly = loss.filter((pl.col("trainable_kept") > 0) & (pl.col("trainable_kept") < pl.col("trainable"))) if records else loss
    nothing = loss.filter((pl.col("trainable_kept") == 0) & (pl.col("trainable") > 0)) if records else loss
    with_system = int((frame["system"] > 0).sum()) if records else 0  # a mask, not a copy of the column
    prompts = _prompt_counts(frame["system_key"]) if "system_key" in frame.columns and records else (0, 0)
    system = SystemPrompts(
        records_with_system=with_system,
        distinct=prompts[0],
        tokens=sums["system"],
        share=round(sums["system"] / sums["total"], 4) if sums["total"] else 0.0,
        top_prompt_records=prompts[1] if with_system else 0,
    )
    return Stats(
        records=records,
        rejected=rejected,
        files=table.paths,
        tokens=TokenTotals(
            total=sums["total"],
            trainable=sums["trainable"],
            trainable_kept=kept,
            content_by_role=ContentByRole(system=sums["system"], user=sums["user"], assistant=sums["assistant"]),
        ),
        lengths=lengths,
        turns=turns,
        over_max_tokens=OverMax(
            limit=limit,
            truncation=truncation,
            records=over,
            tokens_cut=tokens_cut,
            lines=over_lines,
            reply_cut=_loss(partly, lost=partly["trainable"] - partly["trainable_kept"]),
            reply_lost=_loss(nothing, lost=nothing["trainable"]),
        ),
        system_prompt=system,
        histogram=_histogram(totals),
        assumptions=table.assumptions.lines(),
        tokenizer=TokenizerData(**dataclasses.asdict(table.assumptions.source)),
    )
