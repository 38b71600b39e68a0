"""FT5xx: the file as a whole. Detected by ``ftkit.scan.engine`` after the last line."""

from __future__ import annotations

from ftkit.checks import documented


@documented("FT501", "duplicate-record")
def _duplicate_record() -> None:
    """A record is byte-for-byte the same as an earlier one (the message names its line).

    Why: duplicates weigh some examples twice, and can leak from training into validation.

    Remedy: by hand: drop the copies.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<LF>{"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}<LF>{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT502", "too-few-records")
def _too_few_records() -> None:
    """The file has fewer records than the profile's min_records (10).

    Why: not documented as a limit, but so few examples rarely teach anything and overfit fast.

    Remedy: by hand: add examples.

    Fail: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT503", "shared-with-other-file")
def _shared_with_other_file() -> None:
    """A record is also in the file given to --against (the message names its line there).

    Why: a record in both training and validation is graded on what the model was trained on, so
    validation loss looks better than it is. Found only by ``ftkit validate FILE --against OTHER``
    (same canonical JSON, so key order and spacing do not hide a copy); ``ftkit split`` never
    puts a record on both sides.

    Remedy: `ftkit split` (never puts a record on both sides), or drop the copies by hand.

    Fail (validate train.jsonl --against validation.jsonl, both holding this record): train.jsonl:1 names validation.jsonl:1
    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT504", "near-duplicate-record")
def _near_duplicate() -> None:
    """A record is nearly the same text as an earlier one (the message names the line and how similar).

    Why: near-copies (a word changed, a sentence added, other spacing or punctuation) weigh an
    example twice as surely as exact copies do, slip past byte-for-byte deduplication, and leak
    from training into validation (``ftkit split --group-by near`` keeps them on one side).
    Compared: the user and assistant messages (system prompts are left out, since many datasets
    share one), cut into units: each Chinese or Japanese (Han, Kana) character alone, every other
    run of letters and digits as one word; case, character width, whitespace and punctuation
    do not count. Two records are near-duplicates when the Jaccard similarity of their sets of
    5-unit shingles (character shingles for Chinese and Japanese text, word shingles otherwise)
    is at least 0.8. Found with MinHash and locality-sensitive hashing (14 bands of 8 rows, over
    the first and last 500 characters of each record), then confirmed on the whole text; all
    these numbers are in the profile's [quality] table. Shingling text costs about as much as
    parsing it, so this runs where tokens are counted: ``ftkit validate --tokens``, ``report``.

    Remedy: by hand: drop the near-copies.

    Pass: {"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]}<LF>{"messages": [{"role": "user", "content": "Bye now"}, {"role": "assistant", "content": "Hello!"}]}
    Fail: {"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]}<LF>{"messages": [{"role": "user", "content": "hi,  There"}, {"role": "assistant", "content": "Hello."}]}
    Fail: {"messages": [{"role": "user", "content": "How do I change the delivery address of an order that has already shipped, and will the courier be told about the change?"}, {"role": "assistant", "content": "Open the order in your account, choose Change address, type the new address and save it. If the parcel has already left the warehouse, the courier is told at once and delivers to the new address; otherwise the warehouse ships it there directly."}]}<LF>{"messages": [{"role": "user", "content": "How do I change the delivery address of an order that has already been shipped, and will the courier be told about the change?"}, {"role": "assistant", "content": "Open the order in your account, choose Change address, type the new address and save it. If the parcel has already left the warehouse, the courier is told at once and delivers to the new address; otherwise the warehouse ships it there directly."}]}
    """


@documented("FT505", "conflicting-answers")
def _conflicting_answers() -> None:
    """The same prompt (every message before the last reply) gets a different final answer.

    Why: the model is trained towards both answers at once; unless the variety is intended, keep
    the better answer.

    Remedy: by hand: keep the better answer, unless the variety is intended.

    Pass: {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}<LF>{"messages": [{"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]}
    Fail: {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}<LF>{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "5"}]}
    """


@documented("FT506", "short-reply")
def _short_reply() -> None:
    """A final assistant reply is very short for this dataset (under a tenth of the median).

    Why: truncated or placeholder answers ("OK", "...") teach the model to stop early. Thresholds
    are in the profile's [quality] table; needs at least short_reply_min_records records.

    Remedy: by hand: complete or drop the reply.

    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT507", "same-system-prompt-everywhere")
def _same_system_prompt() -> None:
    """Every record starts with one identical system prompt (reported once per file).

    Why: its tokens are paid on every training example and every call afterwards; fine-tuning
    can teach the behaviour so that a short prompt (or none) suffices, as SiliconFlow's guide
    shows (553 tokens down to 8).

    Remedy: by hand: shorten the prompt once the behaviour is trained (`ftkit cost --prompt-before` shows the saving).

    Pass: {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """


@documented("FT508", "evaluation-overlap")
def _evaluation_overlap() -> None:
    """A record shares a run of 13 consecutive words with a record of the file given to --against.

    Why: an evaluation example that was trained on measures memory, not skill: the GPT-3 paper and
    datatrove call a document contaminated when it shares one 13-gram with a benchmark. Words
    are lower-cased runs of letters and digits; each Han or kana character is a word (n and the
    scripts are in the profile's [overlap] table). System prompts are not compared, nor n-grams
    shared by many evaluation records (a template). Found only by ``ftkit validate FILE
    --against EVAL`` (repeatable) and ``ftkit report FILE --against EVAL``; an exact copy is
    FT503 instead. The message quotes the overlapping words and names the evaluation line.

    Remedy: by hand: drop the record from the training file (or the evaluation record from the evaluation set).

    Fail (validate train.jsonl --against eval.jsonl, a training reply that copies 13 words of an evaluation answer): train.jsonl:1 names eval.jsonl:1
    Pass: {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    """
