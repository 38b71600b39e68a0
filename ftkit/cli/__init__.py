"""The ``ftkit`` command line: parse options, call the library, render, exit.

Exit codes, the same for every command: 0 clean; 1 findings at or above ``--fail-on`` (or data
that stops the command: nothing usable, a split refused); 2 a usage or I/O problem, with one
line on stderr and never a traceback; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129
hung up (SIGHUP): temporary files are removed first; 141 when the reader of the output went
away (``ftkit rules | head -1``). ``main`` is the one place where errors become exit codes.
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

import click

from ftkit import __version__
from ftkit.render.safe import encode, safe

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_PIPE, EXIT_INTERRUPTED = 141, 130


class Stopped(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so that every temporary file is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: Any) -> None:
    raise Stopped(signum)


# --- output -----------------------------------------------------------------------------------------


def emit(text: str, *, err: bool = False, newline: bool = True) -> None:
    """Write text as UTF-8 bytes (a lone surrogate as its escape: never an encoding crash)."""
    stream = sys.stderr if err else sys.stdout
    data = encode(text + ("\n" if newline else ""))
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:  # a text-only stream (click's test runner captures into one with a buffer; others may not)
        stream.write(data.decode("utf-8"))
        stream.flush()


def emit_lines(lines: Iterable[str]) -> None:
    """Write many lines in blocks, for outputs too big to build as one string."""
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) >= 2048:
            emit("\n".join(block))
            block.clear()
    if block:
        emit("\n".join(block))


class _Bytes:
    """Standard output as a binary stream, whatever sys.stdout is."""

    def write(self, data: bytes) -> int:
        emit(data.decode("utf-8"), newline=False)
        return len(data)


def stdout_binary() -> Any:
    sys.stdout.flush()
    return getattr(sys.stdout, "buffer", None) or _Bytes()


def colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    emit(f"ftkit: {safe(message)}", err=True)
    sys.exit(code)


# --- shared options ---------------------------------------------------------------------------------


def _split_codes(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--profile, --select, --ignore, --config, --no-config: the settings every command reads."""
    options = [
        click.option("--profile", help="Platform profile name or path to a profile .toml [default: siliconflow, or [tool.ftkit] profile]."),
        click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (FT1,FT203). Repeatable."),
        click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes. Repeatable."),
        click.option(
            "--config",
            type=click.Path(dir_okay=False),
            help="pyproject.toml to read [tool.ftkit] from [default: the nearest, within the repository].",
        ),
        click.option("--no-config", is_flag=True, help="Read no [tool.ftkit] settings."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def jobs_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--jobs", type=click.IntRange(min=1), default=lambda: min(2, os.cpu_count() or 1),
                        help="Processes for big files [default: up to 2 cores].")(func)  # fmt: skip


def quiet_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--quiet", "-q", is_flag=True, help="No progress display (it is shown only on a terminal anyway).")(func)


def settings_context(options: dict[str, Any], **extra: Any) -> Any:
    """The library's settings resolution, from the shared options (pops them from ``options``)."""
    from ftkit.api import context

    config: Any = False if options.pop("no_config", False) else (options.pop("config", None) or True)
    options.pop("config", None)
    select = _split_codes(options.pop("select", ()) or ())
    ignore = _split_codes(options.pop("ignore", ()) or ())
    return context(config, profile=options.pop("profile", None), select=select or None, ignore=ignore or None, **extra)


# --- the group and main ------------------------------------------------------------------------------


#: The module (``ftkit.cli.<module>``) each command lives in. It is imported when the command is
#: asked for, and registers it on the group: a command starts without the others' imports
#: (15 ms of validate's start-up).
COMMANDS = {"validate": "validate", "rules": "validate", "stats": "stats", "split": "split", "recommend": "plan", "cost": "plan",
            "report": "report", "show": "show", "fix": "repair", "convert": "repair"}  # fmt: skip


class Group(click.Group):
    """The ``ftkit`` group; its ``main`` is the one place where errors become exit codes, so
    the console script and a test's ``CliRunner`` see the same behaviour."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> NoReturn:  # fmt: skip
        previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGHUP)}
        try:
            _run(lambda: super(Group, self).main(args, prog_name or "ftkit", complete_var, standalone_mode=False, **extra))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:  # its module registers it on the group
            importlib.import_module(f"ftkit.cli.{COMMANDS[name]}")
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if ctx.obj is _CONSOLE and name in _COUNTING:  # the console script's own process only
            _steady_heap()
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:  # before click, which would turn a closed pipe into exit 1
            if exc.errno == errno.EPIPE:
                _pipe_closed()
            raise


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ftkit")
def cli() -> None:
    """Prepare chat fine-tuning data for SiliconFlow: validate, measure, split, cost, fix, convert."""


#: ``ctx.obj`` of a command run by the console script (``main``), not inside another program.
_CONSOLE = object()
#: The commands that build a token table, which the mmap threshold keeps compact (``_steady_heap``).
_COUNTING = frozenset(("stats", "split", "report", "recommend", "cost"))


def main(argv: Sequence[str] | None = None) -> None:
    """The console script. It tunes its own process, unlike a command run inside another
    program (``CliRunner``), which leaves the allocator and the collector alone."""
    restore = _fewer_collections()
    try:
        cli.main(args=argv, prog_name="ftkit", obj=_CONSOLE)
    finally:
        restore()


def _fewer_collections() -> Callable[[], None]:
    """Collect the youngest objects every 10,000 allocations instead of every 700, and keep what
    was imported before the command runs (click and ftkit's modules, most of the objects a
    collection would walk) out of later collections (``gc.freeze``). A scan makes a few objects a
    record and no reference cycles, so the default thresholds collect thousands of times for
    nothing: 4-8% of validate's CPU on 320k small records, mostly from the thresholds. Returns
    what puts the previous settings back."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)

    def restore() -> None:
        gc.set_threshold(*previous)
        gc.unfreeze()

    return restore


def _steady_heap() -> None:
    """For a command that counts tokens (``_COUNTING``; not validate, whose 1 MiB read buffers
    would each cost a fresh mapping: 0.05 s, a tenth, on 100 MB of large records):
    with glibc, give allocations of 1 MiB or more their own mappings (``M_MMAP_THRESHOLD``;
    the default threshold moves up as big blocks are freed). The token table's columns grow by
    realloc while the tokenizer makes many small allocations between them: on the moving
    threshold the heap fragments, about 34 bytes a record on 3.1M small records with fastokens
    (420 MB against 328 MB, ``ftkit.table`` in one process). And keep up to 4 MiB free at the top
    of the heap (``M_TRIM_THRESHOLD``, 128 KiB once the thresholds are fixed): the report's
    batches of text (FT504's shingles, FT305's counts) free and take back blocks of a few hundred
    KiB, and each one handed back was faulted in again: 323,000 page faults against 61,000 and
    0.66 s of system time against 0.28 s (``ftkit report --jobs 1`` on bench_report.py's 100 MB).
    Only the console script's own process is tuned; the library, and a command invoked inside
    another program, leave the allocator alone (tuned inside the test runner's process, it made
    that process's later subprocesses miss Ctrl-C)."""
    from ftkit.heap import steady

    steady(1 << 20, 4 << 20)


def _run(command: Callable[[], Any]) -> NoReturn:
    """Run the command; every error becomes one line and its exit code. No traceback reaches
    the user unless FTKIT_DEBUG is set."""
    from ftkit.errors import FtkitError

    try:
        code = command()
    except click.exceptions.NoArgsIsHelpError as exc:
        emit(exc.ctx.get_help() if exc.ctx is not None else str(exc))
        sys.exit(EXIT_OK)
    except click.Abort:
        _interrupted()
    except click.ClickException as exc:  # bad options, a missing argument: one line
        fail(exc.format_message() + _usage_hint(exc), exc.exit_code if exc.exit_code != 1 else EXIT_USAGE)
    except FtkitError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except Stopped as exc:
        _quiet_stderr()
        emit(f"ftkit: stopped by {signal.Signals(exc.signum).name}", err=True)
        sys.exit(128 + exc.signum)
    except BrokenPipeError:
        _pipe_closed()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            _pipe_closed()
        if os.environ.get("FTKIT_DEBUG"):
            raise
        if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG):
            _drop_stdout()  # what is still buffered for stdout cannot be written either
            fail(f"cannot write the output: {exc.strerror or exc}")
        fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
    except Exception as exc:  # a bug: say so in one line
        if os.environ.get("FTKIT_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set FTKIT_DEBUG=1 for the traceback; please report it)")
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    return f" (see `{ctx.command_path} --help`)" if ctx is not None else ""


def _interrupted() -> NoReturn:
    _quiet_stderr()
    emit("ftkit: interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


def _quiet_stderr() -> None:
    try:
        sys.stderr.write("\n" if getattr(sys.stderr, "isatty", lambda: False)() else "")
    except OSError:
        pass


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _pipe_closed() -> NoReturn:
    # The reader went away: nothing more to say to it; exit as a shell reports SIGPIPE.
    _drop_stdout()
    sys.exit(EXIT_PIPE)


if __name__ == "__main__":
    main()
