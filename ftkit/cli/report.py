"""``ftkit report``: one data-quality page (HTML, Markdown or JSON) from one pass over the data.

Exit codes: 0 when the report is written, whatever the data holds (a report informs; it does not
gate), unless ``--fail-on`` is given: then 1 when a finding is at or above that severity. 2 for a
usage or I/O problem (an existing output without --force, an output that is an input, a bad price).
"""

from __future__ import annotations

import sys
import os
import threading
import time
from pathlib import Path
from typing import TextIO

import click

from ftkit.cli import EXIT_FINDINGS, EXIT_OK, UsageProblem, _settings, cli, jobs_option

GOALS = ("standard", "quality", "fast")
_SUFFIX_FORMAT = {".md": "md", ".markdown": "md", ".json": "json"}
#: Inputs at least this big get a progress display (when stderr is a terminal).
PROGRESS_FROM_BYTES = 8 << 20
# From this input size on, an HTML report is rendered by a helper process forked at the start.
HELPER_FROM_BYTES = 8 << 20


class Progress:
    """Phases of the report on stderr, with a bar and a running clock; silent unless ``enabled``.

    The scan itself happens inside ``build_table`` in one call, so progress is shown per phase
    (the clock keeps moving during the long first phase).
    """

    PHASES = ("reading, validating and tokenizing", "statistics, recommendation and cost", "drawing and writing")

    def __init__(self, stream: TextIO, enabled: bool, size: int) -> None:
        self.stream, self.enabled, self.size = stream, enabled, size
        self.phase, self.started = -1, time.monotonic()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self.thread = threading.Thread(target=self._tick, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join()
            self._draw(done=exc[0] is None)
            if exc[0] is not None:  # leave the line, so an error message starts on its own
                self.stream.write("\n")

    def next(self) -> None:
        with self.lock:
            self.phase += 1
        if self.enabled:
            self._draw()

    def _tick(self) -> None:
        while not self.stop.wait(0.2):
            self._draw()

    def _draw(self, done: bool = False) -> None:
        with self.lock:
            steps = len(self.PHASES)
            finished = steps if done else max(self.phase, 0)
            bar = "#" * (finished * 24 // steps)
            what = "done" if done else f"{self.PHASES[max(self.phase, 0)]} ({self.size / (1 << 20):,.1f} MB)"
            line = f"\rftkit report [{bar:<24}] {min(finished + (not done), steps)}/{steps} {what}  {time.monotonic() - self.started:.1f} s"
            self.stream.write(line + "\x1b[K" + ("\n" if done else ""))
            self.stream.flush()


def _format(fmt: str | None, output: Path | None) -> str:
    if fmt:
        return fmt
    return _SUFFIX_FORMAT.get(output.suffix.lower(), "html") if output else "html"


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; without it, the report goes to stdout (HTML only when stdout is not a terminal).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]),
              help="Output format [default: from the -o suffix (.md, .json), else html].")
@click.option("--model", help="Base model (a chat model of the profile) [default: the profile's default].")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Max Tokens for truncation and cost [default: the profile's].")
@click.option("--goal", type=click.Choice(GOALS), default="standard", show_default=True,
              help="For the recommendation: quality = Effect Priority, fast = Lightweight Fast.")
@click.option("--price", help="Training price per million tokens (SiliconFlow's console shows it; not published).")
@click.option("--currency", help="Currency of --price [default: CNY].")
@click.option("--examples", type=click.IntRange(min=0), default=3, show_default=True, help="Example lines shown per rule.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Exit 1 when a finding is at or above this severity [default: exit 0 whenever the report is written].")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option("--profile", help="Platform profile name or path [default: siliconflow].")
@jobs_option
def report(paths: tuple[str, ...], output: Path | None, fmt: str | None, model: str | None, max_tokens: int | None,
           goal: str, price: str | None, currency: str | None, examples: int, fail_on: str | None, force: bool,
           profile: str | None, jobs: int) -> None:
    """A data-quality report: verdict, findings, token statistics, recommendation and cost."""
    from ftkit.plan.cost import CostError, parse_price
    from ftkit.scan.engine import ValidationError, expand_paths
    from ftkit.outputs import OutputExists, OutputIsInput, atomic_write, check_outputs
    from ftkit.plan.params import ParameterError, check_parameters
    from ftkit.policy.profile import ProfileError, load_profile
    from ftkit.render.report import build_report, render_html, render_markdown

    settings = _settings(None)
    fmt = _format(fmt, output)
    if output is None and fmt == "html" and sys.stdout.isatty():
        raise UsageProblem("an HTML report is a file: give -o report.html (or redirect stdout, or use --format md)")
    try:
        prof = load_profile(profile or settings.profile)
        inputs = expand_paths(list(paths))
        if output is not None:
            check_outputs([output], inputs, force=force)
        if price is not None:
            parse_price(price)
        if max_tokens is not None:
            checked = check_parameters({"max_tokens": max_tokens}, prof)
            if not checked.ok:
                raise UsageProblem("; ".join(c.message for c in checked.checks if not c.ok))
    except (ProfileError, ValidationError, OutputExists, OutputIsInput, CostError, ParameterError) as exc:
        raise UsageProblem(str(exc)) from None
    chat = prof.models.get("chat", [])
    if model is not None and chat and model not in chat:
        raise UsageProblem(f"--model {model!r} is not a chat model profile {prof.name!r} can fine-tune; expected one of: {', '.join(chat)}")

    size = sum(p.stat().st_size for p in inputs)
    with _html_helper(fmt, size, jobs) as helper, Progress(sys.stderr, sys.stderr.isatty() and size >= PROGRESS_FROM_BYTES, size) as progress:
        progress.next()
        table = _load(paths, prof, model, max_tokens, settings, jobs)
        progress.next()
        try:
            result = build_report(table, prof, goal=goal, price=price, currency=currency,
                                  select=settings.select, ignore=settings.ignore, examples=examples)
        except CostError as exc:
            raise UsageProblem(str(exc)) from None
        progress.next()
        if fmt == "json":
            text = result.model_dump_json(indent=2) + "\n"
        else:
            text = (helper.ask(result) if helper else render_html(result)) if fmt == "html" else render_markdown(result)
        if output is None:
            click.echo(text, nl=False)
        else:
            try:
                with atomic_write(output) as out:
                    out.write(text.encode("utf-8"))
            except OSError as exc:
                raise UsageProblem(f"cannot write {output}: {exc.strerror or exc}") from None
    if output is not None:
        click.echo(f"wrote {output} ({fmt}): {result.verdict.sentence}", err=True)
    sev = result.validation.by_severity
    levels = {"error": ("error",), "warning": ("error", "warning"), "info": ("error", "warning", "info")}
    failed = fail_on is not None and any(sev[level] for level in levels[fail_on])
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


def _html_helper(fmt: str, size: int, jobs: int):  # type: ignore[no-untyped-def]
    """For a big input, a forked helper imports matplotlib (0.3 s) while the scan runs, then
    renders the page; small inputs render here (the helper would cost more than it saves)."""
    from contextlib import nullcontext

    from ftkit.scan import parallel

    if fmt != "html" or jobs < 2 or size < HELPER_FROM_BYTES or not hasattr(os, "fork"):
        return nullcontext(None)
    from ftkit.render.report import charts, render_html

    return parallel.Helper(charts.warm, render_html)


def _load(paths, prof, model, max_tokens, settings, jobs):  # type: ignore[no-untyped-def]
    """The one pass: validate and tokenize every valid record (with split keys for the cost, and FT504)."""
    from ftkit.cli.stats import load_table

    return load_table(paths, profile=prof, model=model, max_tokens=max_tokens, keys=True, near_duplicates=True, jobs=jobs,
                      select=tuple(settings.select), ignore=tuple(settings.ignore))
