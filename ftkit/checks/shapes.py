"""What a record looks like when it is not (yet) a plain SiliconFlow messages record.

One place knows the shapes of the chat formats ftkit reads, so that ``ftkit convert --from
auto`` and ``ftkit validate`` name them alike:

- ``shape_of(record)``: the format whose shape a record has (``FORMAT_ORDER``, most specific
  first: a preference pair in ShareGPT form is a preference pair before it is ShareGPT), and
  ``evidence(fmt, record)``: the keys that say so;
- ``media_of(record, placeholders)``: the images, videos, audio and documents a record refers to
  (media keys, content parts, ``<image>``-style placeholders in its text);
- ``failure_shape(record, data)``: the kind of a record with a finding, for the file-level line
  validate prints when most records fail the same way (``FileShape``), and ``shape_message``.

Pure functions of parsed JSON; the rules in this package do the judging.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from ftkit.findings import FileShape
from ftkit.policy.profile import DataRules

#: The formats whose shape a record can have, most specific first.
FORMAT_ORDER = ("bedrock", "preference", "kto", "multimodal", "openai", "sharegpt", "alpaca", "prompt-completion")
#: The layouts of turns a record can have underneath (a preference pair or a labelled record has one of these).
LAYOUTS = ("bedrock", "openai", "sharegpt", "alpaca", "prompt-completion")

#: How each format is named in messages.
DESCRIPTIONS = {
    "bedrock": "Amazon Bedrock conversation records",
    "preference": "preference pairs",
    "kto": "labelled (KTO) records",
    "multimodal": "multimodal records",
    "openai": "OpenAI messages",
    "sharegpt": "ShareGPT conversations",
    "alpaca": "Alpaca records",
    "prompt-completion": "prompt/completion records",
    "columns": "flat columns (--map)",
}

#: Record keys that hold media, and the kind of media.
MEDIA_KEYS = {"images": "image", "image": "image", "videos": "video", "video": "video", "audios": "audio", "audio": "audio"}
#: Content part types (OpenAI, LLaMA-Factory) that are not text, and the kind of media.
MEDIA_PARTS = {
    "image_url": "image", "image": "image", "input_image": "image",
    "video": "video", "video_url": "video", "input_video": "video",
    "audio": "audio", "input_audio": "audio", "audio_url": "audio",
    "file": "document", "input_file": "document", "document": "document",
}  # fmt: skip
#: Amazon Bedrock content blocks (no "type" key: the block's one key says what it is).
BEDROCK_MEDIA = {"image": "image", "video": "video", "document": "document"}
BEDROCK_BLOCKS = frozenset({"text", "toolUse", "toolResult", "reasoningContent", "cachePoint", *BEDROCK_MEDIA})
#: Message keys and content part types that hold a model's reasoning (not a reply).
REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
REASONING_PARTS = frozenset({"reasoning", "thinking"})
PREFERENCE_KEYS = (("chosen", "rejected"), ("chosen_messages", "rejected_messages"))
LABEL_KEYS = ("label", "kto_tag")


def _layout_keys(r: dict[str, Any]) -> list[str]:
    """The keys that give a record one of the layouts of turns (empty when it has none)."""
    if isinstance(r.get("messages"), list):
        return ["messages"]
    if isinstance(r.get("conversations"), list):
        return ["conversations"]
    if "instruction" in r and "output" in r:
        return ["instruction", "output"]
    if "prompt" in r and "completion" in r:
        return ["prompt", "completion"]
    return []


def is_bedrock(r: dict[str, Any]) -> bool:
    if isinstance(r.get("schemaVersion"), str) and r["schemaVersion"].startswith("bedrock-conversation"):
        return True
    msgs = r.get("messages")
    if not isinstance(msgs, list):
        return False
    if isinstance(r.get("system"), list):
        return True
    return any(_bedrock_blocks(m.get("content")) for m in msgs if isinstance(m, dict))


def _bedrock_blocks(content: Any) -> bool:
    """A content list made of Bedrock blocks: objects without "type", each with one known block key."""
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(b, dict) and "type" not in b and len(b) == 1 and next(iter(b)) in BEDROCK_BLOCKS for b in content)
    )


def preference_keys(r: dict[str, Any]) -> tuple[str, str] | None:
    return next((pair for pair in PREFERENCE_KEYS if pair[0] in r and pair[1] in r), None)


def label_key(r: dict[str, Any]) -> str | None:
    """The KTO label's key: ``kto_tag``, or a ``label`` that is true or false."""
    if "kto_tag" in r:
        return "kto_tag"
    return "label" if isinstance(r.get("label"), bool) else None


def _media_keys(r: dict[str, Any]) -> list[str]:
    return [k for k in MEDIA_KEYS if _count(r.get(k))]


def _count(value: Any) -> int:
    if isinstance(value, list):
        return sum(1 for v in value if v not in (None, "", [], {}))
    return 1 if value not in (None, "", [], {}, False) and not isinstance(value, (int, float)) else 0


def _parts(r: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every content part (an object in a content list) of the record's turns."""
    for key, field in (("messages", "content"), ("conversations", "value"), ("conversations", "content")):
        turns = r.get(key)
        if isinstance(turns, list):
            for turn in turns:
                content = turn.get(field) if isinstance(turn, dict) else None
                if isinstance(content, list):
                    yield from (p for p in content if isinstance(p, dict))


def _part_media(part: dict[str, Any]) -> str | None:
    kind = part.get("type")
    if isinstance(kind, str):
        return MEDIA_PARTS.get(kind)
    if len(part) == 1:
        return BEDROCK_MEDIA.get(next(iter(part)))
    return None


def strings(value: Any) -> Iterator[str]:
    """Every string value in a JSON value (keys left out)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def media_of(record: Any, placeholders: tuple[str, ...] = ()) -> dict[str, int]:
    """How many of each kind of media (image, video, audio, document) the record refers to:
    the largest of its media keys, its media content parts and its placeholders (``<image>``)."""
    if not isinstance(record, dict):
        return {}
    found: Counter[str] = Counter()
    by_key: Counter[str] = Counter()
    for key in _media_keys(record):
        value = record[key]
        by_key[MEDIA_KEYS[key]] += _count(value) if isinstance(value, list) else 1
    by_part = Counter(kind for part in _parts(record) if (kind := _part_media(part)))
    by_text: Counter[str] = Counter()
    if placeholders:
        for text in strings(record):
            if "<" in text:
                for mark in placeholders:
                    if mark in text:
                        by_text[mark.strip("<>|").lower()] += text.count(mark)
    for counts in (by_key, by_part, by_text):
        for kind, n in counts.items():
            found[kind] = max(found[kind], n)
    return {k: found[k] for k in sorted(found) if found[k]}


def describe_media(media: dict[str, int]) -> str:
    """``{"image": 2, "video": 1}`` -> ``"2 images, 1 video"``."""
    return ", ".join(f"{n:,} {kind}{'s' if n != 1 else ''}" for kind, n in media.items())


def _has_media(r: dict[str, Any]) -> bool:
    return bool(_media_keys(r)) or any(_part_media(p) for p in _parts(r))


_TESTS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "bedrock": is_bedrock,
    "preference": lambda r: preference_keys(r) is not None,
    "kto": lambda r: label_key(r) is not None and bool(_layout_keys(r)),
    "multimodal": lambda r: bool(_layout_keys(r)) and _has_media(r),
    "openai": lambda r: isinstance(r.get("messages"), list),
    "sharegpt": lambda r: isinstance(r.get("conversations"), list),
    "alpaca": lambda r: "instruction" in r and "output" in r,
    "prompt-completion": lambda r: "prompt" in r and "completion" in r,
}
#: How each format's shape is described when a record does not have it.
HINTS = {
    "bedrock": '"schemaVersion" or content as lists of {"text": ...} blocks',
    "preference": '"chosen" and "rejected" (or "chosen_messages" and "rejected_messages")',
    "kto": 'a true/false "label" (or "kto_tag") beside messages, conversations or prompt/completion',
    "multimodal": 'images, videos or audio ("images", "videos", "audios" or media content parts)',
    "openai": 'a "messages" array',
    "sharegpt": 'a "conversations" array',
    "alpaca": '"instruction" and "output"',
    "prompt-completion": '"prompt" and "completion"',
}


def has_shape(fmt: str, record: Any) -> bool:
    return isinstance(record, dict) and _TESTS[fmt](record)


def shape_of(record: Any) -> str | None:
    """The most specific format whose shape the record has, or None."""
    if isinstance(record, dict):
        for fmt in FORMAT_ORDER:
            if _TESTS[fmt](record):
                return fmt
    return None


def layout_of(record: Any) -> str | None:
    """The layout of the record's turns (bedrock, openai, sharegpt, alpaca, prompt-completion), or None."""
    if isinstance(record, dict):
        for fmt in LAYOUTS:
            if _TESTS[fmt](record):
                return fmt
    return None


def evidence(fmt: str, record: dict[str, Any]) -> list[str]:
    """The keys of the record that give it the shape of ``fmt``."""
    if fmt == "bedrock":
        keys = ["schemaVersion"] if "schemaVersion" in record else []
        if isinstance(record.get("system"), list):
            keys.append("system (a list)")
        return keys or ["messages[].content blocks"]
    if fmt == "preference":
        pair = preference_keys(record) or ()
        lead = [k for k in ("conversations", "messages", "prompt", "instruction") if k in record]
        return [*lead[:1], *pair]
    if fmt == "kto":
        return [*_layout_keys(record), label_key(record) or "label"]
    if fmt == "multimodal":
        media = _media_keys(record)
        return [*_layout_keys(record), *(media or ["media content parts"])]
    if fmt == "openai" and isinstance(record.get("system"), str):
        return ["messages", "system (a string)"]
    return _layout_keys(record)


# --- file-level patterns --------------------------------------------------------------------------


def failure_shape(record: Any, data: DataRules) -> str | None:
    """The kind of a record that has a finding, for the file-level line (``shape_message``), or
    None for a plain messages record that is simply wrong somewhere."""
    fmt = shape_of(record)
    if fmt is None:
        if isinstance(record, dict) and isinstance(record.get("text"), str) and "messages" not in record:
            return "pretraining-text"
        return None
    if fmt != "openai":
        return fmt
    if media_of(record, data.media_placeholders):
        return "multimodal"
    msgs = record["messages"]
    if any(isinstance(m, dict) and any(isinstance(m.get(k), str) and m[k] for k in REASONING_KEYS) for m in msgs):
        return "reasoning"
    if any(p.get("type") in REASONING_PARTS for p in _parts(record)):
        return "reasoning"
    roles = [m.get("role") if isinstance(m, dict) else None for m in msgs]
    if roles and roles[-1] == "user" and "assistant" not in roles and all(r in data.roles for r in roles):
        return "prompt-set"
    if isinstance(record.get("system"), str) and record["system"].strip():
        return "system-key"
    if any(isinstance(m, dict) and isinstance(m.get("content"), list) for m in msgs):
        return "content-parts"
    return None


_SHAPES = {
    "prompt-set": ("end on a user turn and have no reply at all: this looks like a prompt set (for distillation or reinforcement "
                   "fine-tuning), not chat fine-tuning data; generate the replies first (e.g. with a teacher model) and add each "
                   "as the final assistant message: no ftkit command can write them"),
    "alpaca": 'are Alpaca records (instruction/input/output), not messages: `ftkit convert` writes them as messages',
    "sharegpt": 'are ShareGPT records ("conversations" of from/value), not messages: `ftkit convert` writes them as messages',
    "prompt-completion": "are prompt/completion records, not messages: `ftkit convert` writes them as messages",
    "preference": ("are preference pairs (chosen/rejected, for DPO or ORPO): chat fine-tuning learns one reply per prompt; "
                   "`ftkit convert --preference chosen` writes each prompt with its chosen reply"),
    "kto": ('carry a true/false label (KTO): a reply labelled false is one the model should not learn, but the platform '
            "trains on every reply; `ftkit convert` writes the records labelled true and rejects the others"),
    "bedrock": ("are Amazon Bedrock conversation records (a system list, content as lists of blocks): "
                "`ftkit convert --from bedrock` writes them as messages"),
    "multimodal": ("refer to images, video or audio: SiliconFlow chat fine-tuning takes text only, so these records cannot "
                   "be trained as intended; `ftkit convert` rejects them and says why"),
    "reasoning": ("carry the model's reasoning (reasoning_content or reasoning parts): Qwen2.5's chat template has no "
                  "thinking part; `ftkit convert --reasoning drop` writes the replies without it"),
    "system-key": ('keep their system prompt in a top-level "system" key, which the platform ignores: '
                   "`ftkit fix --remove-unknown-keys` (or `ftkit convert`) moves it into a first system message"),
    "content-parts": "hold content as lists of text parts, not strings: `ftkit convert` joins the text parts into strings",
    "pretraining-text": ('hold plain text (a "text" key) and no turns: this looks like pretraining data; chat fine-tuning '
                         "needs user and assistant turns (two columns of question and answer: `ftkit convert --map "
                         "user=COL --map assistant=COL`)"),
}  # fmt: skip
SHAPE_KINDS = tuple(_SHAPES)


def file_shape(shapes: Counter[str], records: int, share: float) -> FileShape | None:
    """The file-level pattern: the failure shape of at least ``share`` of a file's ``records``
    (``shapes``: records with findings, by ``failure_shape``)."""
    if not shapes or not records:
        return None
    kind, n = shapes.most_common(1)[0]
    if n < share * records:
        return None
    return FileShape(kind, n, shape_message(kind, n, records))


def shape_message(kind: str, records: int, total: int) -> str:
    """The file-level line: how many records look like what, and what to do."""
    return f"{records:,} of {total:,} records {_SHAPES[kind]}"
