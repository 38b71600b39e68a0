"""Helpers shared by the tests: example markers, case files, running validate on bytes."""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ftkit
from ftkit.models import Report

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES = HERE / "cases"
#: Real public fine-tuning files, copied unmodified with their licences (tests/data/README.md).
DATA = HERE / "data"
GOLDEN = HERE / "golden"
#: The real files the golden recommendation and cost outputs are made from.
GOLDEN_INPUTS = {
    "shishuoxinyu": DATA / "siliconcloud-cookbook" / "shishuoxinyu_ft_data.jsonl",
    "small_coqa_10": DATA / "together-cookbook" / "small_coqa_10.jsonl",
}

def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def data_strings() -> list[str]:
    """Every distinct string (keys and values) of the JSON Lines files in tests/data, sorted: what
    a second tokenizer engine is compared with tiktoken on."""
    seen: set[str] = set()
    for path in sorted(DATA.rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                seen.update(_strings(json.loads(line)))
            except ValueError:
                continue
    return sorted(seen)


def assert_same_tokens_on_real_strings(engine: Any, reference: Any) -> None:
    """``engine`` (a ``ftkit.tokens.tokenizer.Tokenizer``) gives ``reference``'s tokens and counts
    on every string of ``data_strings()``, as written and NFC-normalised."""
    texts = data_strings()
    assert len(texts) > 10_000
    for text in texts:
        for form in (text, unicodedata.normalize("NFC", text)):
            assert engine.encode(form) == reference.encode(form), form[:80]
            assert engine.count(form) == reference.count(form), form[:80]


_MARKERS = {"<LF>": b"\n", "<CR>": b"\r", "<BOM>": b"\xef\xbb\xbf"}


def decode_markers(text: str) -> bytes:
    """Turn a docstring/case example into file bytes (<LF>, <CR>, <BOM>, <xNN>, <DIGITSn>)."""
    out = bytearray()
    for part in re.split(r"(<LF>|<CR>|<BOM>|<x[0-9a-fA-F]{2}>|<DIGITS\d+>)", text):
        if part in _MARKERS:
            out += _MARKERS[part]
        elif part.startswith("<DIGITS"):
            out += b"1" * int(part[7:-1])
        elif re.fullmatch(r"<x[0-9a-fA-F]{2}>", part):
            out.append(int(part[2:4], 16))
        else:
            out += part.encode("utf-8")
    return bytes(out)


def load_cases(name: str) -> list[dict[str, Any]]:
    return tomllib.loads((CASES / name).read_text(encoding="utf-8"))["case"]


def case_bytes(case: dict[str, Any]) -> bytes:
    if "raw" in case:
        return decode_markers(case["raw"])
    if "generate" in case:
        return eval(case["generate"]).encode("utf-8")  # test data written by us
    if "record" in case:
        return case["record"].encode("utf-8") + b"\n"
    return ("\n".join(case["lines"]) + "\n").encode("utf-8")


def write_profile(tmp_path: Path, overrides: dict[str, Any]) -> str:
    """A profile that extends siliconflow with the given overrides; returns its path."""
    lines = ['extends = "siliconflow"', 'name = "test"']

    def emit(prefix: str, table: dict[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if scalars:
            lines.append(f"[{prefix}]")
            for key, value in scalars.items():
                lines.append(f"{key} = {value!r}".replace("'", '"').replace("True", "true").replace("False", "false"))
        for key, value in table.items():
            if isinstance(value, dict):
                emit(f"{prefix}.{key}", value)

    for key, value in overrides.items():
        emit(key, value)
    path = tmp_path / "test-profile.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def validate_bytes(tmp_path: Path, data: bytes, name: str = "data.jsonl", **kwargs: Any) -> Report:
    path = tmp_path / name
    path.write_bytes(data)
    return ftkit.validate(path, **kwargs)


def findings(report: Report, ignore: tuple[str, ...] = ("FT502",)) -> list[tuple[str, int, str]]:
    return sorted((v.code, v.line or 0, v.pointer) for v in report.violations if v.code not in ignore)


def assert_golden(path: Path, got: Any) -> None:
    """``got`` (JSON-able) equals the golden file; FTKIT_UPDATE_GOLDEN=1 rewrites the file."""
    import json
    import os

    if os.environ.get("FTKIT_UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))
