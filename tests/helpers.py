"""What the tests and the benchmarks (scripts/bench) share: a private redis-server, a real
worker process, the app and its client, and waiting on conditions with deadlines.

Plain functions and classes, no pytest: conftest.py builds its fixtures on them, and the
benchmarks import them as they are.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import redis

from jobs.config import Config
from jobs.life import workspace
from web import create_app


class WaitTimeout(AssertionError):
    """A condition did not come true by its deadline (a failed assertion, in a test)."""


ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02, message: str = "",
             pause=time.sleep):  # fmt: skip
    """Poll `predicate` until it returns something truthy; fail the test at the deadline.

    `pause` waits between looks (a browser test passes one that lets the page's events run).
    `message` may be a callable, to say at the deadline what was still wrong.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            what = message() if callable(message) else message or predicate
            raise WaitTimeout(f"timed out after {timeout} s waiting for {what}")
        pause(interval)


GEMINI_KEY = "sk-test-SECRET-1234"
"""The key tests give the paid engine: distinctive enough to grep for; the stand-ins of the
Gemini tests refuse any other."""


def gemini_env(base_env: dict, stub_url: str, queue: str, **extra: str) -> dict:
    """Worker and app settings with the paid engine on, pointed at a stand-in, on a queue of
    the test's own."""
    return {**base_env, "QUEUE_NAME": queue, "GEMINI_API_KEY": GEMINI_KEY,
            "GEMINI_BASE_URL": stub_url, **extra}  # fmt: skip


@contextlib.contextmanager
def stub_process(module: str, *args: str) -> Iterator[str]:
    """A stand-in (`tests.gemini_stub`, `tests.llm_stub`) run as a process with `args`; yields
    the first line it prints (which says where it listens) and terminates it afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stub_control(url: str, body: dict | None = None) -> dict:
    """GET (or POST `body` to) a stand-in's /_stub/ control endpoint; the answer's JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def check_control_refuses_typos_and_resets(url: str) -> None:
    """A stand-in at `url` answers 400 to a config naming an unknown fault, and forgets its
    calls on /_stub/reset."""
    try:
        stub_control(url + "/_stub/config", {"faults": ["no-such-fault"]})
    except urllib.error.HTTPError as e:
        assert e.code == 400, e
    else:
        raise AssertionError("a config naming an unknown fault was accepted")
    stub_control(url + "/_stub/reset", {})
    assert stub_control(url + "/_stub/calls") == {"calls": []}


def stored_under(env: dict, prefix: str = "") -> list[str]:
    """Every stored key under `prefix`, and every staged upload left behind."""
    root = Path(env["STORAGE_URL"].removeprefix("file://"))
    found = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    staged = Path(env["TEMP_DIR"]) / "uploads"
    found += [str(p) for p in staged.rglob("*") if p.is_file()] if staged.exists() else []
    return sorted(k for k in found if k.startswith(prefix) or k.startswith("/"))


def job_of(client, job_id: str) -> dict:
    """The job as GET /api/jobs/<id> shows it."""
    return client.get(f"/api/jobs/{job_id}").get_json()


class WorkerProcess:
    """`python -m worker` in a subprocess, with its output kept for the test to read; in a
    session of its own, so nothing a worker kills by process group can reach the test run."""

    def __init__(self, env: dict, log_path: Path):
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker"], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        conn = redis.Redis.from_url(env["REDIS_URL"])
        wait_for(lambda: self.registered(conn), timeout=30, message="the worker to start")

    def registered(self, conn) -> bool:
        """True once RQ lists a worker with our pid."""
        from rq.worker import Worker

        return any(w.pid == self.proc.pid for w in Worker.all(connection=conn))

    def output(self) -> str:
        """Everything the worker printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def make_app(env: dict):
    """An app configured like the worker it talks to."""
    app = create_app(env)
    app.config["TESTING"] = True
    return app


def upload(client, path: Path, **form):
    """POST /api/jobs with one file and form fields."""
    with open(path, "rb") as f:
        data = {"file": (f, path.name), **{k: str(v) for k, v in form.items()}}
        return client.post("/api/jobs", data=data, content_type="multipart/form-data")


def wait_for_status(client, job_id: str, statuses: set[str], timeout: float = 120.0) -> dict:
    """Poll the job until its status is one of `statuses`; return the job."""

    def check():
        body = client.get(f"/api/jobs/{job_id}").get_json()
        return body if body["status"] in statuses else None

    return wait_for(check, timeout=timeout, interval=0.1, message=f"job to be {statuses}")


def stays(predicate, seconds: float, interval: float = 0.05, message: str = "") -> None:
    """Assert `predicate` holds on every look for `seconds` (for 'nothing happens afterwards')."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), message or f"{predicate} stopped holding"
        time.sleep(interval)


def temp_dir_of(env: dict, job_id: str) -> Path:
    """Where the worker keeps the job's temp files."""
    return workspace.path(Config.from_env(env), job_id)


def processes_mentioning(text: str) -> list[int]:
    """Pids of processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A redis-server of our own on a free port, keeping nothing on disk; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def up():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    try:
        wait_for(up, message="redis-server to answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def scan_redis(conn: redis.Redis, needle: bytes) -> list[str]:
    """Every key whose name or value (of any type) contains `needle`."""
    found = []
    for key in conn.scan_iter(count=1000):
        kind = conn.type(key).decode()
        if kind == "string":
            values = [conn.get(key)]
        elif kind == "hash":
            values = [b for kv in conn.hgetall(key).items() for b in kv]
        elif kind == "list":
            values = conn.lrange(key, 0, -1)
        elif kind == "set":
            values = list(conn.smembers(key))
        elif kind == "zset":
            values = [m for m, _ in conn.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [b for _, fields in conn.xrange(key) for kv in fields.items() for b in kv]
        else:
            values = [kind.encode()]
        if any(needle in (v or b"") for v in [key, *values]):
            found.append(key.decode(errors="replace"))
    return found
