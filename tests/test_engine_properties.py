"""Hypothesis properties of the validation engine.

- any valid record, however it is serialised, yields no error;
- a single mutation of a clean record yields exactly its code at its pointer;
- the fast path never accepts a record that the careful path would flag, personal data and
  secrets (FT6xx) included: the privacy prefilter never misses a kind, and a record's FT6xx
  findings are the same whichever path it takes;
- the JSON Schema and ftkit's structure rules agree;
- arbitrary bytes never crash the reader; two processes find what one finds.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.checks import record_checks
from ftkit.checks.prefilter import Prefilter
from ftkit.checks.privacy import PRIVACY_CODES
from ftkit.checks.sensitive import finder
from ftkit.policy.privacy import KINDS
from ftkit.policy.profile import load_profile
from ftkit.scan import parallel
from ftkit.scan.fastpath import CLEAN, SUSPECT, CleanCheck
from ftkit.scan.reader import parse_text
from support import REPO, findings

PROFILE = load_profile("siliconflow")
DATA = PROFILE.data
SPECIAL = DATA.special_tokens
MEDIA = DATA.media_placeholders  # FT304: the fast path must send these to the careful path too
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

clean_text = st.text(min_size=1, max_size=40).filter(lambda t: not t.isspace() and not any(s in t for s in (*SPECIAL, *MEDIA)))


@st.composite
def clean_records(draw: st.DrawFn) -> dict[str, Any]:
    msgs = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(clean_text)})
    for _ in range(draw(st.integers(1, 3))):
        msgs.append({"role": "user", "content": draw(clean_text)})
        msgs.append({"role": "assistant", "content": draw(clean_text)})
    return {"messages": msgs}


@st.composite
def serialised(draw: st.DrawFn, record: Any) -> str:
    """The record as one JSON line, in one of the ways real tools write it."""
    item_sep = draw(st.sampled_from([",", ", ", " , "]))
    key_sep = draw(st.sampled_from([":", ": ", " : ", ":\t"]))
    text = json.dumps(record, ensure_ascii=draw(st.booleans()), separators=(item_sep, key_sep))
    return draw(st.sampled_from(["", " "])) + text + draw(st.sampled_from(["", " ", "\t"]))


def careful(line: str) -> list[tuple[str, str]]:
    """What the careful path finds in one line (record rules + JSON-level findings)."""
    parsed = parse_text(line)
    out = [(code, ptr) for code, ptr, _ in parsed.findings]
    if parsed.ok:
        for rule in record_checks():
            out.extend((rule.code, ptr) for ptr, _ in rule.check(parsed.value, DATA))  # type: ignore[misc]
    return sorted(out)


def validate_line(tmp_path: Path, line: str) -> list[tuple[str, int, str]]:
    path = tmp_path / "one.jsonl"
    path.write_bytes(line.encode("utf-8") + b"\n")
    return findings(ftkit.validate(path))


@SETTINGS
@given(data=st.data())
def test_valid_record_yields_no_error(tmp_path: Path, data: st.DataObject) -> None:
    record = data.draw(clean_records())
    line = data.draw(serialised(record))
    report = ftkit.validate(_write(tmp_path, line))
    assert [v for v in report.violations if v.severity == "error"] == []
    assert report.files[0].valid_records == 1


def _write(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "one.jsonl"
    path.write_bytes(line.encode("utf-8") + b"\n")
    return path


def _message_index(record: dict[str, Any], draw: st.DrawFn) -> int:
    return draw(st.integers(0, len(record["messages"]) - 1))


MUTATIONS = [
    "drop_role", "drop_content", "misspell_role", "role_number", "content_not_string", "append_user",
    "append_assistant", "move_system", "unknown_record_key", "unknown_message_key", "drop_messages",
    "messages_object", "messages_empty", "message_string", "record_list", "empty_content", "special_token",
    "duplicate_role_key", "prepend_assistant", "system_only", "media_placeholder",
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, str]:
    """(line, expected code, expected pointer) from one mutation of a clean record."""
    record = draw(clean_records())
    kind = draw(st.sampled_from(MUTATIONS))
    msgs = record["messages"]
    i = _message_index(record, draw)
    p = f"/messages/{i}"
    if kind == "drop_role":
        del msgs[i]["role"]
        return json.dumps(record), "FT106", p
    if kind == "drop_content":
        del msgs[i]["content"]
        return json.dumps(record), "FT107", p
    if kind == "misspell_role":
        role = msgs[i]["role"]
        msgs[i]["role"] = draw(st.sampled_from([role.capitalize(), role.upper(), f" {role}", f"{role} ", "human" if role == "user" else "gpt", "tool"]))
        return json.dumps(record), "FT109", p + "/role"
    if kind == "role_number":
        msgs[i]["role"] = draw(st.sampled_from([0, 1.5, None, True, ["user"]]))
        return json.dumps(record), "FT108", p + "/role"
    if kind == "content_not_string":
        msgs[i]["content"] = draw(st.sampled_from([None, 3, [{"type": "text", "text": "x"}], {"text": "x"}, False]))
        return json.dumps(record), "FT110", p + "/content"
    if kind == "append_user":
        msgs.append({"role": "user", "content": "more?"})
        return json.dumps(record), "FT204", f"/messages/{len(msgs) - 1}"
    if kind == "append_assistant":
        msgs.append({"role": "assistant", "content": "also"})
        return json.dumps(record), "FT203", f"/messages/{len(msgs) - 1}/role"
    if kind == "move_system":
        assume(msgs[0]["role"] == "system")
        system = msgs.pop(0)
        at = draw(st.integers(1, len(msgs)))
        msgs.insert(at, system)
        return json.dumps(record), "FT201", f"/messages/{at}"
    if kind == "unknown_record_key":
        record[draw(st.sampled_from(["id", "tools", "system", "weight"]))] = 1
        return json.dumps(record), "FT111", ""
    if kind == "unknown_message_key":
        msgs[i][draw(st.sampled_from(["name", "weight", "tool_calls", "Role"]))] = 0
        return json.dumps(record), "FT112", p
    if kind == "drop_messages":
        return json.dumps({"conversation": msgs}), "FT102", ""
    if kind == "messages_object":
        return json.dumps({"messages": msgs[0]}), "FT103", "/messages"
    if kind == "messages_empty":
        return json.dumps({"messages": []}), "FT104", "/messages"
    if kind == "message_string":
        msgs[i] = msgs[i]["content"]
        return json.dumps(record), "FT105", p
    if kind == "record_list":
        return json.dumps(msgs), "FT101", ""
    if kind == "empty_content":
        msgs[i]["content"] = draw(st.sampled_from(["", " ", "\n", "\t \u3000"]))
        return json.dumps(record), "FT301", p + "/content"
    if kind == "special_token":
        msgs[i]["content"] += draw(st.sampled_from(SPECIAL))
        return json.dumps(record), "FT302", p + "/content"
    if kind == "media_placeholder":
        text = msgs[i]["content"]
        at = draw(st.integers(0, len(text)))
        msgs[i]["content"] = text[:at] + draw(st.sampled_from(MEDIA)) + text[at:]
        return json.dumps(record), "FT304", p + "/content"
    if kind == "duplicate_role_key":
        role = msgs[i]["role"]
        line = json.dumps(record).replace(f'"role": "{role}"', f'"role": "{role}", "role": "{role}"', 1)
        target = next(j for j, m in enumerate(msgs) if m["role"] == role)
        return line, "FT010", f"/messages/{target}/role"
    if kind == "prepend_assistant":
        at = 1 if msgs[0]["role"] == "system" else 0
        msgs.insert(at, {"role": "assistant", "content": "Hello"})  # a, u, a, ...: opens with the assistant
        return json.dumps(record), "FT202", f"/messages/{at}/role"
    # system_only
    return json.dumps({"messages": [{"role": "system", "content": "x"}]}), "FT205", "/messages"


@SETTINGS
@given(case=mutated())
def test_one_mutation_yields_exactly_its_code(tmp_path: Path, case: tuple[str, str, str]) -> None:
    line, code, pointer = case
    assert validate_line(tmp_path, line) == [(code, 1, pointer)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@st.composite
def any_records(draw: st.DrawFn) -> Any:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(json_values)
    record = copy.deepcopy(draw(clean_records()))
    if choice >= 2:  # perturb a clean record somewhere
        msgs = record["messages"]
        i = draw(st.integers(0, len(msgs) - 1))
        key = draw(st.sampled_from(["role", "content", "extra"]))
        msgs[i][key] = draw(json_values | st.sampled_from(["user", "assistant", "system", "", "<image>", "see <video> here", "<audio"]))
    return record


@SETTINGS
@given(record=any_records(), data=st.data())
def test_fast_path_never_accepts_what_a_rule_flags(record: Any, data: st.DataObject) -> None:
    line = data.draw(serialised(record))
    if data.draw(st.booleans()) and isinstance(record, dict) and record:  # smuggle in a duplicate key
        key = next(iter(record))
        line = line.replace(json.dumps(key), json.dumps(key) + ': 1, ' + json.dumps(key), 1) if line.count(json.dumps(key)) else line
    raw = line.strip().encode("utf-8")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return  # the careful path handles it
    if CleanCheck(DATA, Prefilter(KINDS))(obj, raw):
        assert careful(line) == []


@SETTINGS
@given(record=clean_records(), data=st.data())
def test_fast_path_never_accepts_a_media_placeholder(record: dict[str, Any], data: st.DataObject) -> None:
    """FT304 (a warning) is a finding: a record with ``<image>`` anywhere in its content must
    reach the careful path, where the rule reports it, however the line is written."""
    msgs = record["messages"]
    i = data.draw(st.integers(0, len(msgs) - 1))
    text = msgs[i]["content"]
    at = data.draw(st.integers(0, len(text)))
    msgs[i]["content"] = text[:at] + data.draw(st.sampled_from(MEDIA)) + text[at:]
    line = data.draw(serialised(record))
    raw = line.strip().encode("utf-8")
    assert not CleanCheck(DATA)(orjson.loads(raw), raw)
    assert ("FT304", f"/messages/{i}/content") in careful(line)


@SETTINGS
@given(record=any_records() | mutated().map(lambda c: json.loads(c[0])))
def test_a_rule_finds_nothing_below_the_level_it_needs(record: Any) -> None:
    """The scan runs a rule only on records that reach its ``needs`` level: that is only right if
    the rule would find nothing anyway on the others."""
    from ftkit.checks import level_of, record_checks

    level = level_of(record, DATA.roles)
    for rule in record_checks():
        if rule.needs > level:
            assert list(rule.check(record, DATA)) == [], (rule.code, level)  # type: ignore[misc]


# Pieces of text around personal data: real matches, look-alikes, and the characters the
# prefilter looks for, glued together at random with random text.
PRIVATE_PIECES = [
    "li.wei@corp-mail.cn", "user@example.com", "icon@2x.png", "13812345678@qq.com", "138 1234 5678", "+86 139-8765-4321",
    "010-62345678", "(0755) 8601 3388", "+44 20 7946 0958", "+41 44 668 18", "+1 415 555 0142", "11010519491231002X", "440304198506151238",
    "4290 8442 0425 3662", "4242424242424242", "6242895161721502292", "3710-099351-96701", "8.8.4.4", "2400:3200::1",
    "192.168.1.1", "version 1.2.3.4", "v1.2.3.4", "sk-Zq8Xv2LmN4pR7tW1yB6cD9fG3hJ5kQ0s", "sk-your-api-key-here",
    "AKIAZ7QW3RT5YU8IO2PL", "ASIAQ7ZW3RT5YU8IO2PL", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "xoxb-1234567890-abcdefABCDEF",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijklmnop",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----",
    "password=hunter2", "password \t  = hunter2", "Password: reset", "密码：abc12345", "口令  ： 'x9y8z7'", '"passwd": "S3cret!"', "pwd=x", "bypass=1234",
    "@", "sk-", "-", "--", "_", ":", "：", "=", "0", "1", "12", ".", "+", "(", ")", " ", "X", "\n", "密码", "password",
]  # fmt: skip
_pieces = st.sampled_from(PRIVATE_PIECES)
private_text = st.lists(
    _pieces | _pieces | st.text(max_size=6) | st.text(alphabet="0123456789 .-()+:Xx@", max_size=24), min_size=1, max_size=6
).map("".join)


@st.composite
def private_records(draw: st.DrawFn) -> dict[str, Any]:
    texts = st.one_of(clean_text, private_text.filter(lambda t: t.strip() and not any(s in t for s in SPECIAL)))
    msgs = [{"role": "system", "content": draw(texts)}] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(1, 2))):
        msgs += [{"role": "user", "content": draw(texts)}, {"role": "assistant", "content": draw(texts)}]
    return {"messages": msgs}


@settings(max_examples=1500, deadline=None)
@given(text=private_text, kinds=st.sets(st.sampled_from(KINDS), min_size=1))
def test_privacy_prefilter_never_misses_a_kind(text: str, kinds: set[str]) -> None:
    if not Prefilter(kinds).suspicious(text):  # the finder itself: find_all asks the prefilter first
        assert [m for m in finder().find(text) if m.kind in kinds] == []


def _colons(raw: bytes, record: dict[str, Any]) -> bool:
    return raw.count(b":") != len(record) + 2 * len(record["messages"])  # as CleanCheck counts them


@pytest.mark.parametrize("piece", [p for p in PRIVATE_PIECES if finder().find(p)])
def test_privacy_prefilter_on_the_bytes_finds_each_piece(piece: str) -> None:
    record = {"messages": [{"role": "user", "content": f"见 {piece}"}, {"role": "assistant", "content": piece}]}
    for kind in {m.kind for m in finder().find(piece)}:
        check = Prefilter([kind]).suspicious_line
        for ascii_only in (False, True):
            for seps in ((", ", ": "), (",", ":")):
                raw = json.dumps(record, ensure_ascii=ascii_only, separators=seps).encode()
                assert check(raw, f"见 {piece}{piece}", _colons(raw, record)), (kind, raw)


@settings(max_examples=600, deadline=None)
@given(record=private_records(), data=st.data(), kinds=st.sets(st.sampled_from(KINDS), min_size=1))
def test_privacy_prefilter_on_the_bytes_never_misses_a_kind(record: dict[str, Any], data: st.DataObject, kinds: set[str]) -> None:
    raw = data.draw(serialised(record)).strip().encode("utf-8")
    texts = [m["content"] for m in record["messages"]]
    if not Prefilter(kinds).suspicious_line(raw, "".join(texts), _colons(raw, record)):
        assert [m for t in texts for m in finder().find(t) if m.kind in kinds] == []


@SETTINGS
@given(record=private_records(), data=st.data())
def test_fast_path_never_accepts_private_data(record: dict[str, Any], data: st.DataObject) -> None:
    line = data.draw(serialised(record))
    raw = line.strip().encode("utf-8")
    verdict = CleanCheck(DATA, Prefilter(KINDS)).verdict(orjson.loads(raw), raw)
    found = careful(line)
    if verdict == CLEAN:
        assert found == []
    elif verdict == SUSPECT:  # well-formed: only the privacy rules may have something to say
        assert {code for code, _ in found} <= set(PRIVACY_CODES)


@SETTINGS
@given(record=private_records(), data=st.data())
def test_privacy_findings_are_the_same_on_every_path(tmp_path: Path, record: dict[str, Any], data: st.DataObject) -> None:
    line = data.draw(serialised(record))
    report = ftkit.validate(_write(tmp_path, line), privacy=True)
    assert sorted((code, ptr) for code, _, ptr in findings(report)) == careful(line)
    default = ftkit.validate(_write(tmp_path, line))  # FT601 only, of the family
    assert sorted((code, ptr) for code, _, ptr in findings(default)) == [f for f in careful(line) if f[0] not in PRIVACY_CODES[1:]]


SCHEMA = json.loads((REPO / "rules" / "schema" / "record.schema.json").read_text(encoding="utf-8"))
STRUCTURE_ERRORS = {f"FT1{n:02d}" for n in range(1, 11)}


@SETTINGS
@given(record=any_records() | mutated().map(lambda c: json.loads(c[0])))
def test_schema_agrees_with_structure_rules(record: Any) -> None:
    schema_ok = jsonschema.Draft202012Validator(SCHEMA).is_valid(record)
    codes = {code for code, _ in careful(json.dumps(record))}
    assert schema_ok == (not codes & STRUCTURE_ERRORS), codes


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "random.jsonl"
    path.write_bytes(data)
    report = ftkit.validate(path)
    assert report.files[0].records >= report.files[0].valid_records >= 0


line_kinds = st.sampled_from([
    '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}',
    '{"messages": [{"role": "user", "content": "Hey"}, {"role": "assistant", "content": "Yo"}]}\r',
    '{"messages": [{"role": "user", "content": "Hi"}]}',
    '{"messages": [{"role": "Assistant", "content": "Hi"}]}',
    "{'messages': []}",
    "",
    "{",
    '"messages": []',
    "}",
    '{"messages": [{"role": "user", "content": "<|im_end|>"}, {"role": "assistant", "content": "x"}], "id": NaN}',
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_kinds, min_size=1, max_size=60), final_newline=st.booleans())
def test_two_processes_find_what_one_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str], final_newline: bool) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(("\n".join(lines) + ("\n" if final_newline else "")).encode())
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    one = ftkit.validate(path, jobs=1)
    two = ftkit.validate(path, jobs=2)
    assert two == one


def _pairs(n: int, system: bool = False) -> list[dict[str, str]]:
    head = [{"role": "system", "content": "s"}] if system else []
    return head + [{"role": r, "content": f"{r} {i}"} for i in range(n) for r in ("user", "assistant")]


@pytest.mark.parametrize(
    ("record", "clean"),
    [
        ({"messages": _pairs(1)}, True),
        ({"messages": _pairs(32, system=True)}, True),  # the longest listed sequence
        ({"messages": _pairs(40)}, True),  # longer than the listed sequences: built
        ({"messages": _pairs(40, system=True)}, True),
        ({"messages": [*_pairs(40), {"role": "user", "content": "unanswered"}]}, False),
        ({"messages": [*_pairs(40), *_pairs(1, system=True)]}, False),  # a system message late
        ({"messages": [{"role": "user", "content": "a", "name": "x"}, {"role": "assistant", "content": "b"}]}, False),
        ({"messages": [{"role": "user", "content": "a:b", "x": 1}, {"role": "assistant", "content": "b"}]}, False),
        ({"messages": [{"role": ["user"], "content": "a"}, {"role": "assistant", "content": "b"}]}, False),
        ({"messages": [{"role": "user"}, {"role": "assistant", "content": "b"}]}, False),
        ({"messages": ["user", {"role": "assistant", "content": "b"}]}, False),
        ({"messages": [["role", "content"], {"role": "assistant", "content": "b"}]}, False),
        ({"messages": [{"role": "user", "content": ["a"]}, {"role": "assistant", "content": "b"}]}, False),
        ({"messages": [{"role": "user", "content": " \n"}, {"role": "assistant", "content": "b"}]}, False),
        ({"messages": _pairs(1), "id": 3}, False),  # a key the profile does not allow
    ],
)
def test_fast_path_on_records_it_must_judge_exactly(record: dict[str, Any], clean: bool) -> None:
    """The set of listed role sequences, sequences longer than it, and messages that are not
    exactly {role, content}: the fast path accepts exactly the records the rules accept."""
    for raw in (json.dumps(record).encode(), orjson.dumps(record)):
        assert CleanCheck(DATA, Prefilter(KINDS))(orjson.loads(raw), raw) is clean
        assert (careful(raw.decode()) == []) is clean  # and the rules agree


_U, _A = '{"role": "user", "content": ', '{"role": "assistant", "content": "b"}'


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        (f'{{"messages": [{_U}"a: b"}}, {_A}]}}', True),
        (f'{{"messages" : [{{"role" :"user" ,"content"\t: "a: b"}}, {_A}]}}', True),  # whitespace before colons
        # a duplicate key whose dropped value held a colon the parsed contents do not
        (f'{{"messages": [{{"role": "user", "content": "x:y", "content": "a"}}, {_A}]}}', False),
        # the content's colon escaped as \u003a: it is not in the bytes, so a duplicate could hide
        (f'{{"messages": [{{"role": "user", "content": "a\\u003ab", "role": "user"}}, {_A}]}}', False),
        (f'{{"messages": [{_U}"a\\u003ab"}}, {_A}]}}', False),  # clean, but sent to the careful path
        (f'{{"messages": [{_U}"a:b", "x": 1}}, {_A}]}}', False),  # a third key in a message
        (f'{{"messages": [], "messages": [{_U}"a"}}, {_A}]}}', False),  # the first, empty list dropped
    ],
)
def test_fast_path_counts_colons_exactly(line: str, clean: bool) -> None:
    """The duplicate-key test counts the line's colons against the keys and the contents' colons."""
    raw = line.encode()
    assert CleanCheck(DATA, Prefilter(KINDS))(orjson.loads(raw), raw) is clean
    if clean:
        assert careful(line) == []
