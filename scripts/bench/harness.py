"""What every benchmark needs: a private redis-server, the Gemini stand-in, real workers.

Nothing here touches a Redis on 6379 or the network beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

try:
    import numpy as np
    import redis
    from rq.worker import Worker
except ImportError:  # run with the system python3: use the project's venv if there is one
    VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
    if VENV_PYTHON.exists() and not os.environ.get("SUBCUE_REEXEC"):
        os.environ["SUBCUE_REEXEC"] = "1"
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
    sys.exit("the benchmarks need the project's requirements (run scripts/run once)")

STUB_KEY = "bench-key"
"""The stand-in's key; no real key is ever needed or read."""

RATE = 16000


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.005):
    """Poll until `predicate` is truthy; raise at the deadline."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)
    return value


def pings(conn: redis.Redis) -> bool:
    """True once redis-server answers."""
    try:
        return conn.ping()
    except redis.ConnectionError:
        return False


def noise_wav(seconds: float, gap_every: float, seed: int = 7) -> bytes:
    """Steady noise with a 0.2 s gap at every multiple of `gap_every` (where cuts will land).

    The chunker looks for a quiet point up to 20 % before each CHUNK_SECONDS mark, so gaps
    every 0.9 x CHUNK_SECONDS give exactly one chunk per gap."""
    rng = np.random.default_rng(seed)
    samples = (rng.normal(0, 0.2, int(seconds * RATE)) * 32767).clip(-32767, 32767)
    phase = np.mod(np.arange(samples.size) / RATE, gap_every)
    samples[(phase < 0.1) | (phase > gap_every - 0.1)] = 0
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


class Stub:
    """The Gemini stand-in as a separate process, driven through its control endpoints."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.gemini_stub", "--port", "0", "--api-key", STUB_KEY],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.url = self.proc.stdout.readline().strip().split("=", 1)[1]

    def control(self, path: str, body: dict | None = None) -> dict:
        """GET (or POST `body` to) a /_stub/ endpoint."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data,
                                         method="GET" if data is None else "POST")  # fmt: skip
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def calls(self) -> list[dict]:
        """Every generateContent call so far."""
        return self.control("/_stub/calls")["calls"]

    def stop(self) -> None:
        """Terminate the process."""
        self.proc.terminate()
        self.proc.wait(10)


@contextlib.contextmanager
def environment(**settings) -> Iterator[tuple[dict, Stub]]:
    """A private redis-server, storage and temp dirs, and the stand-in; yields (env, stub)."""
    with tempfile.TemporaryDirectory(prefix="subcue-bench-") as tmp:
        tmp_path = Path(tmp)
        port = free_port()
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        stub = Stub()
        try:
            wait_for(lambda: pings(redis.Redis(port=port)), 10, "redis-server")
            env = {
                **os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                "STORAGE_URL": f"file://{tmp_path / 'storage'}", "TEMP_DIR": str(tmp_path / "temp"),
                "QUEUE_NAME": "subcue-bench", "GEMINI_API_KEY": STUB_KEY,
                "GEMINI_BASE_URL": stub.url, "MAX_ACTIVE_JOBS_PER_OWNER": "100000",
                "PYTHONUNBUFFERED": "1", "LOGS": str(tmp_path),
                **{k: str(v) for k, v in settings.items()},
            }  # fmt: skip
            yield env, stub
        finally:
            stub.stop()
            server.terminate()
            server.wait(10)


@contextlib.contextmanager
def worker(env: dict, name: str = "worker") -> Iterator[subprocess.Popen]:
    """A real forking worker (`python -m worker`) for the duration of the block."""
    conn = redis.Redis.from_url(env["REDIS_URL"])
    with open(Path(env["LOGS"]) / f"{name}.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for(lambda: any(w.pid == proc.pid for w in Worker.all(connection=conn)), 30,
                 "the worker to register", interval=0.05)  # fmt: skip
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]
