"""The scan checks accepted records a batch at a time (``ftkit.scan.engine.BATCH``): the results
must not depend on the batch size, nor on where the careful records fall between batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftkit
from ftkit.render.safe import model_json
from ftkit.scan import engine

STORY = (
    "Once upon a time a clever red fox lived at the edge of an old forest near a wide river. Every morning she "
    "walked along the bank looking for fish, berries and the eggs that careless ducks left in the reeds. One cold "
    "winter the river froze and the fox had to find another way to feed her four hungry cubs, so she asked the "
    "crows, who knew every farm for miles around, where the farmers kept their grain. The crows laughed at first, "
    "but when the fox promised to share whatever she found with them, they led her across the snowy hills to a "
    "barn whose door never quite closed, and all of them lived through the long winter."
)


def _records() -> list[str]:
    out: list[str] = []
    for i in range(40):
        user = f"请用三句话介绍第{i}号产品的主要功能和适用场景，并说明价格区间。" if i % 3 else f"Describe product {i} in three sentences."
        reply = (
            "Product {i} is a compact device for small offices. It prints, scans and copies. It costs about two hundred dollars."
            if i % 5 == 1  # a Chinese question answered in English: FT305
            else f"第{i}号产品是一款小型办公设备，可以打印、扫描和复印，价格约两百美元。"
            if i % 3
            else f"Product {i} is a compact office device that prints, scans and copies, for about two hundred dollars."
        ).format(i=i)
        record = {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}
        if i % 7 == 2:
            record["messages"][1]["content"] += f" Write to sales{i}@shop-example.org for a quote."  # FT601 (suspect)
        out.append(json.dumps(record, ensure_ascii=False))
        if i % 11 == 4:
            out.append('{"messages": [{"role": "assistant", "content": "no question"}]}')  # careful path, an error
        if i % 13 == 6:
            out.append("")  # blank line
        if i % 9 == 8:
            out.append(out[-1] if out[-1] else out[-2])  # an exact copy: FT501
        if i == 20:  # the same record again, through the careful path (an unknown key: a warning)
            out.append(json.dumps({**record, "id": i}, ensure_ascii=False))
        if i in (10, 30):  # a paraphrase of one long record: FT504
            text = STORY.replace("clever", "cunning") if i == 30 else STORY
            story = {
                "messages": [
                    {"role": "user", "content": "Tell me a story about a fox." if i == 10 else "Tell me a story about a fox, please."},
                    {"role": "assistant", "content": text},
                ]
            }
            out.append(json.dumps(story))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "mixed.jsonl"
    path.write_text("\n".join(_records()) + "\n", encoding="utf-8")
    return path


def _results(path: Path) -> tuple[str, str, str, list[dict[str, int]]]:
    report = model_json(ftkit.report(path, format="json"))
    checked = model_json(ftkit.validate(path, privacy=True, tokens=True))
    array = path.with_suffix(".json")
    array.write_text("[\n" + ",\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line) + "\n]\n", encoding="utf-8")
    elements = model_json(ftkit.validate(array, privacy=True, tokens=True))
    return report, checked, elements, ftkit.table(path, keys=True).frame.to_dicts()


def test_results_do_not_depend_on_the_batch_size(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BATCH", 1)  # every record on its own, as before batching
    alone = _results(data)
    codes = {f["code"] for f in json.loads(alone[1])["violations"]}
    assert {"FT305", "FT601", "FT501", "FT504"} <= codes  # the input holds what each stage finds
    assert json.loads(alone[1])["files"][0]["valid_records"] < json.loads(alone[1])["files"][0]["records"]
    for size in (2, 3, 7, 256):
        monkeypatch.setattr(engine, "BATCH", size)
        assert _results(data) == alone, f"batch of {size}"


def test_results_do_not_depend_on_where_lines_are_re_read_from(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FT501, FT504 and the report's examples re-read lines from the scan's marks (one a chunk
    read): with a mark every few lines the results are those of reading from the start."""
    from ftkit.scan import reader

    whole = _results(data)
    monkeypatch.setattr(reader, "CHUNK", 97)
    assert len(ftkit.table(data, keys=True).scan.files[0].marks) > 20
    assert _results(data) == whole


def test_records_before_a_broken_json_array_are_counted(tmp_path: Path) -> None:
    """A JSON array that breaks off: the elements read before the break reach the token table
    (they wait in a batch when the break is found)."""
    good = {"messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}]}
    path = tmp_path / "broken.json"
    path.write_text("[\n" + ",\n".join(json.dumps({**good, "messages": [good["messages"][0], {"role": "assistant", "content": f"Blue {i}."}]})
                                        for i in range(5)) + ',\n{"messages": [', encoding="utf-8")  # fmt: skip
    table = ftkit.table(path)
    assert table.frame.height == 5
    assert any(f.code == "FT006" for f in table.scan.files[0].findings)
