"""What Subcue says to an OpenAI-compatible chat-completions server and how it reads what comes
back: the messages, the structured-output modes and how a server refuses one, the waits a
server asks for, and the JSON inside an answer. No I/O here; jobs/work/engines/llm.py makes the
calls (the cues' own protocol, shared with Gemini: cue_text.py).

Servers differ in what they accept: OpenAI, vLLM and recent Ollama take a JSON schema
(`json_schema`); older servers only JSON mode (`json_object`); some nothing but a prompt. In
`auto` the engine starts at the first and steps down when a server says no (`step_down`).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .cue_text import CUES_INSTRUCTION

MODES = ("json_schema", "json_object", "prompt")
"""Structured-output modes, the strictest first: `auto` starts at the first and steps down."""

CUES_JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "cues": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "text": {"type": "string"}},
                "required": ["index", "text"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["cues"],
    "additionalProperties": False,
}
"""cue_text.CUES_SCHEMA in standard JSON Schema, as OpenAI's strict mode requires it (every
property required, no others)."""

SCHEMA_NAME = "subtitle_cues"

JSON_ONLY = (
    'Answer with nothing but one JSON object of this form, no other text: {"cues": [{"index": '
    '<the cue\'s index>, "text": "<its translation>"}, ...]}'
)
"""The system line that stands in for a schema when the server enforces none (JSON mode: JSON,
but of no particular shape; prompt mode: maybe not even JSON)."""

TEMPLATE_TOKENS = 64
"""Tokens a chat template adds around the messages (role markers, the answer's start): with
one token per UTF-8 byte of their texts at most, the bound of a request's input."""

MAX_STEP_DOWNS = len(MODES) - 1
"""Structured-output modes a request may step down through (no attempt spent on them)."""

FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output")
"""Words of a 400 that refuses the structured-output mode asked for."""


def response_format(mode: str) -> dict | None:
    """The `response_format` of a request in `mode` (None: send none)."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "strict": True,
                                                       "schema": CUES_JSON_SCHEMA}}  # fmt: skip
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def messages(texts: list[str], mode: str) -> list[dict]:
    """The chat of one request: the translator's instruction as the system message (with the
    answer's form spelled out when no schema enforces it), and the request's texts (the
    instruction with language and glossary, the cues' JSON array, the context) as the user
    message, each on its own line: a server sees the cues as one line of JSON."""
    system = CUES_INSTRUCTION if mode == "json_schema" else f"{CUES_INSTRUCTION}\n{JSON_ONLY}"
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(texts)}]


def input_bound(chat: list[dict], mode: str) -> int:
    """The most input tokens a request can be billed: one per UTF-8 byte of its messages and
    schema, and the chat template's own."""
    sent = [m["content"] for m in chat]
    if (fmt := response_format(mode)) is not None:
        sent.append(json.dumps(fmt))
    return TEMPLATE_TOKENS + sum(len(text.encode()) for text in sent)


def error_words(param, message, body) -> str:
    """Everything a server's error says, lowercased, to look for what it refuses."""
    return " ".join(str(part) for part in (param, message, body) if part).lower()


def step_down(mode: str, param, message, body) -> str | None:
    """The next mode after a 400 refusing `mode`'s structured output (its `param`, `message`
    and `body`, as openai.BadRequestError holds them); None when the 400 is about something
    else, or nothing is left to step down to."""
    if mode not in MODES[:-1] or not any(w in error_words(param, message, body)
                                         for w in FORMAT_WORDS):  # fmt: skip
        return None
    return MODES[MODES.index(mode) + 1]


def wants_completion_tokens(param, message, body) -> bool:
    """A 400 saying `max_tokens` is not supported and `max_completion_tokens` is (OpenAI's
    newer models)."""
    words = error_words(param, message, body)
    return "max_tokens" in words and "max_completion_tokens" in words


def retry_after(headers, now: float | None = None) -> float | None:
    """The wait in seconds a response's headers ask for: `retry-after-ms`, else `Retry-After`
    in seconds or as an HTTP date; None when they ask for none (or say nonsense)."""
    if headers is None:
        return None
    said = headers.get("retry-after-ms")
    if said is not None:
        wait = _number(said)
        return None if wait is None else wait / 1000
    said = headers.get("retry-after")
    if said is None:
        return None
    wait = _number(said)
    if wait is not None:
        return wait
    try:
        when = parsedate_to_datetime(said.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _number(text: str) -> float | None:
    """A finite, non-negative number of a header, or None."""
    try:
        value = float(text.strip())
    except (AttributeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


OPENINGS = re.compile(r"[\[{\s]+")
"""A run of opening brackets: where one is nested too deep to read, the ones after it are too."""

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def dig_json(text: str | None) -> str | None:
    """The JSON object inside an answer, as text: the answer itself when it is one, else the
    outermost object found in it (past code fences and prose around it), the one holding
    `cues` first; a bare array of cues is wrapped as {"cues": [...]}. None: no JSON in it."""
    if not text or not text.strip():
        return None
    found: list = []
    for candidate in [text, *FENCE.findall(text)]:
        found += _values_in(candidate)
    objects = [v for v in found if isinstance(v, dict)]
    for value in objects:
        if "cues" in value:
            return json.dumps(value, ensure_ascii=False)
    arrays = [v for v in found if isinstance(v, list) and v and isinstance(v[0], dict)]
    if arrays:
        return json.dumps({"cues": arrays[0]}, ensure_ascii=False)
    return json.dumps(objects[0], ensure_ascii=False) if objects else None


def _values_in(text: str) -> list:
    """Each outermost JSON object or array of `text`, left to right (what one holds is never
    listed on its own)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while True:
        starts = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
        if not starts:
            return values
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            at = start + 1
            continue
        except RecursionError:  # nested past the reader's depth: junk, and so is all of its run
            at = OPENINGS.match(text, start).end()
            continue
        values.append(value)
        at = end


def is_local(base_url: str) -> bool:
    """Whether a server is on this machine or a private network (its tokens are likely free):
    a loopback or private address, `localhost`, a `.local`/`.internal`/`.lan` name, or a name
    without dots (a container's or a host's on the network)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host or host.endswith((".localhost", ".local", ".internal", ".lan"))
    return address.is_loopback or address.is_private or address.is_link_local
