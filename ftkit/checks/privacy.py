"""FT6xx: personal data and secrets in message content.

Each finding points at the message's content and says what was found, where
(``content[start:end]``, 0-based character offsets, end excluded) and the matched text masked:
never more than its first and last two characters. The matching is ``ftkit.checks.sensitive``;
what it looks for (patterns, checksums, prefixes, ranges, with their sources) is
``rules/privacy.toml``.

``ftkit validate`` checks the kinds marked ``in_validate`` there (FT601) by default and all six
with ``--privacy``; ``ftkit report`` and ``ftkit fix --redact`` check all of them; a profile that
makes one an error has it checked everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ftkit.checks import Problem, pointer, rule
from ftkit.checks.content import _contents
from ftkit.checks.sensitive import Match, find_all, mask
from ftkit.errors import ParameterError
from ftkit.policy.privacy import load_privacy
from ftkit.policy.profile import DataRules, Profile

#: The codes of the family, in kind order.
PRIVACY_CODES = ("FT601", "FT602", "FT603", "FT604", "FT605", "FT606")


def privacy_kinds(profile: Profile, selected: Callable[[str], bool], privacy: bool | None) -> dict[str, str]:
    """kind -> code of the kinds to check: those ``validate`` checks by default (``privacy`` None),
    all (True) or none (False); always those the profile makes errors; never deselected ones."""
    out = {}
    for name, kind in load_privacy().kinds.items():
        wanted = privacy or (privacy is None and kind.in_validate) or profile.severity.get(kind.code) == "error"
        if wanted and selected(kind.code):
            out[name] = kind.code
    return out


def redact_kinds(spec: str | Iterable[str] | bool | None) -> frozenset[str]:
    """The kinds named by ``--redact``: kind names (email, phone, id, card, ip, secret), rule
    names (national-id) or codes (FT603), comma-separated or as a list; "all" or True: every kind."""
    if spec is None or spec is False:
        return frozenset()
    rules = load_privacy()
    if spec is True:
        return frozenset(rules.kinds)
    from ftkit.checks import RULES, all_rules

    all_rules()
    names: dict[str, str] = {}
    for name, kind in rules.kinds.items():
        names.update({name: name, kind.code.lower(): name, RULES[kind.code].name: name})
    out: set[str] = set()
    for item in [spec] if isinstance(spec, str) else spec:
        for part in (p.strip().lower() for p in item.split(",")):
            if part == "all":
                out.update(rules.kinds)
            elif part in names:
                out.add(names[part])
            elif part:
                raise ParameterError(
                    f"unknown kind {part!r} to redact; expected all or any of {', '.join(rules.kinds)} (or their codes FT601-FT606)"
                )
    if not out and isinstance(spec, str):
        raise ParameterError(f"no kind to redact; expected all or any of {', '.join(rules.kinds)}")
    return frozenset(out)


def describe(match: Match, text: str) -> str:
    """The message of one match: kind (and what it is), offsets, the masked text, how to fix it."""
    kind = load_privacy().kinds[match.kind]
    what = kind.label if not match.detail else f"{kind.label} ({match.detail})"
    shown = mask(text[match.start : match.end])
    return f"{what} at content[{match.start}:{match.end}]: {shown!r}; remove it, or replace it with `ftkit fix --redact {match.kind}`"


def _found(record: Any, kind: str) -> Iterator[Problem]:
    for i, text in _contents(record):
        for match in find_all(text):
            if match.kind == kind:
                yield pointer("messages", i, "content"), describe(match, text)


@rule("FT601", "email-address")
def email_address(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content holds an email address.

    Why: real conversations carry customers' addresses; what a model is trained on it can repeat
    to anyone. Addresses at the domains reserved for documentation (example.com, .test, ...) are
    not anyone's and are not reported; "icon@2x.png" is a file name.

    Remedy: `ftkit fix --redact` (replaces it by its placeholder), or remove it by hand.

    Pass: {"messages": [{"role": "user", "content": "Write to support@example.com"}, {"role": "assistant", "content": "Done: icon@2x.png"}]}
    Fail: {"messages": [{"role": "user", "content": "I am li.wei@corp-mail.cn"}, {"role": "assistant", "content": "Thanks!"}]}
    """
    yield from _found(record, "email")


@rule("FT602", "phone-number")
def phone_number(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content holds a phone number (mainland mobile, fixed line with area code, or +international).

    Why: a phone number identifies a person. Mainland mobiles (1[3-9] and 9 digits, with spaces,
    dashes or +86), fixed lines with their area code (010-12345678, (0755) 8601 3388) and E.164
    numbers (+44 20 7946 0000) are found; order numbers, timestamps and bare digit runs are not.
    Checked by `validate --privacy`, `report` and `fix --redact`.

    Remedy: `ftkit fix --redact` (replaces it by its placeholder), or remove it by hand.

    Pass: {"messages": [{"role": "user", "content": "订单号 20240601123456，时间 1717200000"}, {"role": "assistant", "content": "收到"}]}
    Fail: {"messages": [{"role": "user", "content": "我的手机是 138 1234 5678"}, {"role": "assistant", "content": "好的"}]}
    """
    yield from _found(record, "phone")


@rule("FT603", "national-id")
def national_id(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content holds a PRC resident identity number (18 characters, valid check character).

    Why: the identity number names one person for life. A number counts when its region prefix
    and birth date are valid and its GB 11643-1999 check character is right; 18 digits with a
    wrong check character are not reported. Checked by `validate --privacy`, `report` and `fix --redact`.

    Remedy: `ftkit fix --redact` (replaces it by its placeholder), or remove it by hand.

    Pass: {"messages": [{"role": "user", "content": "编号 110105194912310020"}, {"role": "assistant", "content": "好的"}]}
    Fail: {"messages": [{"role": "user", "content": "身份证 11010519491231002X"}, {"role": "assistant", "content": "已登记"}]}
    """
    yield from _found(record, "id")


@rule("FT604", "payment-card")
def payment_card(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content holds a payment card number (Luhn-valid, with a known issuer prefix).

    Why: a card number is a credential as well as personal data. 12-19 digits (in groups or
    not) count when the Luhn digit is right and an issuer's prefix and length fit; published
    test numbers (4242 4242 4242 4242) do not. Checked by `validate --privacy`, `report` and `fix --redact`.

    Remedy: `ftkit fix --redact` (replaces it by its placeholder), or remove it by hand.

    Pass: {"messages": [{"role": "user", "content": "Test card 4242 4242 4242 4242, order 4111 1111 1111 1112"}, {"role": "assistant", "content": "OK"}]}
    Fail: {"messages": [{"role": "user", "content": "My card is 4539 1488 0343 6467"}, {"role": "assistant", "content": "Thanks"}]}
    """
    yield from _found(record, "card")


@rule("FT605", "ip-address")
def ip_address(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content holds a public IPv4 or IPv6 address.

    Why: a public address can locate and identify a customer. Private, loopback, link-local,
    documentation and other special ranges are not reported, nor are versions ("version
    1.2.3.4", "v1.2.3.4"). Checked by `validate --privacy`, `report` and `fix --redact`.

    Remedy: `ftkit fix --redact` (replaces it by its placeholder), or remove it by hand.

    Pass: {"messages": [{"role": "user", "content": "Router 192.168.1.1, docs 203.0.113.7, version 1.2.3.4"}, {"role": "assistant", "content": "OK"}]}
    Fail: {"messages": [{"role": "user", "content": "My server is 8.8.4.4 and 2400:3200::1"}, {"role": "assistant", "content": "OK"}]}
    """
    yield from _found(record, "ip")


@rule("FT606", "secret")
def secret(record: Any, rules: DataRules) -> Iterator[Problem]:
    """A message's content holds a secret: an API key or token, a private key, or a password value.

    Why: a credential in training data can come back in the model's answers. API keys (sk-...,
    AWS AKIA/ASIA, GitHub ghp_/github_pat_, Slack xox?-, Google AIza), JWTs, PEM private-key
    blocks and `password=`/`passwd:`/`密码：` values are found; placeholders ("sk-your-key-here",
    "password: ******") are not. Checked by `validate --privacy`, `report` and `fix --redact`.

    Remedy: `ftkit fix --redact` (replaces it by its placeholder), or remove it by hand.

    Pass: {"messages": [{"role": "user", "content": "Set OPENAI_API_KEY=sk-your-api-key-here and password=******"}, {"role": "assistant", "content": "OK"}]}
    Fail: {"messages": [{"role": "user", "content": "My key is sk-Zq8Xv2LmN4pR7tW1yB6cD9fG3hJ5kQ0s"}, {"role": "assistant", "content": "Thanks"}]}
    """
    yield from _found(record, "secret")
