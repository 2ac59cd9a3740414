"""What the stand-ins for remote APIs (tests/gemini_stub.py, tests/llm_stub.py) share: an
HTTP server in a background thread with a call log and a fault queue, a handler that answers
JSON, notices a client hanging up while it waits and serves the /_stub/ control endpoints,
and running a stand-in as a process."""

import argparse
import contextlib
import itertools
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class StubServer:
    """An in-process HTTP server for one stand-in, answering with `handler` (a StubHandler).

    A stand-in subclasses it, sets its knobs (``latency``, ``always``, ...) and names its
    ``as_fault`` (normalises a fault entry, ValueError for an unknown one). ``calls`` logs the
    calls to answer, each with ``arrived`` and ``finished`` times; ``faults`` is the one-shot
    queue taking precedence over ``always``.
    """

    always = None
    """A fault applied to every call that the queue does not decide."""

    def __init__(self, handler: type, port: int = 0, host: str = "127.0.0.1"):
        self.calls: list[dict] = []
        self.faults: list = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        # Idle keep-alive connections would otherwise make server_close() block forever.
        self._server.block_on_close = False
        self._server.stub = self
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._server.server_address[1]}"

    @staticmethod
    def as_fault(fault) -> tuple[str, dict]:
        """A fault entry as a known (name, params) pair; each stand-in knows its own."""
        raise NotImplementedError

    def configure(self, cfg: dict) -> None:
        """Apply a /_stub/config body; each stand-in knows its own knobs."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the calls and faults, every knob back to its default; each stand-in's own."""
        raise NotImplementedError

    def start(self) -> Self:
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

    def __enter__(self) -> Self:
        """Start serving."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop serving."""
        self.stop()

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
                return self.as_fault(self.faults.pop(0))
        return self.as_fault(self.always) if self.always else ("ok", {})


class StubHandler(BaseHTTPRequestHandler):
    """One connection to a stand-in: JSON answers, waits that notice a hang-up, the call being
    answered, and the control endpoints (GET /_stub/calls, POST /_stub/config and
    /_stub/reset). A stand-in's handler names its ``content_type`` and ``_bad_request``."""

    protocol_version = "HTTP/1.1"
    timeout = 120  # drop idle keep-alive connections eventually
    content_type = "application/json"
    _call: dict | None = None  # the call log entry being answered, if any

    def log_message(self, *args) -> None:
        """Keep the test output quiet."""
        pass

    @property
    def stub(self) -> StubServer:
        """The stand-in this handler serves for."""
        return self.server.stub

    def _bad_request(self, message: str) -> dict:
        """The body of a 400 as the real API words it; each stand-in's own."""
        raise NotImplementedError

    def _send(self, code: int, body=None, headers: dict | None = None) -> bool:
        """Send a JSON answer; False if the client hung up first."""
        data = b"" if body is None else json.dumps(body).encode()
        if self._call is not None:  # complete the log before the client can see the answer
            self._call.update(status=code, finished=time.time())
        try:
            self.send_response(code)
            self.send_header("Content-Type", self.content_type)
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

    def _wait_to_answer(self, call: dict, seconds: float) -> bool:
        """Wait before answering `call`; if the client hung up (or the stub is stopping) log it,
        drop the connection and return False."""
        if self._wait(seconds):
            return True
        call["client_disconnected"] = not self.stub._stopping.is_set()
        self.close_connection = True
        return False

    @contextlib.contextmanager
    def _answering(self, call: dict) -> Iterator[int]:
        """Log `call` and make it the call being answered for the block, which gets its number
        in the log (from 1); whatever happens in the block, the call has finished after it."""
        with self.stub._lock:
            self.stub.calls.append(call)
            call_no = len(self.stub.calls)
        self._call = call
        try:
            yield call_no
        finally:
            self._call = None
            call["finished"] = call["finished"] or time.time()

    def _control_get(self, path: str) -> bool:
        """Answer GET /_stub/calls (the call log); False for any other path."""
        if path != "/_stub/calls":
            return False
        self._send(200, {"calls": self.stub.calls_snapshot()})
        return True

    def _control_post(self, path: str, body: bytes) -> bool:
        """Answer POST /_stub/config (400 for a bad body) and /_stub/reset; False for any other
        path."""
        if path == "/_stub/config":
            try:
                self.stub.configure(json.loads(body or b"{}"))
            except (ValueError, TypeError, IndexError, KeyError) as e:
                self._send(400, self._bad_request(str(e)))
                return True
        elif path == "/_stub/reset":
            self.stub.reset()
        else:
            return False
        self._send(200, {"ok": True})
        return True


def stub_arguments(description: str) -> argparse.ArgumentParser:
    """The options every stand-in takes when run as a process: --port, --host, --api-key,
    --latency."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--latency", type=float, default=0.0)
    return ap


def serve_until_stopped(stub: StubServer, announce: str) -> None:
    """Serve until the process ends, after printing `announce` (the first stdout line, which
    tells whoever started the process where the stand-in listens)."""
    stub.start()
    print(announce, flush=True)
    try:
        # SIGTERM's default action ends the process; Ctrl-C lands here.
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
