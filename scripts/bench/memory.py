#!/usr/bin/env python3
"""Benchmark: a translate job's peak memory on a 2-hour input vs a 2-minute input.

    scripts/bench/memory.py [--long-minutes 120] [--short-minutes 2]

Each input (a tone with a half-second pause every 30 s, as FLAC) is uploaded through the API
and its job is run by the real job function in a fresh process against the Gemini stand-in
(instant answers), so what is measured is Subcue's own pipeline: fetch, ffmpeg extraction,
chunk planning, chunk reading, assembly and output writing. The figure is that process's peak
RSS (ffmpeg is a separate process and not counted). The plain baseline loads the same 2-hour
audio the way pydub is usually used, `AudioSegment.from_file()`, in a fresh process.
Prints one JSON object; the target is long - short within 50 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import harness

PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
"""Appended to a measured program: prints its own peak RSS in MiB."""


def make_input(path: Path, minutes: float) -> None:
    """A tone with a 0.5 s pause every 30 s (where the chunker will cut)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=f=440:r=16000:d={minutes * 60}",
         "-af", "volume='if(lt(mod(t,30),29.5),0.5,0)':eval=frame", "-ac", "1",
         "-c:a", "flac", str(path)],
        check=True,
    )  # fmt: skip


def measured(code: str, env: dict) -> int:
    """Run `code` in a fresh interpreter and return its peak RSS in MiB."""
    out = subprocess.run([sys.executable, "-c", f"{code}\n{PEAK}"], cwd=harness.ROOT, env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(out.stdout.strip().splitlines()[-1])


def job_peak(env: dict, media: Path) -> dict:
    """Submit through the API (no worker on this queue) and run the job function directly."""
    from web import create_app

    client = create_app(env).test_client()
    with open(media, "rb") as f:
        response = client.post("/api/jobs", data={"file": (f, media.name), "engine": "gemini",
                                                  "target_language": "fa"},
                               content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    peak = measured(f"from jobs.work.translate import run; run({job_id!r})", env)
    job = client.get(f"/api/jobs/{job_id}").get_json()
    assert job["status"] == "finished", job
    return {"chunks": job["progress"]["total"], "peak_rss_mib": peak}


def main() -> None:
    """Run and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=120)
    parser.add_argument("--short-minutes", type=float, default=2)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        harness.environment(
            CHUNK_SECONDS=30, GEMINI_CONCURRENCY=8, QUEUE_NAME="nobody-serves-this"
        ) as (env, _stub),
    ):
        short, long = Path(tmp) / "short.flac", Path(tmp) / "long.flac"
        make_input(short, args.short_minutes)
        make_input(long, args.long_minutes)
        results = {"short": job_peak(env, short), "long": job_peak(env, long)}
        wav = Path(tmp) / "long.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(long), "-ar", "16000", "-ac",
                        "1", str(wav)], check=True)  # fmt: skip
        naive = measured(f"from pydub import AudioSegment; AudioSegment.from_file({str(wav)!r})",
                         env)  # fmt: skip
    growth = results["long"]["peak_rss_mib"] - results["short"]["peak_rss_mib"]
    print(json.dumps({
        f"{args.short_minutes:g}_min_input": results["short"],
        f"{args.long_minutes:g}_min_input": results["long"],
        "growth_mib": growth,
        "baseline_pydub_load_whole_long_input_peak_rss_mib": naive,
        "target_growth_mib": 50,
        "meets_target": growth <= 50,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
