"""The ``ftkit`` command line: parse options, call the library, render, exit 0/1/2.

Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 usage or I/O error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ftkit import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageProblem(click.ClickException):
    """A one-line message and exit code 2: bad input we can explain, never a traceback."""

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def, override]
        click.echo(f"ftkit: {self.format_message()}", err=True)


def _split_codes(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _settings(config: str | None):  # type: ignore[no-untyped-def]
    from ftkit.config import ConfigError, find_pyproject, load_settings

    try:
        return load_settings(Path(config) if config else find_pyproject())
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None


jobs_option = click.option(
    "--jobs", type=click.IntRange(min=1), default=lambda: min(2, os.cpu_count() or 1),
    help="Processes for big files [default: up to 2 cores].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ftkit")
def cli() -> None:
    """Prepare chat fine-tuning JSONL for SiliconFlow: validate, measure, split, cost."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: no traceback reaches the user unless FTKIT_DEBUG is set."""
    try:
        cli.main(args=argv, prog_name="ftkit", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("ftkit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line
        if os.environ.get("FTKIT_DEBUG"):
            raise
        click.echo(f"ftkit: internal error: {type(exc).__name__}: {exc} (set FTKIT_DEBUG=1 for the traceback; please report it)", err=True)
        sys.exit(EXIT_USAGE)


# Each command lives in its own module and registers itself on the group.
from ftkit.cli import stats as _stats  # noqa: E402,F401
from ftkit.cli import validate as _validate  # noqa: E402,F401
from ftkit.cli import plan as _plan  # noqa: E402,F401
from ftkit.cli import split as _split  # noqa: E402,F401
from ftkit.cli import repair as _repair  # noqa: E402,F401
from ftkit.cli import report as _report  # noqa: E402,F401

if __name__ == "__main__":
    main()
