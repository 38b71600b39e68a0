"""Every error ftkit raises on purpose derives from ``FtkitError``; ``str(error)`` is one line
that says what is wrong and what to do. The command line turns each into ``ftkit: <message>``
and the class's ``exit_code`` (2 for usage and I/O problems, 1 where the data itself stops the
command), in one place (``ftkit.cli.main``). Anything else that escapes is a bug.
"""

from __future__ import annotations

from typing import Any


class FtkitError(Exception):
    """Base of every error ftkit raises on purpose."""

    exit_code = 2


class InputError(FtkitError):
    """An input that cannot be read as asked: missing, a directory, unreadable, a symlink loop."""


class ProfileError(FtkitError):
    """A profile name or file that cannot be loaded, or one with a bad value."""


class ConfigError(FtkitError):
    """A ``[tool.ftkit]`` table that cannot be used."""


class ParameterError(FtkitError):
    """An option or parameter of the wrong kind or out of range."""


class TokenizerError(FtkitError):
    """The tokenizer cannot be built offline, or its data is not the data known to be exact."""


class OutputError(FtkitError):
    """An output cannot be written (read-only directory, full disk, ...)."""


class OutputExists(OutputError):
    """An output file exists and replacing it was not asked for."""


class OutputIsInput(OutputError):
    """An output path names one of the inputs; ftkit never writes over its input."""


class DataError(FtkitError):
    """The data itself stops the command: nothing usable to count, split, recommend or cost.

    ``scan`` (when set) is the validation result that says why, for the caller to show.
    """

    exit_code = 1

    def __init__(self, message: str, scan: Any = None) -> None:
        super().__init__(message)
        self.scan = scan
