"""What ``ftkit cost --prompt-before ...`` asks for: the prompts (text or a file's text), the
number of calls, the reply length and the inference prices, checked before any data is read;
and the text of the training file's most common system prompt, the default prompt after."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftkit.errors import DataError, InputError, ParameterError
from ftkit.plan.money import parse_price

if TYPE_CHECKING:
    import polars as pl

    from ftkit.tokens.table import RecordTable

#: Calls costed when ``calls`` is not given: prices are per million tokens, so a million calls
#: shows the figures at the same scale.
DEFAULT_CALLS = 1_000_000


@dataclass(frozen=True)
class PayoffRequest:
    """What the caller asked for; made (and checked) before the data is read."""

    prompt_before: str
    prompt_after: str | None  # None: the training file's most common system prompt
    calls: int = DEFAULT_CALLS
    output_tokens: int | None = None  # None: the file's mean reply
    price_before: Decimal | None = None  # None: rules/prices.toml
    price_after: Decimal | None = None
    today: date | None = None  # for the age of the prices; None: the system's date


# --- options -------------------------------------------------------------------------------------


def prompt_arg(value: str) -> str | Path:
    """A command-line prompt: TEXT, or @FILE for the text of a file (@@ starts a text with @)."""
    if value.startswith("@@"):
        return value[1:]
    return Path(value[1:]) if value.startswith("@") else value


def read_prompt(value: str | os.PathLike[str], what: str) -> str:
    """A prompt given as text, or a path-like to read it from (UTF-8; one final line break,
    the file's line end, is not part of the prompt)."""
    if not isinstance(value, os.PathLike):
        if not isinstance(value, str):
            raise ParameterError(f"{what}: expected the prompt's text or a path, got {type(value).__name__}")
        return value
    path = Path(value)
    try:
        text = path.read_bytes().decode("utf-8")  # not read_text: its newline translation would change the prompt
    except FileNotFoundError:
        raise InputError(f"{what}: {path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{what}: {path}: not UTF-8 text; re-save it as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{what}: {path}: cannot read it ({exc.strerror or exc})") from None
    return text.removesuffix("\n").removesuffix("\r")


def parse_inference_price(value: str | Sequence[Any] | None) -> tuple[Decimal | None, Decimal | None]:
    """``"BEFORE,AFTER"`` (or a pair) as two prices per million tokens; an empty side keeps the
    price of rules/prices.toml."""
    if value is None:
        return None, None
    parts = value.split(",") if isinstance(value, str) else list(value)
    if len(parts) != 2:
        raise ParameterError(f"--inference-price expects BEFORE,AFTER (prices per million tokens, e.g. 0.35,0.53), got {value!r}")
    before, after = (None if p is None or str(p).strip() == "" else parse_price(str(p).strip()) for p in parts)
    return before, after


def payoff_request(
    prompt_before: str | os.PathLike[str] | None = None,
    prompt_after: str | os.PathLike[str] | None = None,
    calls: int | None = None,
    output_tokens: int | None = None,
    inference_price: str | Sequence[Any] | None = None,
    today: date | None = None,
) -> PayoffRequest | None:
    """The payoff asked for, checked and with its prompts read; None when nothing is asked."""
    others = {"prompt_after": prompt_after, "calls": calls, "output_tokens": output_tokens, "inference_price": inference_price}
    if prompt_before is None:
        given = [f"--{name.replace('_', '-')}" for name, v in others.items() if v is not None]
        if given:
            verb = "needs" if len(given) == 1 else "need"
            raise ParameterError(f"{', '.join(given)} {verb} --prompt-before TEXT|@FILE (the prompt the base model needs)")
        return None
    for name, n in (("calls", calls), ("output_tokens", output_tokens)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ParameterError(f"--{name.replace('_', '-')} must be a whole number >= 0, got {n!r}")
    before, after = parse_inference_price(inference_price)
    return PayoffRequest(
        prompt_before=read_prompt(prompt_before, "--prompt-before"),
        prompt_after=None if prompt_after is None else read_prompt(prompt_after, "--prompt-after"),
        calls=DEFAULT_CALLS if calls is None else calls,
        output_tokens=output_tokens,
        price_before=before,
        price_after=after,
        today=today,
    )


# --- the prompt after: the file's most common system prompt ------------------------------------


def most_common_system_prompt(source: RecordTable | pl.DataFrame, frame: pl.DataFrame, max_line_bytes: int) -> tuple[str, int] | None:
    """The text of the system prompt most records open with, and on how many; None without one.
    Ties go to the prompt seen first. The text comes from the builder's cache or, failing that
    (a prompt only a forked child saw), from re-reading the record it first appears on."""
    import polars as pl

    from ftkit.tokens.table import RecordTable

    if not frame.height or "system_key" not in frame.columns:
        return None
    keyed = frame.with_row_index("order").filter(pl.col("system_key") != 0)
    if not keyed.height:
        return None
    top = keyed.group_by("system_key").agg(pl.len().alias("n"), pl.col("order").min()).sort(["n", "order"], descending=[True, False])
    key, count, order = top.row(0)
    if not isinstance(source, RecordTable):
        raise ParameterError("give the prompt after fine-tuning: a bare token frame carries no prompt text")
    text = source.system_prompts.get(key)
    if text is None:
        text = _reread_system_prompt(source, int(frame["file"][order]), int(frame["line"][order]), max_line_bytes)
    return text, int(count)


def _reread_system_prompt(table: RecordTable, file: int, line: int, max_line_bytes: int) -> str:
    from ftkit.scan.reader import Reader

    path = table.read_paths[file]
    try:
        with open(path, "rb") as stream:
            for n, _, _, value, _ in Reader(stream, max_line_bytes):
                if n == line:
                    return next(m["content"] for m in value["messages"] if m["role"] == "system")
                if n > line:
                    break
    except (OSError, KeyError, TypeError, StopIteration):
        pass
    raise DataError(f"{table.paths[file]}:{line}: cannot read the most common system prompt again; pass --prompt-after TEXT|@FILE")
