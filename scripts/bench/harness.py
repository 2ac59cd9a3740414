"""What every benchmark needs: a private redis-server, the Gemini stand-in, real workers.

The redis-server, the worker process and waiting with deadlines are the tests' own
(tests/helpers.py), so a benchmark runs what the tests run. Nothing here touches a Redis on
6379 or the network beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

try:
    import numpy as np
except ImportError:  # run with the system python3: use the project's venv if there is one
    VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
    if VENV_PYTHON.exists() and not os.environ.get("SUBCUE_REEXEC"):
        os.environ["SUBCUE_REEXEC"] = "1"
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
    sys.exit("the benchmarks need the project's requirements (run scripts/test once)")

from tests.helpers import WorkerProcess, free_port, private_redis, wait_for  # noqa: E402,F401

STUB_KEY = "bench-key"
"""The stand-in's key; no real key is ever needed or read."""

RATE = 16000


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
        with private_redis(tmp_path) as url:
            stub = Stub()
            try:
                env = {
                    "SECRET_KEY": secrets.token_hex(16), **os.environ, "REDIS_URL": url,
                    "STORAGE_URL": f"file://{tmp_path / 'storage'}",
                    "TEMP_DIR": str(tmp_path / "temp"),
                    "QUEUE_NAME": "subcue-bench", "GEMINI_API_KEY": STUB_KEY,
                    "GEMINI_BASE_URL": stub.url, "MAX_ACTIVE_JOBS_PER_OWNER": "100000",
                    "NEW_OWNERS_PER_ADDRESS": "100000 per minute",
                    "JOBS_PER_ADDRESS": "100000 per minute", "OWNER_STORAGE_MB": "100000",
                    "PYTHONUNBUFFERED": "1", "LOGS": str(tmp_path),
                    **{k: str(v) for k, v in settings.items()},
                }  # fmt: skip
                yield env, stub
            finally:
                stub.stop()


@contextlib.contextmanager
def worker(env: dict, name: str = "worker") -> Iterator[WorkerProcess]:
    """A real forking worker (`python -m worker`) for the duration of the block."""
    process = WorkerProcess(env, Path(env["LOGS"]) / f"{name}.log")
    try:
        yield process
    finally:
        process.stop()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def figures(times_ms: list[float]) -> dict:
    """p50, p99 and the slowest of a list of latencies in milliseconds."""
    return {"p50_ms": round(percentile(times_ms, 50), 1),
            "p99_ms": round(percentile(times_ms, 99), 1),
            "max_ms": round(max(times_ms), 1)}  # fmt: skip


def peak_in_flight(calls: list[dict]) -> int:
    """The most stand-in calls in flight at once, from their arrival and finish times."""
    events = sorted([(c["arrived"], 1) for c in calls] + [(c["finished"], -1) for c in calls])
    peak = current = 0
    for _, step in events:  # at equal times a finish (-1) sorts first and frees its slot
        current += step
        peak = max(peak, current)
    return peak
