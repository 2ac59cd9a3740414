"""Fixtures: a private redis-server, a real forking worker, the app and its client."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from jobs import workspace
from jobs.config import Config
from jobs.s3storage import S3Storage
from web import create_app

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
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        pause(interval)


def job_of(client, job_id: str) -> dict:
    """The job as GET /api/jobs/<id> shows it."""
    return client.get(f"/api/jobs/{job_id}").get_json()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of our own on a free port (never the shared one on 6379)."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
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

    wait_for(up, message="redis-server to answer")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def base_env(redis_url, tmp_path_factory) -> dict:
    """The environment shared by the app and the session's worker."""
    root = tmp_path_factory.mktemp("subcue")
    return {
        "REDIS_URL": redis_url,
        "STORAGE_URL": f"file://{root / 'storage'}",
        "TEMP_DIR": str(root / "temp"),
        "QUEUE_NAME": "subcue-test",
        "CHUNK_SECONDS": "6",
        "SECRET_KEY": "test-secret",
        "MAX_ACTIVE_JOBS_PER_OWNER": "50",
        "GEMINI_API_KEY": "",
    }


class WorkerProcess:
    """`python -m worker` in a subprocess, with its output kept for the test to read."""

    def __init__(self, env: dict, log_path: Path):
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker"], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT,
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


@pytest.fixture(scope="session")
def worker(base_env, tmp_path_factory):
    """One real forking worker for the whole session."""
    proc = WorkerProcess(base_env, tmp_path_factory.mktemp("logs") / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture
def start_worker(tmp_path):
    """Start extra workers with their own settings; all are stopped after the test."""
    started = []

    def start(env: dict) -> WorkerProcess:
        proc = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def make_app(env: dict):
    """An app configured like the worker it talks to."""
    app = create_app(env)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(base_env):
    """The Flask app, configured like the session's worker."""
    return make_app(base_env)


@pytest.fixture
def client(app):
    """A test client with its own cookie jar (one owner)."""
    return app.test_client()


@pytest.fixture
def conn(redis_url):
    """A client for the private Redis."""
    return redis.Redis.from_url(redis_url)


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


UNIT = Path(__file__).resolve().parent / "unit"


def pytest_collection_finish(session):
    """Fail early and clearly if a behaviour test needs a system program that is missing.

    The unit tier (tests/unit) needs none, so `pytest tests/unit` runs anywhere.
    """
    if all(UNIT in Path(item.fspath).parents for item in session.items):
        return
    for program in ("redis-server", "ffmpeg"):
        if shutil.which(program) is None:
            raise pytest.UsageError(f"{program} is not installed; run scripts/test or apt-get it")


def stays(predicate, seconds: float, interval: float = 0.05, message: str = "") -> None:
    """Assert `predicate` holds on every look for `seconds` (for 'nothing happens afterwards')."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), message or f"{predicate} stopped holding"
        time.sleep(interval)


@pytest.fixture(scope="session")
def long_speech(tmp_path_factory) -> Path:
    """The spoken clip four times over (about 70 s, a dozen 6 s chunks)."""
    path = tmp_path_factory.mktemp("media") / "long-speech.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "3", "-i", str(DATA / "speech.wav"),
         "-c", "copy", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def two_hour_silence(tmp_path_factory) -> Path:
    """Two hours of 48 kHz stereo silence as FLAC: tiny to store, seconds for ffmpeg to decode."""
    path = tmp_path_factory.mktemp("media") / "two-hours.flac"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
         "-t", "7200", "-c:a", "flac", str(path)],
        check=True,
    )  # fmt: skip
    return path


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


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto in server mode, in its own process (so its copy of our bytes is not our memory)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    wait_for(listening, timeout=30, message="the moto S3 server to listen")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch, tmp_path):
    """Dummy credentials and the endpoint, as a deployment would set them; no ~/.aws files."""
    values = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return values


@pytest.fixture
def bucket(s3_env) -> str:
    """A fresh bucket on the moto server."""
    name = f"subcue-{uuid.uuid4().hex[:12]}"
    S3Storage(name).client.create_bucket(Bucket=name)
    return name
