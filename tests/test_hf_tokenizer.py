"""``--tokenizer path/to/tokenizer.json``: a Hugging Face tokenizer file, counted offline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftkit.cli import cli
from ftkit.tokens.tokenizer import get_tokenizer

tokenizers = pytest.importorskip("tokenizers", reason="the optional extra ftkit[hf] (in the test extras)")


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small byte-level BPE trained here, with ChatML's special tokens, saved as tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = ["Hello world, how are you?", "你好，世界", "fine-tuning data for chat models"] * 50
    tok.train_from_iterator(corpus, trainer)
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    tok.save(str(path))
    return path


def test_counts_match_the_hf_library(tokenizer_json: Path) -> None:
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(tokenizer_json))
    ours = get_tokenizer(str(tokenizer_json))
    for text in ["Hello world", "你好，世界！", "", "x<|im_end|>y", "tabs\tand\nnewlines  "]:
        assert ours.count(text) == len(hf.encode(text, add_special_tokens=False).ids), text


def test_stats_with_a_tokenizer_file(tokenizer_json: Path, tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    data = tmp_path / "d.jsonl"
    record = {"messages": [{"role": "user", "content": "Hello world"}, {"role": "assistant", "content": "你好，世界"}]}
    data.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats", str(data), "--tokenizer", str(tokenizer_json), "--format", "json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    hf = Tokenizer.from_file(str(tokenizer_json))
    count = lambda s: len(hf.encode(s, add_special_tokens=False).ids)  # noqa: E731
    assert stats["tokens"]["content_by_role"] == {"system": 0, "user": count("Hello world"), "assistant": count("你好，世界")}
    # the template is rendered whole and counted by the same tokenizer (default system prompt included)
    rendered = "".join(f"<|im_start|>{r}\n{c}<|im_end|>\n" for r, c in [
        ("system", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."), ("user", "Hello world"), ("assistant", "你好，世界")])
    assert stats["tokens"]["total"] == count(rendered)
    assert any("tokenizer.json" in a for a in stats["assumptions"])
    # the file is named with its own digest (it comes from no package)
    digest = hashlib.sha256(tokenizer_json.read_bytes()).hexdigest()
    assert stats["tokenizer"] == {"name": str(tokenizer_json), "kind": "tokenizer.json", "package": None, "version": None,
                                  "file": str(tokenizer_json), "sha256": digest, "vocab": hf.get_vocab_size(with_added_tokens=False)}  # fmt: skip
    text = CliRunner().invoke(cli, ["stats", str(data), "--tokenizer", str(tokenizer_json)]).output
    assert f"  - tokenizer data: {tokenizer_json} (tokenizer.json given, {stats['tokenizer']['vocab']:,} vocabulary entries, sha256 {digest[:12]})" in text


def test_a_tokenizer_json_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    bad = tmp_path / "tokenizer.json"
    for content in (b'{"model": 1}', b"\xff not utf-8"):
        bad.write_bytes(content)
        result = CliRunner().invoke(cli, ["stats", str(data), "--tokenizer", str(bad)])
        assert result.exit_code == 2, result.output
        (line,) = result.output.splitlines()
        assert line.startswith(f"ftkit: cannot read {bad} as a Hugging Face tokenizer.json: ")


def test_missing_tokenizer_file_is_a_usage_error(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n')
    result = CliRunner().invoke(cli, ["stats", str(data), "--tokenizer", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "nope.json" in result.output
