"""FT0xx: the file and each line's JSON. Detected by ``ftkit.scan.reader`` and ``ftkit.scan.engine``.

Examples are whole files: ``<LF>`` is a newline, ``<CR>`` a carriage return, ``<BOM>`` the UTF-8
byte-order mark, ``<xNN>`` a raw byte, ``<DIGITSn>`` n digits, ``path=NAME`` a file name; a final
newline is added.
"""

from __future__ import annotations

from ftkit.checks import documented


@documented("FT001", "file-extension")
def _file_extension() -> None:
    """The file name does not end in .jsonl.

    Why: SiliconFlow accepts only .jsonl training files.

    Remedy: by hand: rename the file to .jsonl (a .json array of records: `ftkit convert`).

    Pass: path=train.jsonl {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: path=train.json {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT002", "no-records")
def _no_records() -> None:
    """The file is empty or holds no record.

    Why: an upload with nothing to train on fails on the platform, after the wait.

    Remedy: by hand: the file needs records (was the right file exported?).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail:
    """


@documented("FT003", "not-utf8")
def _not_utf8() -> None:
    """A line is not valid UTF-8.

    Why: JSON Lines is UTF-8; other encodings (GBK, Latin-1) are misread or rejected.

    Remedy: by hand: re-save the file as UTF-8 (e.g. iconv -f GBK -t UTF-8).

    Pass: {"messages": [{"role": "user", "content": "caf<xc3><xa9>"}, {"role": "assistant", "content": "Oui"}]}
    Fail: {"messages": [{"role": "user", "content": "caf<xe9>"}, {"role": "assistant", "content": "Oui"}]}
    """


@documented("FT004", "utf8-bom")
def _utf8_bom() -> None:
    """The file starts with a UTF-8 byte-order mark.

    Why: a BOM is not JSON; strict parsers reject the first line. Save as "UTF-8" without BOM.

    Remedy: `ftkit fix`.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: <BOM>{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT005", "blank-line")
def _blank_line() -> None:
    """A blank (empty or whitespace-only) line; one newline at the end of the file is fine.

    Why: every line must be a JSON object; a blank line is an empty record to a strict reader.

    Remedy: `ftkit fix`.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<LF>
    """


@documented("FT006", "invalid-json")
def _invalid_json() -> None:
    """A line is not valid JSON (the message says where, and what it looks like).

    Why: the platform parses each line as one JSON object; one bad line fails the upload.

    Remedy: by hand: correct the JSON, or write the records again with json.dumps.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'}]}
    """


@documented("FT007", "several-values-on-line")
def _several_values() -> None:
    """A line holds more than one JSON value (two records glued together).

    Why: one line is one record; the second value is either lost or fails the whole line.

    Remedy: by hand: put each record on its own line.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]} {"messages": []}
    """


@documented("FT008", "record-spans-lines")
def _record_spans_lines() -> None:
    """One JSON object is spread over several lines (pretty-printed).

    Why: JSON Lines needs each record on one line; write with json.dumps(record) and no indent.

    Remedy: `ftkit fix` (joins the record onto one line); one pretty-printed record in another format: `ftkit convert`.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [<LF>{"role": "user", "content": "Hi"},<LF>{"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT009", "non-finite-number")
def _non_finite() -> None:
    """A NaN, Infinity or -Infinity literal, which JSON does not allow.

    Why: Python writes these by default (json.dumps allow_nan=True) but other parsers reject them.

    Remedy: by hand: write null or a string (json.dumps with allow_nan=False refuses NaN).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], "score": 1.0}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], "score": NaN}
    """


@documented("FT010", "duplicate-key")
def _duplicate_key() -> None:
    """An object has the same key twice.

    Why: most parsers silently keep the last one, so a duplicated "role" quietly turns a user
    turn into an assistant turn.

    Remedy: by hand: keep the one value meant.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "role": "assistant", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT011", "not-text")
def _not_text() -> None:
    """The file is not UTF-8 text: UTF-16/UTF-32 (e.g. saved by Windows tools) or binary data.

    Why: the platform reads UTF-8 JSON Lines; re-save the file as UTF-8.

    Remedy: by hand: re-save the file as UTF-8 (a Parquet file: `ftkit convert`).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: <xff><xfe>{<x00>"<x00>m<x00>"<x00>}<x00>
    """


@documented("FT012", "compressed-file")
def _compressed() -> None:
    """The file is compressed (gzip, zip, bzip2, xz or zstd) although it is named like text.

    Why: the platform expects plain .jsonl; decompress it first (e.g. gunzip -c data.jsonl > plain.jsonl).

    Remedy: by hand: decompress it (gunzip -c data.jsonl.gz > data.jsonl).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: <x1f><x8b><x08><x00>
    """


@documented("FT013", "line-too-long")
def _line_too_long() -> None:
    """A line is longer than the profile's max_line_bytes; it is reported, not loaded.

    Why: a line this long is almost always a file without newlines or binary data.

    Remedy: by hand: put one record on each line (or raise the profile's max_line_bytes).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT014", "nesting-too-deep")
def _too_deep() -> None:
    """JSON nested too deep to parse safely.

    Why: no chat record needs more than a few levels; deep nesting is corrupt or hostile input.

    Remedy: by hand: flatten the record.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT015", "crlf-line-ends")
def _crlf() -> None:
    """Lines end with CRLF (Windows line ends). Reported once per file, with the count.

    Why: harmless to JSON parsers, but worth knowing when files are compared or concatenated.

    Remedy: `ftkit fix`.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<CR>
    """


@documented("FT016", "lone-surrogate")
def _lone_surrogate() -> None:
    """A string holds an unpaired UTF-16 surrogate escape such as \\ud800.

    Why: it is not a character; it cannot be encoded as UTF-8 or tokenized.

    Remedy: by hand: repair the text the escape was cut from.

    Pass: {"messages": [{"role": "user", "content": "\\ud83d\\ude00"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "\\ud83d"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT017", "json-array-file")
def _json_array() -> None:
    """The file is one JSON array (a .json dataset), not one record per line.

    Why: JSON Lines wants one object per line; convert it (ftkit convert) or write one record per line.

    Remedy: `ftkit convert` (writes it as JSON Lines).

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: [<LF>{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<LF>]
    """


@documented("FT018", "integer-too-long")
def _integer_too_long() -> None:
    """An integer with more than 4,300 digits.

    Why: valid JSON, but Python's json (and many other parsers) refuse integers that long, so the
    upload may fail to parse; it is never a chat message. Write it as a string, or drop the key.

    Remedy: by hand: write the number as a string, or drop the key.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], "id": 12345}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], "id": <DIGITS4400>}
    """
