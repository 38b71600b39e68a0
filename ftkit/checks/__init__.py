"""The rule registry.

A rule is a small generator (after jsonschema's ``iter_errors`` and yamllint's rules): it looks at
one parsed record and yields ``(pointer, message)`` pairs. The engine stamps code, name, severity,
file and line. Each rule's docstring is its documentation: a one-line summary, why it matters, what repairs it
(``Remedy:``: ``ftkit fix``, ``ftkit fix --flag``, ``ftkit convert``, or by hand), and ``Pass:`` /
``Fail:`` examples that ``tests/test_rule_docs.py`` runs.

A record rule too slow to run on every record of a plain ``validate`` (which must keep pace with
a bare JSON parser) is registered ``costly``: the scan's fast path skips the ordinary record
rules for a plainly well-formed record, but the passes that count tokens (``validate --tokens``,
``report``) run the costly rules on every record without an error, whichever path it took.

File- and JSON-level rules (FT0xx) and dataset rules (FT5xx) are found by the reader and the
engine rather than by looking at one record; they are registered here all the same (with
``check=None``) so that every code has one name, one docstring and one place in ``ftkit rules``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ftkit.errors import ParameterError
from ftkit.policy.profile import DataRules

Problem = tuple[str, str]  # what a record rule yields: (JSON pointer, message)
RecordCheck = Callable[[Any, DataRules], Iterator[Problem]]
#: A costly rule's batch form: the problems of each of many records (``rule.check``'s, in a list each).
BatchCheck = Callable[[Sequence[Any], DataRules], list[list[Problem]]]


#: What a record rule needs before it can find anything, weakest first. The scan works out the
#: level of each record once and runs only the rules it reaches: a record that is not even an
#: object is not looked at by fourteen rules that would each find that out for themselves.
VALUE, OBJECT, MESSAGES, ROLES = 0, 1, 2, 3


def level_of(record: Any, roles: tuple[str, ...]) -> int:
    """VALUE (any JSON), OBJECT (a dict), MESSAGES ("messages" is a list), or ROLES (a non-empty
    list of messages that all have a valid role)."""
    if not isinstance(record, dict):
        return VALUE
    msgs = record.get("messages")
    if not isinstance(msgs, list):
        return OBJECT
    if msgs and all(isinstance(m, dict) and m.get("role") in roles for m in msgs):
        return ROLES
    return MESSAGES


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    doc: str
    check: RecordCheck | None
    needs: int = MESSAGES  # the level_of a record at which the rule can find anything
    #: run only where tokens are counted, on every valid record (see the module docstring)
    costly: bool = False
    #: for a costly rule, optionally: the same findings for many records at once (``batch_of``)
    batch: BatchCheck | None = None

    def problems(self, records: Sequence[Any], data: DataRules) -> list[list[Problem]]:
        """What the rule finds in each of ``records``: its batch form when it has one."""
        if self.batch is not None:
            return self.batch(records, data)
        return [list(self.check(record, data)) for record in records]  # type: ignore[misc]  # a record rule has a check

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    @property
    def remedy(self) -> str:
        """What repairs a finding of this rule: the docstring's ``Remedy:`` paragraph, on one line."""
        found = re.search(r"^\s*Remedy:\s*(.*?)\s*(?:\n\s*\n|\n\s*(?:Pass|Fail)\b|\Z)", self.doc, re.M | re.S)
        return " ".join(found.group(1).split()) if found else ""

    def examples(self, kind: str) -> list[str]:
        """The ``Pass:`` or ``Fail:`` example files written in the docstring."""
        return [m.group(1) for m in re.finditer(rf"^\s*{kind}:\s?(.*)$", self.doc, re.M)]


RULES: dict[str, Rule] = {}


def _register(code: str, name: str, func: Callable[..., Any], record_check: bool, needs: int = MESSAGES, costly: bool = False) -> None:
    if code in RULES:
        raise RuntimeError(f"rule code {code} registered twice")
    RULES[code] = Rule(code, name, inspect.getdoc(func) or "", func if record_check else None, needs, costly)


def rule(code: str, name: str, needs: int = MESSAGES, costly: bool = False) -> Callable[[RecordCheck], RecordCheck]:
    """Register a record rule: ``func(record, data_rules)`` yields ``(pointer, message)``.
    ``needs``: the ``level_of`` a record must reach for the rule to find anything (the rule
    must yield nothing below it; tests/test_engine_properties.py checks that). ``costly``: run
    only where tokens are counted (see the module docstring)."""

    def deco(func: RecordCheck) -> RecordCheck:
        _register(code, name, func, record_check=True, needs=needs, costly=costly)
        return func

    return deco


def batch_of(code: str) -> Callable[[BatchCheck], BatchCheck]:
    """Register the batch form of the costly rule ``code`` (registered just before): what its
    ``check`` yields for each record, for many records at once. The scan uses it for the records
    its fast path accepted (tests/test_language.py holds the two forms equal)."""

    def deco(func: BatchCheck) -> BatchCheck:
        RULES[code] = replace(RULES[code], batch=func)
        return func

    return deco


def documented(code: str, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a rule that the reader or the engine detects; the function only documents it."""

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        _register(code, name, func, record_check=False)
        return func

    return deco


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer: ``pointer("messages", 2, "role") == "/messages/2/role"``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def describe(value: Any) -> str:
    """A short, readable description of a JSON value for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {text!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def record_checks() -> list[Rule]:
    """Every rule that looks at a single parsed record on every scan, in code order."""
    _load()
    return [r for _, r in sorted(RULES.items()) if r.check is not None and not r.costly]


def costly_checks() -> list[Rule]:
    """The record rules that run only where tokens are counted, in code order."""
    _load()
    return [r for _, r in sorted(RULES.items()) if r.check is not None and r.costly]


def all_rules() -> list[Rule]:
    _load()
    return [r for _, r in sorted(RULES.items())]


_loaded = False


def _load() -> None:
    # Importing the family modules registers their rules (once: this is called per lookup).
    global _loaded
    if not _loaded:
        from ftkit.checks import content, conversation, dataset, file, length, privacy, structure  # noqa: F401

        _loaded = True


def remedy_of(code: str) -> str:
    """What repairs a finding of ``code`` ("" for a code that is not registered)."""
    _load()
    rule = RULES.get(code)
    return rule.remedy if rule is not None else ""


def rule_name(code: str) -> str:
    """The readable name of a code (the code itself for one that is not registered)."""
    _load()
    rule = RULES.get(code)
    return rule.name if rule is not None else code


class Selector:
    """flake8-style ``--select`` / ``--ignore`` by code prefix; the longer matching prefix wins."""

    def __init__(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> None:
        self.select = tuple(s.strip().upper() for s in select if s.strip())
        self.ignore = tuple(s.strip().upper() for s in ignore if s.strip())
        codes = {rule.code for rule in all_rules()}
        unknown = [p for p in (*self.select, *self.ignore) if not any(code.startswith(p) for code in codes)]
        if unknown:  # a typo must not switch every check off (or keep them on) unnoticed
            raise ParameterError(
                f"unknown rule code or prefix {', '.join(map(repr, unknown))} in select/ignore; `ftkit rules` lists the codes"
            )
        self._cache: dict[str, bool] = {}

    def __call__(self, code: str) -> bool:
        known = self._cache.get(code)
        if known is None:
            chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1) if self.select else 0
            dropped = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
            known = self._cache[code] = chosen >= 0 and chosen > dropped
        return known
