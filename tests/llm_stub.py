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

import argparse
import itertools
import json
import math
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class LlmStub:
    """In-process HTTP server speaking the chat-completions and models protocol.

    Knobs (thread-safe to set at any time, also through ``configure``): ``api_key`` (None
    accepts any request), ``models`` served, ``latency`` seconds before the first byte of every
    answer, ``stream_latency`` seconds between streamed chunks, ``faults`` one-shot queue taking
    precedence over ``always`` (see llm_answers.FAULTS and ``as_fault``; params ``retry_after`` and
    ``header_ms`` (429), ``delay`` (extra seconds), ``after`` (disconnect after that many
    streamed chunks)); the server's capabilities ``json_schema``, ``json_object``,
    ``usage_in_stream`` and ``max_tokens_param``. ``calls`` logs every chat completion,
    ``lookups`` every GET of the models.
    """

    def __init__(self, api_key: str | None = None, port: int = 0, host: str = "127.0.0.1",
                 models: list[str] | None = None):  # fmt: skip
        self._defaults = {"api_key": api_key, "models": list(models or MODELS)}
        self.calls: list[dict] = []
        self.lookups: list[dict] = []
        self.faults: list = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self.reset()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        # Idle keep-alive connections would otherwise make server_close() block forever.
        self._server.block_on_close = False
        self._server.stub = self
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self.base_url = self.url + "/v1"

    def start(self) -> "LlmStub":
        """Serve in a background daemon thread; returns self."""
        if self._thread is None:
            # A short poll interval keeps stop() (and so test teardown) quick.
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; pending waits and hangs are abandoned."""
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "LlmStub":
        """Start serving."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop serving."""
        self.stop()

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

    def configure(self, cfg: dict) -> None:
        """Apply a /_stub/config body: any knob by name; "faults" are appended to the queue."""
        faults = [as_fault(f) for f in cfg.get("faults", [])]
        if cfg.get("always"):
            as_fault(cfg["always"])  # reject typos now rather than on the next call
        if cfg.get("max_tokens_param", "max_tokens") not in MAX_TOKENS_PARAMS:
            raise ValueError(f"max_tokens_param must be one of {MAX_TOKENS_PARAMS}")
        knobs = ("api_key", "models", "latency", "stream_latency", "always", "json_schema",
                 "json_object", "usage_in_stream", "max_tokens_param")  # fmt: skip
        with self._lock:
            for key in set(knobs) & set(cfg):
                setattr(self, key, list(cfg[key]) if key == "models" else cfg[key])
            self.faults.extend(faults)

    def calls_snapshot(self) -> list[dict]:
        """Return a copy of the call log that later updates will not change."""
        with self._lock:
            return [dict(c) for c in self.calls]

    def wait_for_calls(self, n: int, timeout: float = 10.0, finished: bool = False) -> list[dict]:
        """Block until n calls arrived (and, if asked, finished); raise TimeoutError if not."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls_snapshot()
            done = [c for c in calls if not finished or c["finished"] is not None]
            if len(done) >= n:
                return calls
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {n} calls, have {len(done)}: {calls}")
            time.sleep(0.01)

    def max_in_flight(self) -> int:
        """The most calls this stand-in was answering at one moment."""
        calls = self.calls_snapshot()
        now = time.time()  # a call still being answered is in flight until now
        events = sorted([(c["arrived"], 1) for c in calls]
                        + [(c["finished"] or now, -1) for c in calls])  # fmt: skip
        peak = current = 0
        for _, step in events:  # at equal times, -1 sorts first: a finish frees the slot
            current += step
            peak = max(peak, current)
        return peak

    def _next_fault(self) -> tuple[str, dict]:
        """The fault for the next call: the queue's first, else ``always``, else "ok"."""
        with self._lock:
            if self.faults:
                return as_fault(self.faults.pop(0))
        return as_fault(self.always) if self.always else ("ok", {})


class _Handler(BaseHTTPRequestHandler):
    """One connection to the stand-in: the models, chat completions and /_stub/ control."""

    protocol_version = "HTTP/1.1"
    timeout = 120  # drop idle keep-alive connections eventually
    _call: dict | None = None  # the chat completion log entry being answered, if any

    def log_message(self, *args) -> None:
        """Keep the test output quiet."""
        pass

    @property
    def stub(self) -> LlmStub:
        """The stand-in this handler serves for."""
        return self.server.stub

    def _send(self, code: int, body=None, headers: dict | None = None) -> bool:
        """Send a JSON answer; False if the client hung up first."""
        data = b"" if body is None else json.dumps(body).encode()
        if self._call is not None:  # complete the log before the client can see the answer
            self._call.update(status=code, finished=time.time())
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:  # the client hung up
            self.close_connection = True
            return False

    def _error(self, name: str, headers: dict | None = None, **words) -> bool:
        """Send the error a fault names; False if the client hung up first."""
        return self._send(*error_of(name, **words), headers)

    def _wait(self, seconds: float) -> bool:
        """Sleep, returning False early if the client hung up or the stub is stopping."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not self.stub._stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            # Nothing else is sent while a request is pending, so readable means EOF or reset.
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return False
                except OSError:
                    return False
        return not self.stub._stopping.is_set()

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
        if path == "/_stub/calls":
            return self._send(200, {"calls": self.stub.calls_snapshot()})
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
        if path == "/_stub/config":
            try:
                self.stub.configure(json.loads(body or b"{}"))
            except (ValueError, TypeError, IndexError, KeyError) as e:
                return self._send(400, error_body(str(e)))
            return self._send(200, {"ok": True})
        if path == "/_stub/reset":
            self.stub.reset()
            return self._send(200, {"ok": True})
        if path != "/v1/chat/completions":
            return self._send(404, error_body(f"Invalid URL (POST {path})"))
        call = dict.fromkeys(("finished", "status", "fault", "model", "response_format",
                              "max_tokens_param", "max_tokens", "temperature", "cue_indexes",
                              "finish_reason"))  # fmt: skip
        call.update(arrived=time.time(), client_disconnected=False, stream=False, lang="xx",
                    prompt="", tokens_in=0, tokens_out=0,
                    authorization="Authorization" in self.headers)  # fmt: skip
        with self.stub._lock:
            self.stub.calls.append(call)
        self._call = call
        try:
            if self._authorized():
                self._complete(call, body)
        finally:
            self._call = None
            call["finished"] = call["finished"] or time.time()

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
        if not self._wait(wait + float(params.get("delay", 0))):
            call["client_disconnected"] = not stub._stopping.is_set()
            self.close_connection = True
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
        content, finish, usage = billed(call["prompt"], content, call["max_tokens"])
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--model", action="append", help="a model to serve (repeatable)")
    args = ap.parse_args(argv)
    stub = LlmStub(api_key=args.api_key, port=args.port, host=args.host, models=args.model)
    stub.latency = args.latency
    stub.start()
    print(f"LLM_STUB_URL={stub.url}", flush=True)
    try:
        # SIGTERM's default action ends the process; Ctrl-C lands here.
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
