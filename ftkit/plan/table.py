"""One pass over the inputs: validate them and tokenize every valid record into the table that
stats, split, recommend, cost and the report read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from ftkit.checks import Selector
from ftkit.errors import ParameterError
from ftkit.policy.profile import Profile
from ftkit.scan.engine import run_scan
from ftkit.scan.inputs import Input
from ftkit.tokens.table import Assumptions, RecordTable, TableBuilder
from ftkit.tokens.template import ChatTemplate
from ftkit.tokens.tokenizer import Engine, build_in_background, get_tokenizer, token_config

#: From this much input on, tokens are counted by the packaged rules' fast engine (fastokens, when
#: installed at a version known to be exact): it counts 3-5 times faster than tiktoken but takes
#: about a second longer to build, which the counting repays from about 20 MB of text.
FAST_FROM_BYTES = 48 << 20
#: Below this much input, by the small engine (pure Python, ``ftkit.tokens.bpe``, when ``regex`` and
#: tiktoken are at versions it was checked with): ready about 0.16 s sooner than tiktoken, it counts
#: about 0.24 s/MB slower (3.2 against 14 MB/s of the message text of tests/data), so it gains up
#: to about 0.7 MB of text; this leaves room for a small file's colder caches
#: (benchmarks/bench_tokenizer.py times stats by engine and size).
SMALL_BELOW_BYTES = 128 << 10


def choose_engine(size: int, fast: bool = True) -> Engine:
    """The engine that counts ``size`` bytes of input soonest (``fast=False``: never fastokens,
    for callers whose memory cannot spare it). The one place the choice is made."""
    if size < SMALL_BELOW_BYTES:
        return "small"
    return "fast" if fast and size >= FAST_FROM_BYTES else "tiktoken"


#: The columns ``ftkit.plan.stats.compute_stats`` reads, the only ones ``ftkit stats`` and
#: ``ftkit.stats()`` keep (not the reply positions: 8 bytes a record less). Here, not in the stats
#: module: that one is imported after the scan.
STATS_COLUMNS = ("line", "system", "user", "assistant", "total", "trainable", "turns", "system_key", "trainable_kept")


def resolve_model(profile: Profile, model: str | None) -> str:
    """The model asked for, or the profile's default; a model the profile cannot fine-tune is refused."""
    name = model or profile.tokens.default_model
    chat = profile.models.get("chat", ())
    if model is not None and chat and model not in chat:
        raise ParameterError(
            f"model {model!r} is not a chat model profile {profile.name!r} can fine-tune; expected one of: {', '.join(chat)}"
        )
    if name not in token_config()["models"]:
        raise ParameterError(f"unknown model {name!r}: no tokenizer and chat template for it in the packaged rules")
    return name


def build_table(
    inputs: Iterable[Input],
    profile: Profile,
    selected: Selector,
    *,
    model: str | None = None,
    tokenizer: str | None = None,
    default_system: bool | None = None,
    max_tokens: int | None = None,
    keys: bool = False,
    seed: str = "ftkit",
    jobs: int = 1,
    near_duplicates: bool | Literal["clusters"] = False,
    dataset_rules: bool = True,
    counter: Any = None,
    columns: Sequence[str] | None = None,
    config: str | None = None,
    privacy: bool | None = False,
    engine: Engine | None = None,
) -> RecordTable:
    """Validate ``inputs`` and tokenize every valid record once (see ``ftkit.tokens.table.COLUMNS``).

    ``near_duplicates`` also looks for FT504 (it shingles all text, a cost only the report and
    ``validate --tokens`` need to pay); "clusters" also when FT504 is not selected, and (with
    ``keys``) adds the ``near_key`` column that ``split --group-by near`` groups by. ``dataset_rules=False``: callers that only need to
    know which records have errors (stats, split, cost, recommend) skip the dataset warnings.
    ``privacy`` as ``run_scan``'s (default: only the FT6xx kinds the profile makes errors).
    ``columns``: keep only these columns of the table (split needs five of thirteen).
    ``engine``: which encoder counts (None: ``choose_engine`` of the input's size).
    """
    model_name = resolve_model(profile, model)
    spec = tokenizer or model_name
    items = list(inputs)
    size = sum(i.size for i in items)
    if engine is None:
        engine = choose_engine(size)
    big = size >= FAST_FROM_BYTES  # then the tokenizer is let go once the rows are counted (below)
    # Built (and its data checked) before any record is scanned: a bad tokenizer fails before any
    # line is read (the scan makes each builder ready first, FileScan._ready), and a forked second
    # process inherits it instead of building it again. The fast engine's second of building runs
    # in a thread, beside the scan's head start on its costly work (ftkit.scan.headstart).
    if engine == "fast":
        build_in_background(spec, engine)
    else:
        get_tokenizer(spec, engine)
    use_default = profile.tokens.default_system if default_system is None else default_system
    template = ChatTemplate.from_spec(model_name, default_system=use_default)
    limit = profile.tokens.max_tokens if max_tokens is None else max_tokens
    truncation = profile.tokens.truncation
    builders: list[TableBuilder] = []

    # A big input lets the tokenizer go once the last file's rows are counted (TableBuilder.release):
    # its memory (about 100 MB with the fast engine) is then the table's. The price: a later call
    # builds it again (about a second), which a big input's scan dwarfs. The files before the
    # last keep it (one build for them all, not one each).
    def let_go() -> None:  # every builder's reference, or the tokenizer stays alive
        from ftkit.tokens import tokenizer as tokenizers

        for builder in builders:
            builder.tok = None
        tokenizers.release_tokenizers()

    def make_builder() -> TableBuilder:
        last = len(builders) == len(items) - 1
        builders.append(TableBuilder(spec, template, keys=keys, seed=seed, max_tokens=limit, truncation=truncation, columns=columns,
                                     engine=engine, release=let_go if big and last else None))  # fmt: skip
        # made ready by the scan before its first record (FileScan._ready), and so before it forks:
        # the fast engine builds about 37 MB of tables on its first count, then shared
        return builders[-1]

    scan = run_scan(items, profile, selected, jobs=jobs, collector=make_builder, near_duplicates=near_duplicates,
                    dataset_rules=dataset_rules, counter=counter, config=config, privacy=privacy)  # fmt: skip
    # what the assumptions say, from a builder made ready before it let the tokenizer go
    probe = next((b for b in builders if b.source is not None), None)
    if probe is None:
        probe = TableBuilder(spec, template, max_tokens=limit, truncation=truncation, engine=engine)
        probe.ready()
    assumptions = Assumptions(model_name, probe.tokenizer_name or spec, template.name, template.message, template.trainable_suffix,
                              bool(use_default and template.system_prompt), probe.head, limit, probe.source, truncation)  # type: ignore[arg-type]  # ready() sets the source  # fmt: skip
    del probe
    for builder in builders:
        builder.release()
    import polars as pl  # after the scan: the child process never needs it

    frames = [b.frame().with_columns(file=pl.lit(i, dtype=pl.Int32)) for i, b in enumerate(builders)]
    names = [f.path for f in scan.files]
    rejected = {names[i]: sorted(b.rejected.tolist()) for i, b in enumerate(builders)}
    frame = pl.concat(frames) if frames else pl.DataFrame()
    prompts = {key: text for b in builders for key, text in b.system_prompts().items()}
    return RecordTable(scan, frame, names, [i.path for i in items], rejected, assumptions, dict(profile.severity), prompts)
