"""FT2xx: the order of turns (documented rules 5-7).

These rules look only at records whose every message has a valid role: a record with a missing
or misspelled role gets that finding alone, not a cascade of ordering complaints.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from ftkit.checks import ROLES, Problem, pointer, rule
from ftkit.policy.profile import DataRules


def _roles(record: Any, rules: DataRules) -> list[str] | None:
    if not isinstance(record, dict):
        return None
    msgs = record.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return None
    roles = []
    for msg in msgs:
        role = msg.get("role") if isinstance(msg, dict) else None
        if not isinstance(role, str) or role not in rules.roles:
            return None
        roles.append(role)
    return roles


def _leading_systems(roles: list[str]) -> int:
    n = 0
    while n < len(roles) and roles[n] == "system":
        n += 1
    return n


def _dialogue(roles: list[str]) -> list[tuple[int, str]]:
    """(index, role) of the user/assistant turns, misplaced system messages left out."""
    return [(i, r) for i, r in enumerate(roles) if r != "system"]


@rule("FT201", "system-not-first", needs=ROLES)
def system_not_first(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A system message comes after a user or assistant message.

    Why: documented rule 5: system messages must be at the beginning.

    Remedy: by hand: move the system message to the beginning.

    Pass: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Be brief."}, {"role": "assistant", "content": "Hello!"}]}
    """
    roles = _roles(record, rules)
    if roles:
        lead = _leading_systems(roles)
        for i in range(lead, len(roles)):
            if roles[i] == "system":
                yield pointer("messages", i), f"system message at position {i} follows a {roles[i - 1]} message; move it to the beginning"


@rule("FT202", "first-turn-not-user", needs=ROLES)
def first_turn_not_user(record: Any, rules: DataRules) -> Iterator[Problem]:
    """The first non-system message is not from the user.

    Why: documented rule 6: the conversation opens with a user message.

    Remedy: by hand: add the user's opening turn, or drop the reply before it.

    Pass: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
    roles = _roles(record, rules)
    turns = _dialogue(roles) if roles else []
    if turns and turns[0][1] != "user":
        i, role = turns[0]
        yield pointer("messages", i, "role"), f"the first non-system message is {role}, expected user"


@rule("FT203", "turns-not-alternating", needs=ROLES)
def turns_not_alternating(record: Any, rules: DataRules) -> Iterator[Problem]:
    """Two user or two assistant messages in a row.

    Why: documented rule 7: user and assistant alternate in pairs. Merge the two turns, or insert
    the missing reply.

    Remedy: `ftkit fix --merge-consecutive`, or by hand (insert the missing turn).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Anyone?"}, {"role": "assistant", "content": "Hello!"}]}
    """
    roles = _roles(record, rules)
    turns = _dialogue(roles) if roles else []
    for (_, prev), (i, role) in pairwise(turns):
        if role == prev:
            yield pointer("messages", i, "role"), f"{role} message follows another {role} message; user and assistant must alternate"


@rule("FT204", "ends-without-reply", needs=ROLES)
def ends_without_reply(record: Any, rules: DataRules) -> Iterator[Problem]:
    """The conversation ends with a user message that has no assistant reply.

    Why: documented rule 7: messages come in user/assistant pairs; an unpaired last question
    teaches nothing and may be rejected.

    Remedy: `ftkit fix --drop-unpaired-user` (a last question after a reply); a prompt set needs its replies generated first.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}]}
    """
    roles = _roles(record, rules)
    turns = _dialogue(roles) if roles else []
    if turns and turns[-1][1] == "user":
        yield pointer("messages", turns[-1][0]), "the conversation ends with a user message; add the assistant's reply or drop the turn"


@rule("FT205", "no-dialogue", needs=ROLES)
def no_dialogue(record: Any, rules: DataRules) -> Iterator[Problem]:
    """The record has system messages only: no user/assistant pair.

    Why: documented rule 7: at least one user/assistant pair.

    Remedy: by hand: add a user message and its reply.

    Pass: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "system", "content": "Be brief."}]}
    """
    roles = _roles(record, rules)
    if roles and not _dialogue(roles):
        yield pointer("messages"), "the record has only system messages; add at least one user message and its assistant reply"


@rule("FT206", "several-system-messages", needs=ROLES)
def several_system_messages(record: Any, rules: DataRules) -> Iterator[Problem]:
    """More than one system message at the start.

    Why: allowed by the rules, but chat templates differ in how they join them; one is clearer.

    Remedy: by hand: merge them into one.

    Pass: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
    roles = _roles(record, rules)
    if roles:
        lead = _leading_systems(roles)
        if lead > 1:
            yield pointer("messages", 1), f"{lead} system messages at the start; consider merging them into one"
