#!/usr/bin/env python3
"""Benchmark: how fast a cancel stops a running Gemini job, and whether queued cancels hold.

    scripts/bench/cancel.py [--trials 200] [--queued 300]

Part 1, `--trials` times: a Gemini-engine job runs against the stand-in (1 s per call, four in
flight); once its first call has arrived, POST /api/jobs/<id>/cancel. Measured: request to
answer (the answer only comes once the job is `cancelled` and its temp dir is gone, which is
checked right after), and every engine call that arrived after the answer (each job asks for
its own target language, so late calls are attributable).
Part 2, `--queued` jobs each: submit, then cancel at once, against an idle worker — with our
cancel, and with plain RQ `Job.cancel()` as the baseline; counted: jobs that started anyway.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import time

import harness
from rq.job import Job

LANGS = ["fa", "es", "fr", "de", "ru", "zh", "ja", "hi", "tr", "pt", "ar", "it"]
"""Rotated per trial: a late call names the job it belongs to."""


def submit(client, wav: bytes, lang: str) -> str:
    """POST /api/jobs with the Gemini engine; returns the job id."""
    response = client.post(
        "/api/jobs",
        data={"file": (io.BytesIO(wav), "bench.wav"), "engine": "gemini", "target_language": lang},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def running_cancels(env: dict, stub: harness.Stub, trials: int) -> dict:
    """Part 1: cancel latency and late calls."""
    from jobs.config import Config
    from jobs.life import workspace
    from web import create_app

    client = create_app(env).test_client()
    config = Config.from_env(env)
    wav = harness.noise_wav(36, gap_every=1.8)  # 20 chunks of 1.8 s
    stub.control("/_stub/config", {"latency": 1.0})
    latencies, answers = [], []
    temp_left = 0
    with harness.worker(env, "running"):
        for trial in range(trials):
            lang = LANGS[trial % len(LANGS)]
            seen = len(stub.calls())
            job_id = submit(client, wav, lang)
            harness.wait_for(
                lambda seen=seen: len(stub.calls()) > seen, timeout=30, message="the first call"
            )
            started = time.perf_counter()
            body = client.post(f"/api/jobs/{job_id}/cancel").get_json()
            latencies.append((time.perf_counter() - started) * 1000)
            answered = time.time()
            temp_left += workspace.path(config, job_id).exists()
            assert body["status"] == "cancelled", body
            answers.append((lang, answered, trial))
        time.sleep(2.0)  # room for a late call to show up (there must be none)
    calls = stub.calls()
    late = 0
    for lang, answered, trial in answers:
        # the same language comes back len(LANGS) trials later; calls before that are this job's
        nxt = next((a for a in answers if a[0] == lang and a[2] > trial), None)
        until = nxt[1] - 60 if nxt else float("inf")
        late += sum(1 for c in calls if c["lang"] == lang and answered < c["arrived"] < until)
    return {
        "trials": trials,
        "p50_ms": round(harness.percentile(latencies, 50), 1),
        "p99_ms": round(harness.percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "temp_dirs_left_at_answer": temp_left,
        "engine_calls_after_answer": late,
    }


def queued_cancels(env: dict, stub: harness.Stub, jobs: int, plain: bool) -> dict:
    """Part 2: submit then cancel at once; how many jobs start anyway."""
    import redis

    from web import create_app

    client = create_app(env).test_client()
    conn = redis.Redis.from_url(env["REDIS_URL"])
    wav = harness.noise_wav(1, gap_every=2.0)
    stub.control("/_stub/config", {"latency": 0})
    ids, caught_queued = [], 0
    with harness.worker(env, "queued-plain" if plain else "queued-ours"):
        for _ in range(jobs):
            job_id = submit(client, wav, "fa")
            if plain:
                Job.fetch(job_id, connection=conn).cancel()
                ids.append(job_id)
            else:
                body = client.post(f"/api/jobs/{job_id}/cancel").get_json()
                if body["started_at"] is None:  # our cancel found it queued
                    caught_queued += 1
                    ids.append(job_id)

        def settled():
            return all(client.get(f"/api/jobs/{i}").get_json()["status"] != "running"
                       for i in ids)  # fmt: skip

        harness.wait_for(settled, timeout=120, message="started jobs to end", interval=0.1)
    started = sum(1 for i in ids if client.get(f"/api/jobs/{i}").get_json()["started_at"])
    return {"jobs": jobs, "cancelled_while_queued": len(ids) if plain else caught_queued,
            "started_anyway": started}  # fmt: skip


def main() -> None:
    """Run both parts and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--queued", type=int, default=300)
    args = parser.parse_args()
    with harness.environment(CHUNK_SECONDS=2, GEMINI_CONCURRENCY=4) as (env, stub):
        running = running_cancels(env, stub, args.trials)
        ours = queued_cancels({**env, "QUEUE_NAME": "subcue-bench-ours"}, stub, args.queued, False)
        plain = queued_cancels({**env, "QUEUE_NAME": "subcue-bench-plain"}, stub, args.queued,
                               True)  # fmt: skip
    print(json.dumps({
        "cancel_running": running,
        "cancel_queued": {"subcue_cancel": ours, "plain_rq_job_cancel": plain},
        "targets": {"p99_ms": 50, "engine_calls_after_answer": 0, "started_anyway": 0},
        "meets_targets": running["p99_ms"] <= 50 and running["engine_calls_after_answer"] == 0
        and ours["started_anyway"] == 0,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
