#!/usr/bin/env python3
"""Benchmark: the cancel answer as a user gets it, over HTTP through the Procfile's gunicorn.

    scripts/bench/cancel_http.py [--trials 30]

Ours, `--trials` times: a Gemini-engine job runs against the stand-in (1 s per call, four in
flight) under the Procfile's `web` command (gunicorn) and a real worker; once its first engine
call has arrived, `POST /api/jobs/<id>/cancel` on a kept-alive HTTP connection, timed from
request to answer (the answer comes once the job is `cancelled` and its temp dir is gone).
Baseline, in the same run and on the same Redis: plain RQ, a forking `rq worker` running a job
that sleeps; `send_stop_job_command`, timed until RQ reports the job `stopped`.
Prints one JSON object with both, the ratio of the medians and whether the targets hold
(p99 ≤ 30 ms, median ≤ 2.5 × plain RQ's).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import harness
import httpx
import redis
from rq import Queue
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus
from rq.worker import Worker

LANGS = ["fa", "es", "fr", "de", "ru", "zh", "ja", "hi", "tr", "pt", "ar", "it"]
TARGET_P99_MS, TARGET_RATIO = 30.0, 2.5


def procfile_web() -> list[str]:
    """The Procfile's web command, as honcho would run it."""
    for line in (harness.ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return shlex.split(line.split(":", 1)[1])
    raise SystemExit("the Procfile has no web line")


def gunicorn(env: dict, port: int) -> subprocess.Popen:
    """The web process, started exactly as the Procfile says, on `port`."""
    command = procfile_web()
    command[0] = str(Path(sys.executable).with_name(command[0]))  # the venv's gunicorn
    log = open(Path(env["LOGS"]) / "gunicorn.log", "ab")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(command, cwd=harness.ROOT, env={**env, "PORT": str(port)},
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/healthz"

    def up() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    harness.wait_for(up, timeout=30, message="gunicorn", interval=0.05)
    return proc


def ours(env: dict, stub: harness.Stub, trials: int) -> list[float]:
    """Cancel answers over HTTP, in ms."""
    port = harness.free_port()
    web = gunicorn(env, port)
    wav = harness.noise_wav(36, gap_every=1.8)
    stub.control("/_stub/config", {"latency": 1.0})
    times = []
    try:
        with harness.worker(env, "ours"), httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            http.get("/api/me")  # the owner cookie, as a browser has it
            for trial in range(trials):
                seen = len(stub.calls())
                files = {"file": ("bench.wav", wav, "audio/wav")}
                data = {"engine": "gemini", "target_language": LANGS[trial % len(LANGS)]}
                answer = http.post("/api/jobs", files=files, data=data)
                assert answer.status_code == 202, answer.text
                job_id = answer.json()["id"]
                harness.wait_for(
                    lambda seen=seen: len(stub.calls()) > seen, timeout=30, message="the first call"
                )
                started = time.perf_counter()
                answer = http.post(f"/api/jobs/{job_id}/cancel")
                times.append((time.perf_counter() - started) * 1000)
                assert answer.json()["status"] == "cancelled", answer.text
    finally:
        web.terminate()
        web.wait(30)
    return times


def plain_rq(env: dict, trials: int) -> list[float]:
    """Plain RQ: send_stop_job_command until RQ reports the job stopped, in ms."""
    conn = redis.Redis.from_url(env["REDIS_URL"])
    queue = Queue("bench-plain-rq", connection=conn)
    log = open(Path(env["LOGS"]) / "plain-rq.log", "ab")  # noqa: SIM115
    rq_cli = str(Path(sys.executable).with_name("rq"))
    command = [rq_cli, "worker", "-u", env["REDIS_URL"], queue.name]
    proc = subprocess.Popen(command, cwd=harness.ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    times = []
    try:
        harness.wait_for(lambda: any(w.pid == proc.pid for w in Worker.all(connection=conn)),
                         timeout=30, message="the plain worker", interval=0.05)  # fmt: skip
        for _ in range(trials):
            job = queue.enqueue("time.sleep", 60)
            harness.wait_for(lambda job=job: job.get_status(refresh=True) == JobStatus.STARTED
                             and Job.fetch(job.id, connection=conn).worker_name,
                             timeout=30, message="the plain job to start")  # fmt: skip
            started = time.perf_counter()
            send_stop_job_command(conn, job.id)
            harness.wait_for(lambda job=job: job.get_status(refresh=True) == JobStatus.STOPPED,
                             timeout=10, message="RQ to report stopped",
                             interval=0.0005)  # fmt: skip
            times.append((time.perf_counter() - started) * 1000)
    finally:
        proc.terminate()
        proc.wait(30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    with harness.environment(CHUNK_SECONDS=2, GEMINI_CONCURRENCY=4) as (env, stub):
        env = {**env, "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2")}
        subcue = harness.figures(ours(env, stub, args.trials))
        plain = harness.figures(plain_rq(env, args.trials))
    ratio = round(subcue["p50_ms"] / plain["p50_ms"], 2)
    print(json.dumps({
        "trials": args.trials,
        "subcue_cancel_over_http": subcue,
        "plain_rq_stop_job": plain,
        "p50_ratio": ratio,
        "targets": {"p99_ms": TARGET_P99_MS, "p50_ratio": TARGET_RATIO},
        "meets_targets": subcue["p99_ms"] <= TARGET_P99_MS and ratio <= TARGET_RATIO,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
