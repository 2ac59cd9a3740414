"""A local stand-in for an OpenAI-compatible chat-completions server, for driving the real
`openai` client.

``OpenAI(base_url=stub.base_url, api_key="any", max_retries=0)``; ``stub.base_url`` is
``stub.url + "/v1"``. What openai 3.63.0 does (read from its source, then exercised):

- ``POST {base_url}/chat/completions`` with ``Authorization: Bearer <key>`` and a JSON body;
  ``GET {base_url}/models`` and ``/models/{id}`` (the id percent-encoded, so "a/b" is "a%2Fb").
- It RETRIES by default (``max_retries=2``) on 408/409/429/5xx (unless ``x-should-retry``
  says otherwise) and connection errors, waiting ``retry-after-ms`` (preferred) or
  ``Retry-After`` when 0 < delay <= 120 s, else backing off from 0.5 s; Subcue passes 0.
- An HTTP error raises an ``openai.APIStatusError`` subclass (400 BadRequestError, 401
  AuthenticationError, 404 NotFoundError, 429 RateLimitError, >= 500 InternalServerError) whose
  ``.body`` is the body's "error" object, ``.code`` / ``.param`` / ``.type`` its fields, and
  ``.response.headers`` the headers. A dropped connection raises ``openai.APIConnectionError``,
  a client timeout ``openai.APITimeoutError``.
- ``stream=True`` reads ``data: {json}`` server-sent events until ``data: [DONE]``; an event
  whose JSON has an "error" key raises APIError.
- Cancelling an ``AsyncOpenAI`` call (or a client timeout) closes the connection: the stub
  notices within ~50 ms, logs ``client_disconnected`` and abandons the answer, streaming or not.
"""

import json
import math
import sys
import time
from urllib.parse import unquote, urlsplit

from tests.llm_answers import (
    ERRORS,
    MAX_TOKENS_PARAMS,
    MODELS,
    answer_content,
    as_fault,
    billed,
    error_body,
    error_of,
    model_json,
    refusal,
    request_facts,
    stream_events,
)
from tests.stub_server import StubHandler, StubServer, serve_until_stopped, stub_arguments


class LlmStub(StubServer):
    """In-process HTTP server speaking the chat-completions and models protocol.

    Knobs (thread-safe to set at any time, also through ``configure``): ``api_key`` (None
    accepts any request), ``models`` served, ``latency`` seconds before the first byte of every
    answer, ``stream_latency`` seconds between streamed chunks, ``faults`` one-shot queue taking
    precedence over ``always`` (see llm_answers.FAULTS and ``as_fault``; params ``retry_after`` and
    ``header_ms`` (429), ``delay`` (extra seconds), ``after`` (disconnect after that many
    streamed chunks)); the server's capabilities ``json_schema``, ``json_object``,
    ``usage_in_stream`` and ``max_tokens_param``; ``ramble`` (tokens of prose a model adds
    after its answer, on a server that ignores max_tokens and bills them all). ``calls`` logs
    every chat completion,
    ``lookups`` every GET of the models.
    """

    as_fault = staticmethod(as_fault)

    def __init__(self, api_key: str | None = None, port: int = 0, host: str = "127.0.0.1",
                 models: list[str] | None = None):  # fmt: skip
        self._defaults = {"api_key": api_key, "models": list(models or MODELS)}
        self.lookups: list[dict] = []
        super().__init__(_Handler, port, host)
        self.reset()
        self.base_url = self.url + "/v1"

    def reset(self) -> None:
        """Forget calls, lookups and faults; every knob back to its default (the api_key and
        models to the constructor's)."""
        with self._lock:
            for bucket in (self.calls, self.lookups, self.faults):
                bucket.clear()
            self.api_key, self.models = self._defaults["api_key"], list(self._defaults["models"])
            self.latency, self.stream_latency, self.always = 0.0, 0.0, None
            self.json_schema = self.json_object = self.usage_in_stream = True
            self.max_tokens_param = "max_tokens"
            self.ramble = 0

    def configure(self, cfg: dict) -> None:
        """Apply a /_stub/config body: any knob by name; "faults" are appended to the queue."""
        faults = [as_fault(f) for f in cfg.get("faults", [])]
        if cfg.get("always"):
            as_fault(cfg["always"])  # reject typos now rather than on the next call
        if cfg.get("max_tokens_param", "max_tokens") not in MAX_TOKENS_PARAMS:
            raise ValueError(f"max_tokens_param must be one of {MAX_TOKENS_PARAMS}")
        knobs = ("api_key", "models", "latency", "stream_latency", "always", "json_schema",
                 "json_object", "usage_in_stream", "max_tokens_param", "ramble")  # fmt: skip
        with self._lock:
            for key in set(knobs) & set(cfg):
                setattr(self, key, list(cfg[key]) if key == "models" else cfg[key])
            self.faults.extend(faults)


class _Handler(StubHandler):
    """One connection to the stand-in: the models, chat completions and /_stub/ control."""

    @staticmethod
    def _bad_request(message: str) -> dict:
        """A 400's body as OpenAI words it."""
        return error_body(message)

    def _error(self, name: str, headers: dict | None = None, **words) -> bool:
        """Send the error a fault names; False if the client hung up first."""
        return self._send(*error_of(name, **words), headers)

    def _authorized(self) -> bool:
        """Whether the request carries the key; if not, answer 401 as OpenAI does."""
        key = self.stub.api_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._error("401")
        return False

    def do_GET(self) -> None:
        """The call log, the model list or one model."""
        path = urlsplit(self.path).path
        if self._control_get(path):
            return
        if not path.startswith("/v1/models"):
            return self._send(404, error_body(f"Invalid URL (GET {path})"))
        lookup = {"path": path, "status": 401, "at": time.time()}
        with self.stub._lock:
            self.stub.lookups.append(lookup)
        if not self._authorized():
            return
        wanted = unquote(path[len("/v1/models/") :]) if path.startswith("/v1/models/") else None
        if path == "/v1/models":
            lookup["status"] = 200
            self._send(200, {"object": "list", "data": [model_json(m) for m in self.stub.models]})
        elif wanted in self.stub.models:
            lookup["status"] = 200
            self._send(200, model_json(wanted))
        else:
            lookup["status"] = 404
            self._error("404", model=wanted)

    def do_POST(self) -> None:
        """A chat completion (logged in ``calls``), or /_stub/config and /_stub/reset."""
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self._control_post(path, body):
            return
        if path != "/v1/chat/completions":
            return self._send(404, error_body(f"Invalid URL (POST {path})"))
        call = dict.fromkeys(("finished", "status", "fault", "model", "response_format",
                              "max_tokens_param", "max_tokens", "temperature", "cue_indexes",
                              "finish_reason"))  # fmt: skip
        call.update(arrived=time.time(), client_disconnected=False, stream=False, lang="xx",
                    prompt="", tokens_in=0, tokens_out=0,
                    authorization="Authorization" in self.headers)  # fmt: skip
        with self._answering(call):
            if self._authorized():
                self._complete(call, body)

    def _complete(self, call: dict, raw: bytes) -> None:
        """Answer one authorised chat completion, or refuse, fail or hang up as asked."""
        stub = self.stub
        try:
            req = json.loads(raw)
        except ValueError:
            return self._send(400, error_body("We could not parse the JSON body of your request."))
        refused = refusal(req, stub)
        if isinstance(req, dict):
            call.update(request_facts(req))
        if refused:
            return self._send(*refused)
        try:
            name, params = stub._next_fault()
        except (ValueError, TypeError, IndexError) as e:  # a malformed entry in stub.faults
            return self._send(400, error_body(f"llm_stub: {e}"))
        call["fault"] = None if name == "ok" else name
        wait = math.inf if name == "hang" else float(stub.latency or 0)
        if not self._wait_to_answer(call, wait + float(params.get("delay", 0))):
            return
        if name == "disconnect" and not (call["stream"] and params.get("after")):
            self.close_connection = True
            return
        if name == "429":
            after = float(params.get("retry_after", 1))
            header = ({"retry-after-ms": f"{after * 1000:g}"} if params.get("header_ms")
                      else {"Retry-After": f"{after:g}"})  # fmt: skip
            return self._note_hang_up(self._error("429", header, after=f"{after:g}"))
        if name in ERRORS:
            return self._note_hang_up(self._error(name, model=req["model"]))
        self._answer(call, req, answer_content(call, name), params)

    def _note_hang_up(self, sent: bool) -> None:
        """Log whether the client hung up before the answer could be sent."""
        self._call["client_disconnected"] = not sent

    def _answer(self, call: dict, req: dict, content: str, params: dict) -> None:
        """Bill and send the answer, streamed or whole."""
        if self.stub.ramble:  # on a server that ignores max_tokens
            content += " That is all, and so on." * self.stub.ramble
        limit = None if self.stub.ramble else call["max_tokens"]
        content, finish, usage = billed(call["prompt"], content, limit)
        call.update(tokens_in=usage["prompt_tokens"], tokens_out=usage["completion_tokens"],
                    finish_reason=finish)  # fmt: skip
        head = {"id": f"chatcmpl-stub{next(self.stub._ids)}", "created": int(time.time()),
                "model": req["model"]}  # fmt: skip
        if call["stream"]:
            asked = (req.get("stream_options") or {}).get("include_usage")
            sent_usage = usage if asked and self.stub.usage_in_stream else None
            return self._stream(call, stream_events(head, content, finish, sent_usage), params)
        choice = {"index": 0, "message": {"role": "assistant", "content": content},
                  "finish_reason": finish}  # fmt: skip
        body = dict(head, object="chat.completion", choices=[choice], usage=usage)
        self._note_hang_up(self._send(200, body))

    def _stream(self, call: dict, events: list[str], params: dict) -> None:
        """Send server-sent events in a chunked body, waiting ``stream_latency`` between them
        and hanging up after ``after`` of them when the fault is "disconnect"."""
        call["status"] = 200
        cut_after = int(params.get("after", 0)) if call["fault"] == "disconnect" else None
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for k, event in enumerate(events):
                if k == cut_after:  # hang up mid-stream, without the closing chunk
                    self.close_connection = True
                    return
                if k and not self._wait(float(self.stub.stream_latency or 0)):
                    raise ConnectionResetError("client hung up mid-stream")
                if event == "[DONE]":  # complete the log before the client can see the end
                    call["finished"] = time.time()
                self._write_chunk(f"data: {event}\n\n".encode())
            self._write_chunk(b"")
        except OSError:
            call["client_disconnected"] = not self.stub._stopping.is_set()
            self.close_connection = True

    def _write_chunk(self, data: bytes) -> None:
        """Write one piece of a chunked body (the empty piece ends it)."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in as a process; first stdout line is LLM_STUB_URL=... (the client's
    base URL is that plus /v1)."""
    ap = stub_arguments(__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", help="a model to serve (repeatable)")
    args = ap.parse_args(argv)
    stub = LlmStub(api_key=args.api_key, port=args.port, host=args.host, models=args.model)
    stub.latency = args.latency
    serve_until_stopped(stub, f"LLM_STUB_URL={stub.url}")


if __name__ == "__main__":
    main(sys.argv[1:])
