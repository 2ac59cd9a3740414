"""Fixtures: a private redis-server, a real forking worker, the app and its client."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from jobs.storage.s3 import S3Storage

from .gemini_stub import GeminiStub
from .helpers import (
    DATA,
    GEMINI_KEY,
    WorkerProcess,
    free_port,
    gemini_env,
    make_app,
    private_redis,
    wait_for,
)  # fmt: skip


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of our own on a free port (never the shared one on 6379)."""
    with private_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


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
        # the whole suite's owners and jobs come from 127.0.0.1 (test_input_bounds.py lowers them)
        "NEW_OWNERS_PER_ADDRESS": "100000 per minute",
        "JOBS_PER_ADDRESS": "100000 per minute",
        "GEMINI_API_KEY": "",
    }


@pytest.fixture(scope="session")
def worker(base_env, tmp_path_factory):
    """One real forking worker for the whole session."""
    proc = WorkerProcess(base_env, tmp_path_factory.mktemp("logs") / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def stub():
    """One Gemini stand-in for the module (a module may reset it before each test)."""
    with GeminiStub(api_key=GEMINI_KEY) as s:
        yield s


@pytest.fixture(scope="module")
def module_gemini_env(request, base_env, stub) -> dict:
    """Settings with the paid engine pointed at the module's stand-in, on a queue of the
    module's own, plus the module's `GEMINI_SETTINGS` (a dict of environment variables)."""
    queue = "subcue-" + request.module.__name__.rsplit(".", 1)[-1]
    return gemini_env(base_env, stub.url, queue, **getattr(request.module, "GEMINI_SETTINGS", {}))


@pytest.fixture(scope="module")
def module_gemini_worker(module_gemini_env, tmp_path_factory):
    """A real worker for the module, with `module_gemini_env`."""
    worker = WorkerProcess(module_gemini_env, tmp_path_factory.mktemp("gemini") / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def server(env, tmp_path_factory):
    """gunicorn serving the app, with a worker on the same queue, for a browser test module:
    its settings are the module's `env` fixture."""
    from .browser import served

    with served(env, tmp_path_factory.mktemp("web-logs")) as web:
        yield web


@pytest.fixture(scope="module")
def playwright():
    """Playwright's driver (it never launches a browser of its own here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def chromium(request, playwright, tmp_path):
    """A fresh Chromium: its own profile, so its own owner; the test module's
    BROWSER_INIT_SCRIPT, if it has one, runs in every page."""
    from .browser import Chromium

    browser = Chromium(playwright, tmp_path / "profile", tmp_path / "chromium.log")
    if script := getattr(request.module, "BROWSER_INIT_SCRIPT", None):
        browser.context.add_init_script(script)
    yield browser
    browser.close()


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


@pytest.fixture(scope="session")
def media_servers():
    """The Jellyfin and Plex stand-ins, for the library tests."""
    from .library import JELLYFIN_KEY, PLEX_TOKEN, MediaServerStub

    with MediaServerStub(JELLYFIN_KEY, PLEX_TOKEN) as stub:
        yield stub


@pytest.fixture(scope="session")
def library_root(tmp_path_factory) -> Path:
    """The library tests' MEDIA_ROOTS (each module fills a folder of its own)."""
    return tmp_path_factory.mktemp("library")


@pytest.fixture(scope="session")
def library_env(base_env, library_root, media_servers) -> dict:
    """Settings of the library tests (tests/library.py)."""
    from .library import library_env

    return library_env(base_env, library_root, media_servers)


@pytest.fixture(scope="session")
def library_worker(library_env, tmp_path_factory):
    """One real worker for every library test module (whisper API, webhooks, watcher)."""
    proc = WorkerProcess(library_env, tmp_path_factory.mktemp("library-logs") / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def short_speech(tmp_path_factory) -> Path:
    """The spoken clip's first 4 s ("The quick brown fox..."), as MP4: one short chunk, for
    tests about where subtitles go rather than what they say."""
    path = tmp_path_factory.mktemp("media") / "short-speech.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(DATA / "speech.mp4"), "-t", "4", "-c", "copy",
         str(path)],
        check=True,
    )  # fmt: skip
    return path
