"""Tests for ftkit.tokens.tokenizer: exact Qwen2.5 token counting and chat-template accounting."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftkit.errors import TokenizerError as TokenizerUnavailable
from ftkit.tokens import tokenizer as tokens
from ftkit.tokens.template import ChatTemplate, RecordTokens
from ftkit.tokens.tokenizer import get_tokenizer
from support import DATA as SUPPORT_DATA

DATA = SUPPORT_DATA / "siliconcloud-cookbook"

# Golden numbers for shishuoxinyu_ft_data.jsonl (178 records), derived independently by
# encoding each record's full ChatML text in one go with tiktoken (added tokens allowed).
GOLDEN_RECORDS = 178
GOLDEN_TOTAL = 9346
GOLDEN_TRAINABLE = 5188

# Expected ids from transformers' tests/models/qwen2/test_tokenization_qwen2.py
# (test_tokenizer_integration; padding removed).
HF_INTEGRATION = [
    (
        "Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides "
        "general-purpose architectures (BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet...) for Natural "
        "Language Understanding (NLU) and Natural Language Generation (NLG) with over 32+ pretrained "
        "models in 100+ languages and deep interoperability between Jax, PyTorch and TensorFlow.",
        [8963, 388, 320, 69514, 3881, 438, 4510, 27414, 32852, 388, 323, 4510, 27414, 21334, 35722, 1455, 529,
         8, 5707, 4586, 58238, 77235, 320, 61437, 11, 479, 2828, 12, 17, 11, 11830, 61437, 64, 11, 1599, 10994,
         11, 27604, 321, 33, 529, 11, 29881, 6954, 32574, 369, 18448, 11434, 45451, 320, 45, 23236, 8, 323,
         18448, 11434, 23470, 320, 30042, 38, 8, 448, 916, 220, 18, 17, 10, 80669, 4119, 304, 220, 16, 15, 15,
         10, 15459, 323, 5538, 94130, 2897, 1948, 619, 706, 11, 5355, 51, 21584, 323, 94986, 13],
    ),
    (
        "🤗 Transformers 提供了可以轻松地下载并且训练先进的预训练模型的 API 和工具。"
        "使用预训练模型可以减少计算消耗和碳排放，并且节省从头训练所需要的时间和资源。",
        [144834, 80532, 93685, 83744, 34187, 73670, 104261, 29490, 62189, 103937, 104034, 102830, 98841,
         104034, 104949, 9370, 5333, 58143, 102011, 1773, 37029, 98841, 104034, 104949, 73670, 101940, 100768,
         104997, 33108, 100912, 105054, 90395, 100136, 106831, 45181, 64355, 104034, 113521, 101975, 33108,
         85329, 1773],
    ),
    (
        '```python\ntokenizer = AutoTokenizer.from_pretrained("Qwen/Qwen-tokenizer")\ntokenizer("世界，你好！")```',
        [73594, 12669, 198, 85593, 284, 8979, 37434, 6387, 10442, 35722, 445, 48, 16948, 45274, 16948, 34841,
         3135, 1138, 85593, 445, 99489, 3837, 108386, 6313, 899, 73594],
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def tok() -> tokens.Tokenizer:
    return get_tokenizer()


@pytest.fixture(scope="module")
def tpl() -> ChatTemplate:
    return ChatTemplate.from_spec("Qwen/Qwen2.5-7B-Instruct")


def test_an_uncached_build_counts_like_the_cached_one() -> None:
    built = tokens.tokenizer_from_config("qwen2_5")  # how long it takes: benchmarks/bench_tokenizer.py
    assert built.count("Hello world") == 2 == get_tokenizer("qwen2_5").count("Hello world")


def test_models_share_one_cached_tokenizer() -> None:
    names = [f"Qwen/Qwen2.5-{size}-Instruct" for size in ("7B", "14B", "32B", "72B")]
    assert {id(get_tokenizer(n)) for n in names} == {id(get_tokenizer("qwen2_5"))}
    assert get_tokenizer().name == "qwen2_5"


def test_rules_file_found() -> None:
    assert (tokens._rules_dir() / "tokenizers.toml").is_file()
    cfg = tokens.token_config()
    assert len(cfg["tokenizers"]["qwen2_5"]["added_tokens"]) == 22
    assert set(cfg["models"]) >= {"Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-72B-Instruct"}


@pytest.mark.parametrize(
    ("text", "n"),
    [("你是智说新语生成器。", 8), ("你是智说新语生成器", 7), ("12345", 5), ("", 0)],
)
def test_known_counts(tok: tokens.Tokenizer, text: str, n: int) -> None:
    assert tok.count(text) == n


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Hello world", [9707, 1879]),
        ("how are you!", [5158, 525, 498, 0]),
        ("I'm fine!", [40, 2776, 6915, 0]),
        ("<|im_start|>hello<|im_end|>", [151644, 14990, 151645]),
        ("12345", [16, 17, 18, 19, 20]),
        *HF_INTEGRATION,
    ],
)
def test_known_ids(tok: tokens.Tokenizer, text: str, ids: list[int]) -> None:
    assert tok.encode(text) == ids
    assert tok.count(text) == len(ids)


def test_zhishuo_prompt_counts(tok: tokens.Tokenizer) -> None:
    prompts = json.loads((DATA / "zhishuo_prompts.json").read_text("utf-8"))
    assert tok.count(prompts["original_prompt"]) == 553
    assert tok.count(prompts["fine_tuned_prompt"]) == 8


def test_added_token_ids(tok: tokens.Tokenizer) -> None:
    added = tokens.token_config()["tokenizers"]["qwen2_5"]["added_tokens"]
    assert [tok.encode(t) for t in added] == [[151643 + i] for i in range(22)]
    assert tok.encode("<tool_call></tool_call>") == [151657, 151658]
    # Qwen-1 extras are not Qwen2.5 added tokens: plain text there
    assert tok.count("<|extra_0|>") == 7


def test_added_token_inside_content(tok: tokens.Tokenizer) -> None:
    text = "foo<|im_end|>bar"
    assert tok.encode(text) == [7975, 151645, 2257]
    assert tok.count(text) == tok.count("foo") + 1 + tok.count("bar")
    assert tok.count("a<|im_end|><|im_end|>\n") == 4


def test_nfc_normalisation(tok: tokens.Tokenizer) -> None:
    nfd, nfc = "\u03d2\u0301\u03d2\u0308\u017f\u0307", "\u03d3\u03d4\u1e9b"  # differ under every form
    assert tok.encode(nfd) == tok.encode(nfc)
    assert tok.count(unicodedata.normalize("NFD", "café 한국어")) == tok.count("café 한국어")
    assert tok.encode("\ufb01") != tok.encode("fi")  # NFC only, not NFKC
    # normalisation does not cross an added token
    assert tok.encode("e<|im_end|>\u0301") == tok.encode("e") + [151645] + tok.encode("\u0301")


@settings(deadline=None)
@given(st.text(max_size=40))
def test_nfd_equals_nfc(text: str) -> None:
    tok = get_tokenizer()
    assert tok.count(unicodedata.normalize("NFD", text)) == tok.count(unicodedata.normalize("NFC", text))


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("a\r\nb", [64, 319, 65]),  # CRLF is one token
        ("line one\r\nline two\r\n", [1056, 825, 319, 1056, 1378, 319]),
        ("🤗", [144834]),
        ("👨\u200d👩\u200d👧", [145367, 378, 235, 145233, 378, 235, 145665]),
        ("a     b", [64, 257, 293]),  # whitespace run keeps its last space for the word
        ("\n\n\n", [1406]),
        ("x   ", [87, 262]),
        ("3.14159", [18, 13, 16, 19, 16, 20, 24]),  # digits split individually
        ("def f(x):\n    return x + 1\n", [750, 282, 2075, 982, 262, 470, 856, 488, 220, 16, 198]),
        ("\t\tif (a) {\r\n", [197, 743, 320, 64, 8, 972]),
    ],
)
def test_pretokenizer_cases(tok: tokens.Tokenizer, text: str, ids: list[int]) -> None:
    assert tok.encode(text) == ids


def test_template_overhead(tok: tokens.Tokenizer, tpl: ChatTemplate) -> None:
    for role in ("system", "user", "assistant"):
        assert tpl.overhead(tok, role) == 5
        assert tok.count(tpl.render(role, "")) == 5
    assert tok.count(tpl.render("system", tpl.system_prompt or "")) == 21


def test_count_record(tok: tokens.Tokenizer) -> None:
    sys_, user, asst = "你是智说新语生成器", "鞋易净", "鞋面光鲜亮丽，却掩不住脚下的泥泞之路。"
    content = tok.count(sys_) + tok.count(user) + tok.count(asst)
    full = [{"role": "system", "content": sys_}, {"role": "user", "content": user},
            {"role": "assistant", "content": asst}]  # fmt: skip
    on, off = ChatTemplate.from_spec(), ChatTemplate.from_spec(default_system=False)
    r = on.count_record(full, tok)
    assert r == RecordTokens(tok.count(sys_), tok.count(user), tok.count(asst), content + 15, tok.count(asst) + 1, 1)
    assert off.count_record(full, tok) == r
    no_sys = full[1:]
    base = tok.count(user) + tok.count(asst) + 10
    assert on.count_record(no_sys, tok).total == base + 21
    assert off.count_record(no_sys, tok).total == base
    assert on.count_record(no_sys, tok).system == 0
    multi = no_sys * 3
    r3 = on.count_record(multi, tok)
    assert (r3.turns, r3.trainable) == (3, 3 * (tok.count(asst) + 1))
    assert r3.total == tok.count(on.render_record(multi))


def test_leading_newline_is_not_additive_but_counted_exactly(tok: tokens.Tokenizer, tpl: ChatTemplate) -> None:
    # "\n" after the role merges with a leading "\n" of the content into one "\n\n" token
    assert tok.count(tpl.render("user", "\nHello")) == tok.count("\nHello") + 5 - 1
    msgs = [{"role": "user", "content": "\nHello"}, {"role": "assistant", "content": "\r\n  ok"}]
    assert tpl.count_record(msgs, tok).total == tok.count(tpl.render_record(msgs))


_ROLES = st.sampled_from(["system", "user", "assistant"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role=_ROLES, text=st.text(max_size=60).filter(lambda t: not t[:1].isspace()))
def test_wrapper_is_additive(role: str, text: str) -> None:
    tok, tpl = get_tokenizer(), ChatTemplate.from_spec()
    assert tok.count(tpl.render(role, text)) == tok.count(text) + tpl.overhead(tok, role)


_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["\n", "\r\n", " ", "<|im_end|>", "<tool_call>", "12", "é", "e\u0301", "你好", "x"]),
             max_size=8).map("".join),
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({"role": _ROLES, "content": _TEXT}), max_size=5), st.booleans())
def test_record_total_is_exact(messages: list[dict[str, str]], default_system: bool) -> None:
    tok, tpl = get_tokenizer(), ChatTemplate.from_spec(default_system=default_system)
    r = tpl.count_record(messages, tok)
    assert r.total == tok.count(tpl.render_record(messages))


def test_golden_dataset(tok: tokens.Tokenizer, tpl: ChatTemplate) -> None:
    lines = (DATA / "shishuoxinyu_ft_data.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line)["messages"] for line in lines if line.strip()]
    assert len(records) == GOLDEN_RECORDS
    fast = [tpl.count_record(m, tok) for m in records]
    assert sum(r.total for r in fast) == GOLDEN_TOTAL
    assert sum(r.trainable for r in fast) == GOLDEN_TRAINABLE
    assert sum(r.turns for r in fast) == GOLDEN_RECORDS
    assert sum(tok.count(tpl.render_record(m)) for m in records) == GOLDEN_TOTAL  # slow path agrees


def test_profile_dict_config() -> None:
    profile = {
        "templates": {"t": {"message": "[{role}]{content}\n", "default_system": "S", "trainable_suffix": ""}},
        "models": {"m": {"tokenizer": "qwen2_5", "template": "t"}, "chat": ["other/shape"]},
    }
    tpl = ChatTemplate.from_spec("m", config=profile)
    tok = get_tokenizer()
    r = tpl.count_record([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], tok)
    assert r.trainable == tok.count("yo")
    assert r.total == tok.count(tpl.render_record([{"role": "user", "content": "hi"},
                                                   {"role": "assistant", "content": "yo"}]))  # fmt: skip


def test_unknown_spec_raises() -> None:
    with pytest.raises(TokenizerUnavailable, match="unknown tokenizer"):
        get_tokenizer("no-such-tokenizer")
    with pytest.raises(ValueError):
        ChatTemplate.from_spec("no/such-model")


def test_missing_tokenizer_json_or_unknown_model(tmp_path: Path) -> None:
    with pytest.raises(TokenizerUnavailable, match="no such model"):
        get_tokenizer(str(tmp_path / "tokenizer.json"))
    with pytest.raises(TokenizerUnavailable, match="no such model"):
        get_tokenizer("Qwen/Qwen9-7B-Instruct")


def test_hf_tokenizers_missing_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # simulate the optional dependency missing
    path = tmp_path / "tokenizer.json"
    path.write_text("{}")
    with pytest.raises(TokenizerUnavailable, match=r"pip install 'ftkit\[hf\]'"):
        get_tokenizer(str(path))


def test_tiktoken_named_never_downloads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tiktoken.load
    import tiktoken.registry

    asked: list[str] = []

    def network_read(path: str) -> bytes:  # what tiktoken would use to download
        asked.append(path)
        raise AssertionError("ftkit must not download at run time")

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty cache
    monkeypatch.setattr(tiktoken.load, "read_file", network_read)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    with pytest.raises(TokenizerUnavailable, match="never downloads"):
        tokens._tiktoken_named("cl100k_base")
    assert asked == []
    assert tiktoken.load.read_file is network_read  # restored after the attempt
    assert tiktoken.load.read_file_cached.__module__ == "tiktoken.load"
