"""The shapes of ``ftkit report``: one ``QualityReport`` that every renderer (HTML, Markdown,
JSON) formats without computing anything."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ftkit.models import FileSummary, Severity
from ftkit.plan.cost import CostEstimate
from ftkit.plan.recommend import Recommendation
from ftkit.plan.stats import Bin, Stats

#: Version of the report's JSON shape; bump on any incompatible change (CHANGELOG.md).
REPORT_VERSION = "1"

#: Dataset rules shown in their own sections rather than with the platform's rules.
DUPLICATE_CODES = ("FT501", "FT504")
QUALITY_CODES = ("FT302", "FT303", "FT305", "FT505", "FT506", "FT507")
#: What the data shares with evaluation files (``--against``), shown in their own section.
OVERLAP_CODES = ("FT503", "FT508")
PRIVACY_CODES = ("FT601", "FT602", "FT603", "FT604", "FT605", "FT606")


class Example(BaseModel):
    """One finding shown as an example of its rule, with the start of the line it is on."""

    path: str
    line: int | None
    pointer: str
    message: str
    text: str | None = Field(None, description="the line's first characters (cut with '…'); None for file-level findings")


class RuleFindings(BaseModel):
    """Every finding of one rule: how many, and the first few as examples."""

    code: str
    name: str
    severity: Severity
    summary: str = Field(description="the rule's one-line documentation")
    remedy: str = Field("", description="what repairs it (the rule's Remedy: line): `ftkit fix`, a fix flag, `ftkit convert`, or by hand")
    count: int
    examples: list[Example]
    more: int = Field(description="findings not shown as examples")


class Verdict(BaseModel):
    ready: bool = Field(description="no error-level finding and at least one valid record")
    status: Literal["ready", "ready-with-warnings", "not-ready"]
    headline: str = Field(description='"Ready to upload", "Ready to upload, with warnings" or "Not ready"')
    reason: str = Field(description="why, in one sentence")
    sentence: str = Field(description="headline and reason together")


class Validation(BaseModel):
    profile: str
    files: list[FileSummary]
    records: int
    valid_records: int
    by_severity: dict[str, int] = Field(description="every finding, FT401-FT403 (Max Tokens) included")
    rules: list[RuleFindings] = Field(description="platform rules (not duplicates or quality rules), worst severity first")


class TurnCount(BaseModel):
    turns: int = Field(description="assistant replies per record; the last entry may be 'this many or more'")
    records: int
    or_more: bool = False


class Distribution(BaseModel):
    """Finer-grained distributions than ``Stats.histogram``, for the charts."""

    lengths: list[Bin] = Field(description="templated tokens per record, equal-width bins")
    turns: list[TurnCount]


class Share(BaseModel):
    part: str
    tokens: int
    share: float = Field(description="of all templated tokens")


class TokenShares(BaseModel):
    total: int
    parts: list[Share] = Field(description="system, user and assistant content, then template tokens")
    system_sentence: str = Field(description="what the system prompt costs, in one sentence")


class Duplicates(BaseModel):
    exact: RuleFindings
    near: RuleFindings


class EvaluationFile(BaseModel):
    path: str
    records: int


class Overlap(BaseModel):
    """What the data shares with the evaluation files given to ``--against``."""

    files: list[EvaluationFile]
    ngram: int = Field(description="consecutive words that make an overlap (FT508)")
    records: int = Field(description="records that copy (FT503) or overlap (FT508) an evaluation record")
    exact: RuleFindings = Field(description="FT503: the same record")
    ngrams: RuleFindings = Field(description="FT508: a shared run of ngram words")


class PrivacyKind(RuleFindings):
    """One kind of personal data or secret: how many, on which lines, masked examples."""

    kind: str = Field(description="the kind, as `ftkit fix --redact` names it (email, phone, id, card, ip, secret)")
    label: str
    placeholder: str = Field(description="what `ftkit fix --redact` writes instead")
    records: int = Field(description="records (lines) with at least one")
    lines: dict[str, list[int]] = Field(description="file -> the first lines it is on")
    more_lines: int = Field(description="lines with one not listed in `lines`")


class Privacy(BaseModel):
    """Personal data and secrets in the contents (FT601-FT606); values are only ever shown masked."""

    findings: int
    records: int = Field(description="records with at least one finding of any kind")
    kinds: list[PrivacyKind] = Field(description="every kind, in code order, each listed even when none was found")


class QualityReport(BaseModel):
    """What ``ftkit.report.build_report`` returns; ``ftkit report --format json`` prints it."""

    version: str = REPORT_VERSION
    tool: str = Field(description="ftkit and its version")
    profile: str
    model: str
    goal: str
    verdict: Verdict
    validation: Validation
    stats: Stats
    distribution: Distribution
    token_shares: TokenShares
    duplicates: Duplicates
    quality: list[RuleFindings] = Field(description="the quality rules, each listed even when it found nothing")
    overlap: Overlap | None = Field(None, description="with --against only: what the data shares with evaluation files")
    privacy: Privacy
    recommendation: Recommendation | None
    recommendation_note: str | None = Field(None, description="why there is no recommendation")
    cost: CostEstimate | None
    cost_note: str | None = Field(None, description="why there is no cost estimate")
