"""GET /api/jobs/<id>/events, the job page's live feed (API.md): the Job at once and on every
change, in order, ending after a terminal status; keep-alive comments; the page's lease; and
many open streams beside normal requests under the project's gunicorn.conf.py."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from jobs import keys
from jobs.life.cancel import cancel
from jobs.life.status import Status

from .browser import Gunicorn
from .helpers import DATA, make_app, upload, wait_for

LEASE_SECONDS = 4
IDLE_QUEUE = "subcue-events-idle"
"""A queue no worker listens on: jobs there stay queued for as long as a test needs."""

STATUS_ORDER = [s.value for s in Status]


@pytest.fixture(scope="module")
def web(base_env, worker, tmp_path_factory):
    """The app under gunicorn (one process, as configured otherwise), with the session worker."""
    env = {**base_env, "LEASE_SECONDS": str(LEASE_SECONDS), "WEB_CONCURRENCY": "1"}
    server = Gunicorn(env, tmp_path_factory.mktemp("events-logs") / "gunicorn.log")
    yield server
    server.stop()


@pytest.fixture
def api(web):
    """An HTTP client with its own cookie jar (one owner) against gunicorn."""
    with httpx.Client(base_url=web.url, timeout=10) as client:
        client.get("/api/me")
        yield client


def submit(api, path=DATA / "speech.wav", **form) -> dict:
    """POST /api/jobs over HTTP; return the Job."""
    with open(path, "rb") as f:
        response = api.post("/api/jobs", files={"file": (path.name, f)}, data=form)
    assert response.status_code == 202, response.text
    return response.json()


class Stream:
    """One event stream read line by line: events (Job JSON) and comments, with their times."""

    def __init__(self, response):
        self.response = response
        self.opened = time.monotonic()
        self.events: list[tuple[float, dict]] = []
        self.comments: list[tuple[float, str]] = []
        self.ended = False
        self._lines = response.iter_lines()

    def next_event(self) -> dict | None:
        """Read until the next event; None when the server ended the stream."""
        for line in self._lines:
            now = time.monotonic() - self.opened
            if line.startswith("data: "):
                self.events.append((now, json.loads(line[6:])))
                return self.events[-1][1]
            if line.startswith(":"):
                self.comments.append((now, line))
        self.ended = True
        return None

    def read_to_end(self) -> list[dict]:
        """Every event until the server ends the stream."""
        while self.next_event() is not None:
            pass
        return [event for _, event in self.events]


def assert_in_order(events: list[dict]) -> None:
    """Each event differs from the one before, statuses never go back, progress only grows."""
    for before, after in zip(events, events[1:], strict=False):
        assert after != before, "an event repeated the previous one"
        assert STATUS_ORDER.index(after["status"]) >= STATUS_ORDER.index(before["status"]), (
            before["status"],
            after["status"],
        )
        assert after["progress"]["done"] >= before["progress"]["done"]


def test_events_start_at_once_follow_every_chunk_in_order_and_end(api):
    """A whole job over HTTP: the first event immediately, then each change, then the end."""
    job = submit(api, engine="local")
    with api.stream("GET", f"/api/jobs/{job['id']}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        stream = Stream(response)
        first = stream.next_event()
        assert stream.events[0][0] < 0.5, "the first event must not wait for a change"
        assert first["id"] == job["id"] and first["status"] in ("queued", "running")
        events = stream.read_to_end()
        ended_after = time.monotonic() - stream.opened - stream.events[-1][0]
    assert_in_order(events)
    assert events[-1]["status"] == "finished"
    assert events[-1] == api.get(f"/api/jobs/{job['id']}").json()
    running = {e["progress"]["done"] for e in events if e["status"] == "running"}
    assert len(running) >= 2, f"progress must show while running, not only at the end: {running}"
    assert events[-1]["progress"]["done"] == events[-1]["progress"]["total"] >= 3
    assert ended_after < 1.0, "the stream must end right after the terminal event"


def test_a_finished_job_gets_one_event_and_the_stream_ends(api):
    """Opening the stream of a terminal job: its state once, then the end (no reconnect loop)."""
    job = submit(api, engine="local")
    wait_for(lambda: api.get(f"/api/jobs/{job['id']}").json()["status"] == "finished",
             timeout=60, interval=0.1, message="the job to finish")  # fmt: skip
    started = time.monotonic()
    with api.stream("GET", f"/api/jobs/{job['id']}/events") as response:
        events = Stream(response).read_to_end()
    assert [e["status"] for e in events] == ["finished"]
    assert time.monotonic() - started < 1.0


def test_cancel_is_the_last_event(api):
    """Cancelling a watched job: `cancelled` with its reason ends the stream."""
    job = submit(api, path=DATA / "speech.wav", engine="local")
    with api.stream("GET", f"/api/jobs/{job['id']}/events") as response:
        stream = Stream(response)
        stream.next_event()
        assert api.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
        events = stream.read_to_end()
    assert_in_order(events)
    assert events[-1]["status"] == "cancelled"
    assert events[-1]["error"]["code"] == "cancelled_by_user"


def test_unknown_and_foreign_streams_answer_404_json(api, web):
    """Another owner's job streams nothing, exactly like an unknown id."""
    job = submit(api, engine="local")
    with httpx.Client(base_url=web.url, timeout=10) as stranger:
        for job_id in (job["id"], "4b1e1c1a-0000-4000-8000-000000000000"):
            response = stranger.get(f"/api/jobs/{job_id}/events")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
    api.post(f"/api/jobs/{job['id']}/cancel")


OWNERS, PER_OWNER = 15, 20
"""300 open pages: as many owners, each at the default cap of open streams."""


def open_stream(url: str, path: str, token: str) -> socket.socket:
    """A raw HTTP connection holding an event stream, once its first event has arrived."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())  # fmt: skip
    seen = b""
    while b"data: " not in seen:
        chunk = sock.recv(65536)
        assert chunk, f"the stream closed before its first event: {seen[:200]!r}"
        seen += chunk
    assert seen.startswith(b"HTTP/1.1 200"), seen[:200]
    return sock


@pytest.fixture(scope="module")
def crowded(base_env, tmp_path_factory):
    """gunicorn as configured (one process), with owners known by token, on a queue no worker
    serves (so watched jobs stay live as long as the test needs)."""
    tokens = [f"owner-{n}-token" for n in range(OWNERS + 1)]
    env = {**base_env, "WEB_CONCURRENCY": "1", "QUEUE_NAME": IDLE_QUEUE,
           "API_TOKENS": ",".join(tokens)}  # fmt: skip
    server = Gunicorn(env, tmp_path_factory.mktemp("crowded-logs") / "gunicorn.log")
    yield server, tokens
    server.stop()


def test_hundreds_of_open_pages_leave_the_api_and_cancel_answering(crowded):
    """300 pages hold their job's event stream on one gunicorn process: the job list, a
    cancel and the pages still answer at once (a large upload on its way too), /healthz
    counts the streams, an owner's 21st stream is refused with 429 JSON, and each page gets
    its job's final status."""
    server, tokens = crowded
    # a fresh connection per request: gunicorn closes idle keep-alive ones after 2 s
    clients = [httpx.Client(base_url=server.url, timeout=10,
                            limits=httpx.Limits(max_keepalive_connections=0),
                            headers={"Authorization": f"Bearer {t}"}) for t in tokens]  # fmt: skip
    streams = []
    try:
        jobs = [submit(c, engine="local") for c in clients]
        for token, job in zip(tokens[:OWNERS], jobs, strict=False):
            for _ in range(PER_OWNER):
                streams.append(open_stream(server.url, f"/api/jobs/{job['id']}/events", token))
        assert clients[0].get("/healthz").json()["streams"] == OWNERS * PER_OWNER

        refused = clients[0].get(f"/api/jobs/{jobs[0]['id']}/events")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_streams"

        # a large upload on its way (headers and the first megabyte of 200 MB sent)
        host, port = server.url.removeprefix("http://").split(":")
        uploading = socket.create_connection((host, int(port)), timeout=10)
        boundary = "subcue-slow-upload"
        head = (f"POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tokens[OWNERS]}"
                f"\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: "
                f"{200 * 2**20}\r\n\r\n--{boundary}\r\nContent-Disposition: form-data; "
                'name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n')  # fmt: skip
        uploading.sendall(head.encode() + bytes(2**20))
        streams.append(uploading)

        outsider = clients[OWNERS]  # owns a job nobody watches
        for path in ("/api/jobs", "/", f"/api/jobs/{jobs[OWNERS]['id']}", "/healthz"):
            started = time.monotonic()
            assert outsider.get(path).status_code == 200
            assert time.monotonic() - started < 0.5, f"{path} waited behind the streams or upload"
        started = time.monotonic()
        answer = outsider.post(f"/api/jobs/{jobs[OWNERS]['id']}/cancel")
        assert answer.json()["status"] == "cancelled"
        assert time.monotonic() - started < 0.5, "the cancel waited behind the open streams"

        for client, job in zip(clients[:OWNERS], jobs, strict=False):
            assert client.post(f"/api/jobs/{job['id']}/cancel").json()["status"] == "cancelled"
        streams.remove(uploading)
        uploading.close()  # the upload is abandoned: it must leave nothing behind
        for sock in streams:  # every page hears the end, and its stream ends
            seen = b""
            while b'"status": "cancelled"' not in seen:
                chunk = sock.recv(65536)
                assert chunk, "a stream ended without the final status"
                seen += chunk
        wait_for(lambda: clients[0].get("/healthz").json()["streams"] == 0, timeout=10,
                 message="the finished streams to be released")  # fmt: skip
        assert len(clients[OWNERS].get("/api/jobs").json()["jobs"]) == 1, "the upload made a job"
    finally:
        for sock in streams:
            sock.close()
        for client in clients:
            client.close()


# --- in-process, where the keep-alive interval can be turned down ---


@pytest.fixture
def idle_app(base_env):
    """The app on a queue nobody works on (its jobs stay queued), with a short lease."""
    return make_app({**base_env, "QUEUE_NAME": IDLE_QUEUE, "LEASE_SECONDS": str(LEASE_SECONDS)})


@pytest.fixture
def chunks(idle_app, monkeypatch):
    """Open a job's stream in-process and iterate its chunks (keep-alive every 0.2 s)."""
    monkeypatch.setattr("web.api.event_routes.KEEPALIVE_SECONDS", 0.2)
    opened = []

    def open_stream(client, job_id: str):
        response = client.get(f"/api/jobs/{job_id}/events", buffered=False)
        assert response.status_code == 200
        opened.append(response)
        return iter(response.response)

    yield open_stream
    for response in opened:
        response.close()


def stop(app, conn, job_id: str) -> None:
    """Cancel the queued job, as the API would."""
    cancel(conn, app.extensions["subcue"]["config"], job_id)


def test_an_idle_stream_sends_keep_alive_comments_and_ends_on_cancel(idle_app, conn, chunks):
    """Nothing changes for a while: comment lines keep proxies from closing the stream."""
    client = idle_app.test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    stream = chunks(client, job["id"])
    first = next(stream)
    assert first.startswith(b"data: ") and first.endswith(b"\n\n")
    started = time.monotonic()
    assert [next(stream), next(stream)] == [b": keep-alive\n\n"] * 2
    assert time.monotonic() - started < 1.0
    stop(idle_app, conn, job["id"])
    rest = list(stream)  # ends by itself after the terminal event
    events = [json.loads(c.decode().removeprefix("data: ")) for c in rest if c.startswith(b"data")]
    assert [e["status"] for e in events] == ["cancelled"]


def test_an_open_stream_renews_the_lease_of_a_page_job(idle_app, conn, chunks):
    """keep_running=false: while the page's stream is open, the lease never runs down."""
    client = idle_app.test_client()
    job = upload(client, DATA / "speech.wav", engine="local", keep_running="false").get_json()
    lease = keys.lease(job["id"])
    assert 0 < conn.pttl(lease) <= LEASE_SECONDS * 1000
    stream = chunks(client, job["id"])
    until = time.monotonic() + LEASE_SECONDS + 1
    while time.monotonic() < until:
        next(stream)
        # renewed every LEASE_SECONDS / 3 (not on every look): never near running out
        assert conn.pttl(lease) > 1000, "the open stream let it run down"
    stop(idle_app, conn, job["id"])
    assert [c for c in stream if c.startswith(b"data")], "the cancel is the last event"


def test_a_stream_gives_no_lease_to_a_keep_running_job(idle_app, conn, chunks):
    """keep_running=true jobs have no lease to renew: watching them creates none."""
    client = idle_app.test_client()
    job = upload(client, DATA / "speech.wav", engine="local", keep_running="true").get_json()
    stream = chunks(client, job["id"])
    for _ in range(4):
        next(stream)
        assert not conn.exists(keys.lease(job["id"]))
    stop(idle_app, conn, job["id"])
