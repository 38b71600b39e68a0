"""What a Max Tokens cut leaves for training, from the token table (no tokenizer, no re-reading).

The table holds, per record, where its trainable tokens sit in the templated sequence
(``reply_start``, ``reply_end``) and how many it keeps at the table's own Max Tokens
(``trainable_kept``), so any other limit can be judged too: under right truncation a record's
reply is cut when ``reply_end > L`` and lost entirely when ``reply_start >= L``; under ``drop`` a
record longer than ``L`` loses everything. Stats, the report, ``validate --tokens`` (through
``length_findings``, which runs the FT4xx rules of ``ftkit.checks.length``) and recommend read
these figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ftkit.checks import Selector
from ftkit.checks.length import over_max_tokens, reply_cuts
from ftkit.findings import Finding
from ftkit.tokens.table import column_sum

if TYPE_CHECKING:
    import polars as pl

    from ftkit.tokens.table import RecordTable

#: Line numbers kept with each figure (the counts are exact; the lists are examples).
SHOWN_LINES = 20


@dataclass(frozen=True)
class Cuts:
    """What Max Tokens ``limit`` cuts from the records of a table."""

    limit: int
    truncation: str
    records: int  # records longer than the limit
    tokens_cut: int  # templated tokens training never sees: past the limit (right) or of the dropped records (drop)
    lines: list[int]  # the longest of those records, longest first
    trained_tokens: int  # templated tokens trained on at this limit, over all records (one epoch)
    replies_cut: int  # records that keep part of their trainable tokens (FT402)
    reply_cut_lines: list[int]  # in file order
    replies_lost: int  # records with trainable tokens that keep none (FT403)
    reply_lost_lines: list[int]


def with_positions(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``line``, ``reply_start`` and ``reply_end``; a frame without them (``total``
    and ``trainable`` only, e.g. made by hand) is taken to end with its reply, row N on line N."""
    import polars as pl

    if "line" not in frame.columns:
        frame = frame.with_columns(line=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
    if {"reply_start", "reply_end"} <= set(frame.columns):
        return frame
    return frame.with_columns(reply_start=pl.col("total") - pl.col("trainable"), reply_end=pl.col("total"))


def _lost(truncation: str, limit: int) -> pl.Expr:
    import polars as pl

    return (pl.col("trainable") > 0) & ((pl.col("total") > limit) if truncation == "drop" else (pl.col("reply_start") >= limit))


def _cut(truncation: str, limit: int) -> pl.Expr:
    import polars as pl

    if truncation == "drop":
        return pl.lit(False)
    return (pl.col("trainable") > 0) & (pl.col("reply_start") < limit) & (pl.col("reply_end") > limit)


def cuts(frame: pl.DataFrame, limit: int, truncation: str = "right", shown: int = SHOWN_LINES) -> Cuts:
    """The cut of ``frame`` (a token table frame) at Max Tokens ``limit``."""
    import polars as pl

    if frame.is_empty():
        return Cuts(limit, truncation, 0, 0, [], 0, 0, [], 0, [])
    frame = with_positions(frame)
    records, cut_tokens, lines = over_limit(frame, limit, truncation, shown)
    trained = column_sum(frame["total"]) - cut_tokens
    flags = frame.select(cut=_cut(truncation, limit), lost=_lost(truncation, limit), line=pl.col("line"))
    cut_lines, lost_lines = flags.filter("cut")["line"], flags.filter("lost")["line"]
    return Cuts(
        limit=limit,
        truncation=truncation,
        records=records,
        tokens_cut=cut_tokens,
        lines=lines,
        trained_tokens=trained,
        replies_cut=cut_lines.len(),
        reply_cut_lines=cut_lines.head(shown).to_list(),
        replies_lost=lost_lines.len(),
        reply_lost_lines=lost_lines.head(shown).to_list(),
    )


def over_limit(frame: pl.DataFrame, limit: int, truncation: str = "right", shown: int = SHOWN_LINES) -> tuple[int, int, list[int]]:
    """The records of ``frame`` longer than ``limit``: how many, the templated tokens training
    never sees (``Cuts.tokens_cut``) and the lines of the longest. Reads ``total`` and ``line`` only."""
    import polars as pl

    over = frame.select("line", "total").filter(pl.col("total") > limit)
    cut_tokens = column_sum(over["total"] if truncation == "drop" else over["total"] - limit)
    return over.height, cut_tokens, over.sort("total", descending=True)["line"].head(shown).to_list()


def keep_every_reply(frame: pl.DataFrame, truncation: str = "right") -> int:
    """The smallest Max Tokens at which no record loses its whole reply (1 for an empty table)."""
    import polars as pl

    with_reply = with_positions(frame).filter(pl.col("trainable") > 0)
    if with_reply.is_empty():
        return 1
    column = "total" if truncation == "drop" else "reply_start"
    return int(with_reply[column].max()) + (0 if truncation == "drop" else 1)  # type: ignore[arg-type]  # polars types max() as any scalar


def _masks(limit: int) -> dict[str, pl.Expr]:
    """The records each length rule flags, as polars expressions over the token table."""
    import polars as pl

    kept, trainable = pl.col("trainable_kept"), pl.col("trainable")
    return {"FT401": pl.col("total") > limit, "FT402": (kept > 0) & (kept < trainable), "FT403": (kept == 0) & (trainable > 0)}


def length_counts(table: RecordTable, selected: Selector) -> dict[str, int]:
    """How many records each selected length rule (FT401-FT403) flags at the table's Max Tokens."""
    frame = table.frame
    if frame.is_empty():
        return {}
    masks = {code: mask for code, mask in _masks(table.assumptions.max_tokens).items() if selected(code)}
    counts = frame.select(**{code: mask.sum() for code, mask in masks.items()}).row(0, named=True) if masks else {}
    return {code: int(n) for code, n in counts.items() if n}


def length_findings(table: RecordTable, selected: Selector, first: int | None = None) -> Iterator[tuple[int, Finding]]:
    """``(file index, finding)`` for FT401, FT402 and FT403 at the table's Max Tokens (the
    selected ones), code by code, each by file and line; ``first``: only that many per code."""
    frame = table.frame
    if frame.is_empty():
        return
    limit, truncation = table.assumptions.max_tokens, table.assumptions.truncation
    columns = ("file", "line", "total", "trainable", "trainable_kept", "reply_start")
    for code, mask in _masks(limit).items():
        if not selected(code):
            continue
        rows = frame.filter(mask).sort("file", "line")
        for index, line, total, trainable, kept, start in (rows if first is None else rows.head(first)).select(columns).iter_rows():
            if code == "FT401":
                found = over_max_tokens([(line, total)], limit)
            else:
                found = reply_cuts([(line, total, trainable, kept, start)], limit, truncation)
            yield from ((index, f) for f in found)
