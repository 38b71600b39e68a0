"""``ftkit show PATH:LINE``: one record as the model sees it, token by token.

The templated text exactly as the tokenizer receives it (the default system prompt included
when the template adds one), each token with its id and whether it is trainable, the tokens of
each message, and where Max Tokens cuts. The tokens come from ``ftkit.tokens.view``, which works
from the same template data as the token table that stats, the report and ``validate --tokens``
read; the length findings (FT401-FT403) come from the same rules (``ftkit.checks.length``).
"""

from __future__ import annotations

import codecs
from typing import Any

from pydantic import BaseModel, Field

from ftkit.checks import Selector, level_of, record_checks, rule_name
from ftkit.checks.length import over_max_tokens, reply_cuts
from ftkit.errors import DataError, InputError, ParameterError
from ftkit.findings import Finding
from ftkit.models import Violation
from ftkit.plan.table import resolve_model
from ftkit.policy.profile import Profile
from ftkit.scan.inputs import Input
from ftkit.tokens.table import truncation_text
from ftkit.tokens.template import ChatTemplate
from ftkit.tokens.tokenizer import get_tokenizer
from ftkit.tokens.view import record_tokens


class TokenView(BaseModel):
    id: int
    text: str = Field(description="the token's text; a piece of a character split over tokens shows as U+FFFD (see bytes)")
    bytes: str | None = Field(None, description="the token's bytes in hex, when they are not UTF-8 on their own")
    trainable: bool = Field(description="an assistant content token or its end token")
    kept: bool = Field(description="within Max Tokens under the profile's truncation")
    message: int | None = Field(description="index in messages; null for the template's default system prompt")


class MessageView(BaseModel):
    message: int | None = Field(description="index in messages; null for the template's default system prompt")
    role: str
    start: int = Field(description="position of its first token in the templated sequence")
    tokens: int = Field(description="templated tokens of the message")
    content_tokens: int
    template_tokens: int = Field(description="tokens the template adds around the content")
    trainable: int
    trainable_kept: int


class Segment(BaseModel):
    """A run of text with the same marks, for the text renderer (not in the JSON)."""

    text: str
    trainable: bool
    kept: bool


class RecordView(BaseModel):
    """What ``ftkit.show`` returns; ``ftkit show --format json`` prints it (``segments`` left out)."""

    version: str = "1"
    path: str
    line: int
    model: str
    tokenizer: str
    template: str
    max_tokens: int
    truncation: str
    text: str = Field(description="the templated record exactly as the tokenizer receives it")
    total: int
    trainable: int
    trainable_kept: int
    reply_start: int = Field(description="position of the first trainable token (0 when none)")
    reply_end: int = Field(description="position just past the last trainable token (0 when none)")
    cut_at: int | None = Field(
        description="position where Max Tokens cuts (right) or 0 when the record is dropped whole; null when nothing is cut"
    )
    messages: list[MessageView]
    tokens: list[TokenView]
    findings: list[Violation] = Field(description="the record rules' findings on this record, and FT401-FT403 at Max Tokens")
    assumptions: list[str]
    segments: list[Segment] = Field(default_factory=list, exclude=True)


def read_record(item: Input, line: int, max_line_bytes: int) -> tuple[Any, list[Finding]]:
    """The parsed record that starts on ``line`` and its parse findings (``[]`` when fast-parsed)."""
    from ftkit.scan.reader import BLANK, UNPARSED, Reader

    if line < 1:
        raise ParameterError(f"line {line} does not exist: lines are numbered from 1")
    try:
        with open(item.path, "rb") as stream:
            last = 0
            for first, end, _, value, problems in Reader(stream, max_line_bytes):
                last = end
                if first <= line <= end and first != line:
                    raise ParameterError(f"{item.name}:{line} is inside the record that starts on line {first}; show {item.name}:{first}")
                if first == line:
                    if value is BLANK:
                        raise DataError(f"{item.name}:{line} is a blank line")
                    if value is UNPARSED:
                        why = "; ".join(f.message for f in problems or []) or "it is not JSON"
                        raise DataError(f"{item.name}:{line} cannot be read as a record: {why}")
                    return value, list(problems or [])
    except OSError as exc:
        raise InputError(f"cannot read {item.name}: {exc.strerror or exc}") from None
    raise ParameterError(f"{item.name} has {last:,} line{'s' if last != 1 else ''}; there is no line {line}")


def show_record(item: Input, line: int, profile: Profile, selected: Selector, *, model: str | None = None,
                tokenizer: str | None = None, default_system: bool | None = None, max_tokens: int | None = None) -> RecordView:  # fmt: skip
    """The record starting on ``line`` of ``item`` as ``model`` sees it. Raises ``DataError``
    when it is not a chat record that can be templated (``ftkit validate`` says why)."""
    record, problems = read_record(item, line, profile.data.max_line_bytes)
    messages = record.get("messages") if isinstance(record, dict) else None
    name = resolve_model(profile, model)
    tok = get_tokenizer(tokenizer or name)
    use_default = profile.tokens.default_system if default_system is None else default_system
    template = ChatTemplate.from_spec(name, default_system=use_default)
    try:
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise TypeError("no messages")
        parts = record_tokens(messages, template, tok)
    except TypeError:
        raise DataError(
            f"{item.name}:{line} is not a chat record with string roles and contents; `ftkit validate {item.name}` says why"
        ) from None
    limit = profile.tokens.max_tokens if max_tokens is None else max_tokens
    truncation = profile.tokens.truncation
    total = sum(len(p.ids) for p in parts)
    dropped = truncation == "drop" and total > limit
    tokens: list[TokenView] = []
    views: list[MessageView] = []
    for part in parts:
        start = len(tokens)
        for offset, (token, flag) in enumerate(zip(part.ids, part.trainable)):
            raw = tok.token_bytes(token)
            text, exact = _text(raw)
            kept = not dropped and start + offset < limit
            tokens.append(
                TokenView(id=token, text=text, bytes=None if exact else raw.hex(), trainable=flag, kept=kept, message=part.message)
            )
        mine = tokens[start:]
        views.append(MessageView(
            message=part.message, role=part.role, start=start, tokens=len(part.ids), content_tokens=part.content_tokens,
            template_tokens=len(part.ids) - part.content_tokens, trainable=sum(part.trainable),
            trainable_kept=sum(t.trainable and t.kept for t in mine),
        ))  # fmt: skip
    flagged = [i for i, t in enumerate(tokens) if t.trainable]
    trainable, within = len(flagged), sum(tokens[i].kept for i in flagged)
    reply_start, reply_end = (flagged[0], flagged[-1] + 1) if flagged else (0, 0)
    lengths = [*over_max_tokens([(line, total)], limit), *reply_cuts([(line, total, trainable, within, reply_start)], limit, truncation)]
    findings = [*problems, *_record_findings(record, line, profile, selected), *(f for f in lengths if selected(f.code))]
    return RecordView(
        path=item.name, line=line, model=name, tokenizer=tok.name, template=template.name, max_tokens=limit, truncation=truncation,
        text=template.render_record(messages), total=total, trainable=trainable, trainable_kept=within,
        reply_start=reply_start, reply_end=reply_end, cut_at=(0 if dropped else limit) if total > limit else None,
        messages=views, tokens=tokens,
        findings=[Violation(path=item.name, line=f.line if f.line is not None else line, pointer=f.pointer, code=f.code,
                            name=rule_name(f.code), severity=profile.severity.get(f.code, "error"), message=f.message)
                  for f in findings],
        assumptions=[f"chat template {template.name}, tokenizer {tok.name} (model {name})",
                     "records without a system message get the template's default system prompt" if use_default and template.system_prompt
                     else "no default system prompt is added to records without one",
                     truncation_text(truncation, limit)],
        segments=_segments(tokens, tok),
    )  # fmt: skip


def _text(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), False


def _segments(tokens: list[TokenView], tok: Any) -> list[Segment]:
    """Runs of tokens with the same marks, decoded together: a character whose bytes are split
    over two runs shows in the later one."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    out: list[Segment] = []
    for t in tokens:
        piece = decoder.decode(tok.token_bytes(t.id))
        if out and (out[-1].trainable, out[-1].kept) == (t.trainable, t.kept):
            out[-1].text += piece
        else:
            out.append(Segment(text=piece, trainable=t.trainable, kept=t.kept))
    if out:
        out[-1].text += decoder.decode(b"", final=True)
    return [s for s in out if s.text]


def _record_findings(record: Any, line: int, profile: Profile, selected: Selector) -> list[Finding]:
    """What the record rules say about this one record (dataset rules need the whole file)."""
    level = level_of(record, profile.data.roles)
    found = []
    for rule in record_checks():
        if rule.needs <= level and selected(rule.code) and rule.check is not None:
            found += [Finding(line, rule.code, pointer, message) for pointer, message in rule.check(record, profile.data)]
    return found
