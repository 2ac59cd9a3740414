#!/usr/bin/env python3
"""Benchmark: the estimate against the bill, and how close a job's cap gets without passing it.

    scripts/bench/spend.py [--durations 30,120,600,1800] [--minutes 30] [--fractions 0.25,0.5,0.75]
                           [--concurrency 4] [--latency 0.5]

Against the Gemini stand-in (its own count of billed tokens, priced at the model's prices) and
a real worker:

1. Estimate vs billed: for each of `--durations` (seconds of audio), `GET /api/estimate` and
   then the same job run to the end without a cap; the billed cost against the expected and
   the worst-case figure.
2. The cap: one `--minutes` job run uncapped, then capped at each of `--fractions` of its
   estimate, `--concurrency` calls in flight (the stand-in answers after `--latency` s). For
   each cap: billed / cap (1.0 is the whole cap used; above 1.0 the cap was passed).
   The baseline is the plain guard most tools have: "make the call if what is billed so far
   is under the cap", checked before each call. Its bill is replayed from the uncapped run's
   own call log (each call's arrival, finish and billed tokens, in the same run): a call is
   made when the calls that finished before it arrived cost less than the cap.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import time

import harness


def submit(client, wav: bytes, name: str = "bench.wav", **fields) -> str:
    """POST a translate job to Gemini; its id."""
    fields = {"target_language": "de", **fields}
    response = client.post(
        "/api/jobs",
        data={"file": (io.BytesIO(wav), name), "engine": "gemini", **fields},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def run_to_end(client, job_id: str) -> dict:
    """Wait for the job to end; the job as the API shows it."""

    def ended():
        job = client.get(f"/api/jobs/{job_id}").get_json()
        return job if job["terminal"] else None

    return harness.wait_for(ended, timeout=900, message=f"job {job_id} to end", interval=0.05)


def speech(wav: bytes) -> list[str]:
    """What the stand-in "hears": one phrase of 12 words of tests/data/story.txt per 5 s
    segment, about 145 words a minute, as people speak (its answers are then as long as for
    real speech, and so are the output tokens it bills)."""
    words = (harness.ROOT / "tests" / "data" / "story.txt").read_text().split()
    seconds = (len(wav) - 44) / 2 / harness.RATE
    count = int(seconds / 5) + 2
    return [" ".join(words[(i * 12 + k) % len(words)] for k in range(12)) for i in range(count)]


def billed(prices, calls: list[dict]) -> float:
    """The stand-in's billed tokens of `calls` at `prices`."""
    return sum(prices.usd(c["tokens_in"], c["tokens_out"]) for c in calls)


def plain_guard(prices, calls: list[dict], cap: float) -> tuple[float, int]:
    """What "call while billed-so-far < cap" would have paid, replayed over a call log:
    (billed, calls made)."""
    made: list[dict] = []
    for call in sorted(calls, key=lambda c: c["arrived"]):
        settled = billed(prices, [m for m in made if m["finished"] <= call["arrived"]])
        if settled < cap:
            made.append(call)
    return billed(prices, made), len(made)


def text_against_audio(client, one_job, prices) -> dict:
    """What a cue costs: heard from 2 minutes of audio; in a second language of the same job
    (a text call); and from a subtitle file of the same cues (text only)."""
    wav = harness.noise_wav(120.0, gap_every=27.0)
    audio_job, audio_calls = one_job(wav)
    srt = next(o for o in audio_job["outputs"] if o["name"].endswith(".de.srt"))
    subtitles = client.get(srt["url"]).get_data()
    cues = subtitles.decode().count(" --> ")
    _, both_calls = one_job(wav, target_languages="de,fr")
    text_job, text_calls = one_job(subtitles, name="bench.de.srt", target_languages="fr")
    assert text_job["status"] == "finished", text_job["error"]

    def figures(calls: list[dict]) -> dict:
        tokens_in, tokens_out = (sum(c[k] for c in calls) for k in ("tokens_in", "tokens_out"))
        return {"calls": len(calls), "usd_per_cue": round(billed(prices, calls) / cues, 7),
                "tokens_in_per_cue": round(tokens_in / cues, 1),
                "tokens_out_per_cue": round(tokens_out / cues, 1)}  # fmt: skip

    second = [c for c in both_calls if c.get("kind") == "text"]
    return {"cues": cues, "audio_s": 120.0, "heard_from_audio": figures(audio_calls),
            "second_language_of_the_same_job": figures(second),
            "subtitle_file": figures(text_calls)}  # fmt: skip


def main() -> None:
    """Run the benchmark and print its JSON."""
    from jobs.spend import pricing
    from web import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", default="30,120,600,1800")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--fractions", default="0.25,0.5,0.75")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.5)
    args = parser.parse_args()
    durations = [float(d) for d in args.durations.split(",")]
    fractions = [float(f) for f in args.fractions.split(",")]

    with harness.environment(GEMINI_CONCURRENCY=args.concurrency) as (env, stub):
        client = create_app(env).test_client()
        prices = pricing.prices_for(env.get("GEMINI_MODEL") or "gemini-2.5-flash")

        def estimate_of(seconds: float) -> dict:
            return client.get(f"/api/estimate?engine=gemini&duration_s={seconds}"
                              "&target_language=de").get_json()  # fmt: skip

        def one_job(wav: bytes, **fields) -> tuple[dict, list[dict]]:
            stub.control("/_stub/reset", {})
            stub.control("/_stub/config", {"latency": args.latency, "script": speech(wav)})
            job = run_to_end(client, submit(client, wav, **fields))
            assert job["status"] == "finished" or "max_cost_usd" in fields, job["error"]
            return job, [c for c in stub.calls() if c.get("tokens_in")]

        with harness.worker(env):
            accuracy = []
            for seconds in durations:
                wav = harness.noise_wav(seconds, gap_every=27.0)
                est = estimate_of(seconds)
                job, calls = one_job(wav)
                assert job["status"] == "finished", job["error"]
                bill = billed(prices, calls)
                accuracy.append({
                    "audio_s": seconds, "calls_estimated": est["calls"], "calls_made": len(calls),
                    "estimate_usd": est["cost_usd"], "worst_case_usd": est["max_cost_usd"],
                    "billed_usd": round(bill, 6), "counted_usd": job["usage"]["cost_usd"],
                    "billed_over_estimate": round(bill / est["cost_usd"], 3),
                    "billed_over_worst_case": round(bill / est["max_cost_usd"], 3),
                })  # fmt: skip

            per_cue = text_against_audio(client, one_job, prices)

            seconds = args.minutes * 60
            wav = harness.noise_wav(seconds, gap_every=27.0)
            est = estimate_of(seconds)
            started = time.monotonic()
            full_job, full_calls = one_job(wav)
            assert full_job["status"] == "finished", full_job["error"]
            full = {"audio_s": seconds, "calls": len(full_calls),
                    "billed_usd": round(billed(prices, full_calls), 6),
                    "wall_s": round(time.monotonic() - started, 1)}  # fmt: skip
            caps = []
            for fraction in fractions:
                cap = round(est["cost_usd"] * fraction, 6)
                job, calls = one_job(wav, max_cost_usd=str(cap))
                bill = billed(prices, calls)
                plain_bill, plain_calls = plain_guard(prices, full_calls, cap)
                caps.append({
                    "fraction_of_estimate": fraction, "cap_usd": cap, "status": job["status"],
                    "error": (job["error"] or {}).get("code"), "calls": len(calls),
                    "max_in_flight": harness.peak_in_flight(calls), "billed_usd": round(bill, 6),
                    "billed_over_cap": round(bill / cap, 3),
                    "plain_guard_calls": plain_calls,
                    "plain_guard_billed_usd": round(plain_bill, 6),
                    "plain_guard_billed_over_cap": round(plain_bill / cap, 3),
                })  # fmt: skip

    print(json.dumps({
        "model": prices.model, "prices": prices.as_dict(), "concurrency": args.concurrency,
        "latency_s": args.latency, "estimate_vs_billed": accuracy,
        "per_cue": per_cue,
        "cap": {"uncapped": full, "estimate_usd": est["cost_usd"], "runs": caps},
        "cap_never_passed": all(c["billed_over_cap"] <= 1.0 for c in caps),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
