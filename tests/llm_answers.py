"""What tests/llm_stub.py answers, without the HTTP: OpenAI's error bodies, the faults it can
be told to commit, what a chat completion request asks for (its text, target language and
cues) and the answer to it (content, usage, finish reason, streamed chunks)."""

import json
import math

from tests.cue_answers import CUE_FAULTS, LANG_RE, translated

MODELS = ["stub-model"]
"""The models a stand-in serves unless told others."""
PIECE_CHARS = 8
"""How many characters of the answer each streamed chunk carries."""
MAX_TOKENS_PARAMS = ("max_tokens", "max_completion_tokens")
_CONTEXT = "This model's maximum context length is 8192 tokens. Please reduce the length."
ERRORS = {  # fault name -> (HTTP status, error type, error code, message as OpenAI words it)
    "400": (400, "invalid_request_error", "context_length_exceeded", _CONTEXT),
    "401": (401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    "404": (404, "invalid_request_error", "model_not_found", "The model `{model}` does not exist"),
    "429": (429, "requests", "rate_limit_exceeded",
            "Rate limit reached for requests per min (RPM). Please try again in {after}s."),
    "500": (500, "server_error", None,
            "The server had an error while processing your request. Sorry about that!"),
    "502": (502, "server_error", None, "Bad gateway."),
    "503": (503, "server_error", None, "The server is overloaded or not ready yet."),
}  # fmt: skip
FAULTS = set(ERRORS) | CUE_FAULTS | {"malformed", "empty", "disconnect", "hang", "ok"}
UNSUPPORTED_MAX_TOKENS = ("Unsupported parameter: 'max_tokens' is not supported with this model."
                          " Use 'max_completion_tokens' instead.")  # fmt: skip
NO_JSON_WORD = ("'messages' must contain the word 'json' in some form, to use 'response_format'"
                " of type 'json_object'.")  # fmt: skip


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:  # fmt: skip
    """An error body as OpenAI sends it."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_of(name: str, **words) -> tuple[int, dict]:
    """The status and body of the error a fault names, its message filled with `words`."""
    code, kind, err_code, message = ERRORS[name]
    return code, error_body(message.format(**words), kind, None, err_code)


def model_json(model: str) -> dict:
    """One model as GET /v1/models lists it."""
    return {"id": model, "object": "model", "created": 0, "owned_by": "stub"}


def as_fault(fault) -> tuple[str, dict]:
    """Normalise "500", ("429", {...}), ["429", {...}] or {"name": "429", ...} to a known
    (name, params) pair; ValueError names an unknown fault."""
    if isinstance(fault, dict):
        params = dict(fault)
        name = params.pop("name", None)
    elif isinstance(fault, str):
        name, params = fault, {}
    else:
        name, params = fault[0], dict((list(fault) + [{}])[1] or {})
    if str(name) not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")
    return str(name), params


def message_text(messages: list) -> str:
    """All the messages' texts joined by newlines; a content is a string or a list of parts."""
    texts = []
    for message in messages:
        content = message.get("content") or ""
        parts = [content] if isinstance(content, str) else [p.get("text", "") for p in content]
        texts.extend(parts)
    return "\n".join(texts)


def cues_asked(text: str) -> list[dict] | None:
    """The cues a request asks to translate: its first line that is exactly a JSON array of
    {"index", "text"} objects (a "Context only" line is not pure JSON, so it never counts)."""
    for line in text.split("\n"):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, list) and found and all(
            isinstance(c, dict) and "index" in c and "text" in c for c in found
        ):  # fmt: skip
            return found
    return None


def request_facts(req: dict) -> dict:
    """What the call log keeps of a request body (never a key)."""
    text = message_text(req.get("messages") or [])
    asked = cues_asked(text)
    param = next((p for p in MAX_TOKENS_PARAMS if req.get(p) is not None), None)
    return {
        "model": req.get("model"), "stream": bool(req.get("stream")), "prompt": text,
        "response_format": (req.get("response_format") or {}).get("type"),
        "max_tokens_param": param, "max_tokens": req.get(param) if param else None,
        "temperature": req.get("temperature"),
        "cue_indexes": [c["index"] for c in asked] if asked else None,
        "lang": m.group(1) if (m := LANG_RE.search(text)) else "xx",
    }  # fmt: skip


def refusal(req, server) -> tuple[int, dict] | None:
    """The 400 or 404 a real server with `server`'s models and capabilities gives this request
    body, None if it is acceptable."""
    if not isinstance(req, dict) or not isinstance(req.get("messages"), list):
        return 400, error_body("Missing required parameter: 'messages'.", param="messages")
    if req.get("model") not in server.models:
        return error_of("404", model=req.get("model"))
    form = req.get("response_format") or {}
    kind = form.get("type")
    refused = {  # param -> (whether refused, message as OpenAI words it)
        "max_tokens": (server.max_tokens_param != "max_tokens" and "max_tokens" in req,
                       UNSUPPORTED_MAX_TOKENS),
        "response_format": (not {"json_schema": server.json_schema,
                                 "json_object": server.json_object}.get(kind, True),
                            f"response_format.type '{kind}' is not supported by this model"),
        "response_format.json_schema.name": (
            kind == "json_schema" and not (form.get("json_schema") or {}).get("name"),
            "Missing required parameter: 'response_format.json_schema.name'."),
        "messages": (kind == "json_object"
                     and "json" not in message_text(req["messages"]).lower(), NO_JSON_WORD),
    }  # fmt: skip
    return next(((400, error_body(message, param=param))
                 for param, (why, message) in refused.items() if why), None)  # fmt: skip


def answer_content(facts: dict, fault: str) -> str:
    """The answer's content for a request's facts: {"cues": [...]} as JSON, fenced in prose as
    a local model does when no response_format asked for JSON, spoilt as `fault` says."""
    asked = cues_asked(facts["prompt"]) or []
    content = json.dumps({"cues": translated(asked, facts["lang"], fault)}, ensure_ascii=False)
    if facts["response_format"] not in ("json_schema", "json_object"):
        content = f"Here are the translations:\n```json\n{content}\n```"
    if fault == "empty":
        return ""
    if fault == "malformed":
        return content[: max(12, len(content) // 2)]  # cut off mid-JSON
    return content


def tokens(text: str) -> int:
    """Tokens billed for a text: a token per 4 bytes of UTF-8, rounded up."""
    return math.ceil(len(text.encode()) / 4)


def billed(prompt: str, content: str, limit: int | None) -> tuple[str, str, dict]:
    """The content as sent, its finish reason and usage: cut at `limit` completion tokens with
    finish_reason "length", as real servers do."""
    prompt_tokens, out, finish = tokens(prompt), tokens(content), "stop"
    if limit is not None and out > int(limit):
        content = content.encode()[: int(limit) * 4].decode(errors="ignore")
        out, finish = int(limit), "length"
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": out,
             "total_tokens": prompt_tokens + out}  # fmt: skip
    return content, finish, usage


def stream_events(head: dict, content: str, finish: str, usage: dict | None) -> list[str]:
    """The data of each server-sent event of a streamed answer, "[DONE]" last: a role chunk,
    content pieces of PIECE_CHARS, a finish chunk, then (when `usage` is given, i.e. the
    request asked include_usage and the server sends it) a chunk with no choices and the
    usage; with include_usage every earlier chunk carries "usage": null, as OpenAI's do."""

    def chunk(choices: list, **extra) -> str:
        return json.dumps(dict(head, object="chat.completion.chunk", choices=choices, **extra),
                          ensure_ascii=False)  # fmt: skip

    null = {"usage": None} if usage else {}
    deltas = [{"role": "assistant", "content": ""}]
    deltas += [{"content": content[i : i + PIECE_CHARS]}
               for i in range(0, len(content), PIECE_CHARS)]  # fmt: skip
    events = [chunk([{"index": 0, "delta": d, "finish_reason": None}], **null) for d in deltas]
    events.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish}], **null))
    if usage:
        events.append(chunk([], usage=usage))
    return events + ["[DONE]"]
