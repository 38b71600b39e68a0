"""FT5xx: the file as a whole. Detected by ``ftkit.engine`` after the last line."""

from __future__ import annotations

from ftkit.checks import documented


@documented("FT501", "duplicate-record")
def _duplicate_record() -> None:
    """A record is byte-for-byte the same as an earlier one (the message names its line).

    Why: duplicates weigh some examples twice, and can leak from training into validation.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<LF>{"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<LF>{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT502", "too-few-records")
def _too_few_records() -> None:
    """The file has fewer records than the profile's min_records (10).

    Why: not documented as a limit, but so few examples rarely teach anything and overfit fast.

    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
