"""FT1xx: the shape of one record (documented rules 1-4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ftkit.checks import OBJECT, VALUE, Problem, describe, pointer, rule
from ftkit.policy.profile import DataRules


def _messages(record: Any) -> list[Any] | None:
    """The messages array when the record has one, else None (other rules report why)."""
    if isinstance(record, dict):
        msgs = record.get("messages")
        if isinstance(msgs, list):
            return msgs
    return None


def _message_objects(record: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, msg in enumerate(_messages(record) or ()):
        if isinstance(msg, dict):
            yield i, msg


@rule("FT101", "record-not-object", needs=VALUE)
def record_not_object(record: Any, rules: DataRules) -> Iterator[Problem]:
    """The line's JSON value is not an object.

    Why: documented rule 1: each line is an independent JSON object.

    Remedy: by hand: wrap a bare array of messages as {"messages": [...]}.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    """
    if not isinstance(record, dict):
        hint = ' (a bare messages array? wrap it: {"messages": [...]})' if isinstance(record, list) else ""
        yield "", f'record is {describe(record)}, expected a JSON object with a "messages" array{hint}'


@rule("FT102", "messages-missing", needs=OBJECT)
def messages_missing(record: Any, rules: DataRules) -> Iterator[Problem]:
    """The record has no "messages" key.

    Why: documented rule 2. Data in other shapes (Alpaca, ShareGPT "conversations") needs converting.

    Remedy: `ftkit convert` (Alpaca, ShareGPT, prompt/completion, preference pairs, Bedrock; `ftkit convert --map` for flat columns).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}
    """
    if isinstance(record, dict) and "messages" not in record:
        shape = ""
        if ("chosen" in record and "rejected" in record) or "chosen_messages" in record:
            shape = " (this looks like preference pairs: `ftkit convert --preference chosen` writes each prompt with its chosen reply)"
        elif "conversations" in record:
            shape = " (this looks like ShareGPT: convert it with `ftkit convert`)"
        elif "instruction" in record or "output" in record:
            shape = " (this looks like Alpaca: convert it with `ftkit convert`)"
        elif "prompt" in record and "completion" in record:
            shape = " (this looks like prompt/completion: convert it with `ftkit convert`)"
        elif any(k.lower() == "messages" for k in record if isinstance(k, str)):
            shape = ' (the key is case-sensitive: write "messages")'
        elif isinstance(record.get("text"), str):
            shape = " (plain text, no turns: chat fine-tuning needs user and assistant messages)"
        yield "", f'record has no "messages" key{shape}'


@rule("FT103", "messages-not-array", needs=OBJECT)
def messages_not_array(record: Any, rules: DataRules) -> Iterator[Problem]:
    """ "messages" is not an array.

    Why: documented rule 2: the value under "messages" is an array of message objects.

    Remedy: by hand: make "messages" an array of message objects.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": {"role": "user", "content": "Hi"}}
    """
    if isinstance(record, dict) and "messages" in record and not isinstance(record["messages"], list):
        yield pointer("messages"), f'"messages" is {describe(record["messages"])}, expected an array of messages'


@rule("FT104", "messages-empty")
def messages_empty(record: Any, rules: DataRules) -> Iterator[Problem]:
    """ "messages" is an empty array.

    Why: documented rule 2: the array must not be empty.

    Remedy: by hand: add the turns, or drop the record.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": []}
    """
    if _messages(record) == []:
        yield pointer("messages"), '"messages" is empty, expected at least one user message and one assistant reply'


@rule("FT105", "message-not-object")
def message_not_object(record: Any, rules: DataRules) -> Iterator[Problem]:
    """An element of "messages" is not an object.

    Why: documented rule 3: each element has "role" and "content" fields.

    Remedy: by hand: make each message an object with role and content.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": ["Hi", "Hello!"]}
    """
    for i, msg in enumerate(_messages(record) or ()):
        if not isinstance(msg, dict):
            yield pointer("messages", i), f'message is {describe(msg)}, expected an object with "role" and "content"'


@rule("FT106", "role-missing")
def role_missing(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message has no "role" key.

    Why: documented rule 3.

    Remedy: by hand: give each message its role (ShareGPT turns with "from": `ftkit convert`).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
    for i, msg in _message_objects(record):
        if "role" not in msg:
            alt = next((k for k in ("from", "speaker", "author", "Role") if k in msg), None)
            hint = f' (found "{alt}": rename it to "role")' if alt else ""
            yield pointer("messages", i), f'message has no "role"{hint}; expected one of {", ".join(rules.roles)}'


@rule("FT107", "content-missing")
def content_missing(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message has no "content" key.

    Why: documented rule 3. Tool-call messages without content are not supported for chat fine-tuning.

    Remedy: `ftkit convert --tools fold` for tool calls without content; otherwise by hand.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": []}]}
    """
    for i, msg in _message_objects(record):
        if "content" not in msg:
            alt = next((k for k in ("value", "text", "message", "tool_calls", "Content") if k in msg), None)
            hint = f' (found "{alt}")' if alt else ""
            yield pointer("messages", i), f'message has no "content"{hint}; expected a "content" string'


@rule("FT108", "role-not-string")
def role_not_string(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's "role" is not a string.

    Why: documented rule 4: the role is one of the strings system, user, assistant.

    Remedy: by hand: write the role as a string.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": 1, "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
    for i, msg in _message_objects(record):
        if "role" in msg and not isinstance(msg["role"], str):
            yield pointer("messages", i, "role"), f"role is {describe(msg['role'])}, expected one of the strings {', '.join(rules.roles)}"


@rule("FT109", "role-invalid")
def role_invalid(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's "role" is not exactly system, user or assistant (case and spaces matter).

    Why: documented rule 4. Other roles (tool, function, human, "Assistant") are rejected.

    Remedy: `ftkit fix` (case, spaces, known aliases); tool and function roles: `ftkit convert --tools fold`.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "Assistant", "content": "Hello!"}]}
    """
    for i, msg in _message_objects(record):
        role = msg.get("role")
        if isinstance(role, str) and role not in rules.roles:
            meant = intended_role(role, rules)
            hint = f'; did you mean "{meant}"?' if meant else ""
            yield pointer("messages", i, "role"), f"role {role!r} is not allowed, expected one of {', '.join(rules.roles)}{hint}"


def intended_role(role: str, rules: DataRules) -> str | None:
    stripped = role.strip()
    for candidate in (role, stripped, stripped.lower()):
        if candidate in rules.roles and candidate != role:
            return candidate
        if candidate in rules.role_aliases:
            return rules.role_aliases[candidate]
    return None


@rule("FT110", "content-not-string")
def content_not_string(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's "content" is not a string (null, a number, a list of parts).

    Why: chat fine-tuning takes plain-text content; multimodal part lists and nulls are not text.

    Remedy: `ftkit convert` (joins text parts; refuses media, and reasoning unless --reasoning drop).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}, {"role": "assistant", "content": "Hello!"}]}
    """
    for i, msg in _message_objects(record):
        if "content" in msg and not isinstance(msg["content"], str):
            content = msg["content"]
            hint = ""
            if isinstance(content, list):
                hint = " (a list of parts: join the text parts into one string)"
            elif content is None and "tool_calls" in msg:
                hint = " (a tool call: chat fine-tuning needs plain-text replies)"
            yield pointer("messages", i, "content"), f"content is {describe(content)}, expected a string{hint}"


@rule("FT111", "unknown-record-key", needs=OBJECT)
def unknown_record_key(record: Any, rules: DataRules) -> Iterator[Problem]:
    """The record has keys other than "messages" (e.g. id, tools, system).

    Why: the platform documents only "messages"; other keys are ignored at best, and often mean
    the data was meant for another format (a top-level "system" is not a system message).

    Remedy: `ftkit fix --remove-unknown-keys` (a top-level "system" string becomes the first system message).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"id": 7, "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
    if isinstance(record, dict) and "messages" in record:  # without messages, FT102 says it all
        extra = [k for k in record if k not in rules.record_keys]
        if extra:
            names = ", ".join(f'"{k}"' for k in extra)
            hint = ' (a top-level "system" is ignored: make it the first message with role "system")' if "system" in extra else ""
            yield "", f'record has unknown key{"s" if len(extra) > 1 else ""} {names}; only "messages" is used{hint}'


@rule("FT112", "unknown-message-key")
def unknown_message_key(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message has keys other than "role" and "content" (e.g. name, weight, tool_calls).

    Why: the platform documents only role and content; a "weight": 0 that you rely on to skip a
    turn in training is not honoured.

    Remedy: `ftkit fix --remove-unknown-keys`.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi", "name": "bob"}, {"role": "assistant", "content": "Hello!"}]}
    """
    for i, msg in _message_objects(record):
        extra = [k for k in msg if k not in rules.message_keys]
        if extra:
            names = ", ".join(f'"{k}"' for k in extra)
            yield (
                pointer("messages", i),
                f'message has unknown key{"s" if len(extra) > 1 else ""} {names}; only "role" and "content" are used',
            )
