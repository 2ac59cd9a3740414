#!/usr/bin/env python3
"""Benchmark: N chunks through the Gemini engine at concurrency 1 (the seed's way) and default.

    scripts/bench/gemini.py [--chunks 60] [--latency 0.5] [--concurrency C]

Against the Gemini stand-in (tests/gemini_stub.py, `--latency` s per call) and a real worker
per run, a WAV that cuts into exactly `--chunks` chunks is submitted through the API. Prints one
JSON object: per run the engine wall time (first call's arrival to last call's finish, from the
stand-in's log) and submit-to-finished time; the ratio; and the SPEC target
1.2 x ceil(N/C) x L for the default concurrency.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import time

import harness

CHUNK_SECONDS = 2.0
"""The smallest chunk Config allows, so the audio stays short."""


def run_once(env: dict, stub: harness.Stub, wav: bytes, latency: float) -> dict:
    """One job with the worker configured by `env`; timings from the API and the stand-in."""
    from web import create_app

    stub.control("/_stub/reset", {})
    stub.control("/_stub/config", {"latency": latency})
    with harness.worker(env, f"worker-{env['GEMINI_CONCURRENCY']}"):
        client = create_app(env).test_client()
        started = time.monotonic()
        response = client.post(
            "/api/jobs",
            data={"file": (io.BytesIO(wav), "bench.wav"), "engine": "gemini",
                  "target_language": "fa"},
            content_type="multipart/form-data",
        )  # fmt: skip
        assert response.status_code == 202, response.get_json()
        job_id = response.get_json()["id"]

        def ended():
            job = client.get(f"/api/jobs/{job_id}").get_json()
            return job if job["terminal"] else None

        job = harness.wait_for(ended, timeout=600, message="the job to end", interval=0.02)
        submit_to_finished = time.monotonic() - started
    if job["status"] != "finished":
        raise SystemExit(f"job {job['status']}: {job['error']}")
    calls = stub.calls()
    peak = harness.peak_in_flight(calls)
    wall = max(c["finished"] for c in calls) - min(c["arrived"] for c in calls)
    return {
        "concurrency": int(env["GEMINI_CONCURRENCY"]),
        "chunks": job["progress"]["total"],
        "engine_calls": len(calls),
        "max_in_flight": peak,
        "engine_wall_s": round(wall, 3),
        "submit_to_finished_s": round(submit_to_finished, 3),
    }


def main() -> None:
    """Run the benchmark and print its JSON."""
    from jobs.config import Config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=Config().gemini_concurrency)
    args = parser.parse_args()
    gap = CHUNK_SECONDS * 0.9
    wav = harness.noise_wav(args.chunks * gap, gap_every=gap)
    with harness.environment(CHUNK_SECONDS=CHUNK_SECONDS) as (env, stub):
        runs = [
            run_once({**env, "GEMINI_CONCURRENCY": str(c)}, stub, wav, args.latency)
            for c in (1, args.concurrency)
        ]
    for run in runs:
        if run["chunks"] != args.chunks or run["engine_calls"] != args.chunks:
            raise SystemExit(f"expected {args.chunks} chunks and calls, got {run}")
    sequential, concurrent = runs
    ideal = math.ceil(args.chunks / args.concurrency) * args.latency
    print(json.dumps({
        "chunks": args.chunks,
        "latency_s": args.latency,
        "sequential": sequential,
        "concurrent": concurrent,
        "ratio_engine_wall": round(sequential["engine_wall_s"] / concurrent["engine_wall_s"], 2),
        "ratio_submit_to_finished": round(
            sequential["submit_to_finished_s"] / concurrent["submit_to_finished_s"], 2),
        "ideal_s": ideal,
        "target_s": round(1.2 * ideal, 3),
        "meets_target": concurrent["engine_wall_s"] <= 1.2 * ideal,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
