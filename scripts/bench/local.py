#!/usr/bin/env python3
"""Benchmark: the local Whisper engine's speed on this machine, as a multiple of real time.

    scripts/bench/local.py [--repeat 8]

The committed speech clip, looped `--repeat` times, is translated (English) by a real worker
through the API; the job's own started_at..ended_at is compared with the audio's duration.
The plain baseline is faster-whisper called once on the whole file with the same model and
settings, in a fresh process: what our chunking, checkpoints, progress and cue shaping cost on
top. It runs twice, without and with word timestamps (which Subcue asks for, so that cues start
and end on speech): the difference is what word timestamps cost.
Prints one JSON object; the target is at least 5 x real time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import harness

BASELINE = """
import time, sys
from faster_whisper import WhisperModel
from jobs.config import Config
from jobs.work.engines.local import model_path
started = time.perf_counter()
model = WhisperModel(model_path(Config.from_env()), device="cpu", compute_type="int8")
segments, _ = model.transcribe(sys.argv[1], language="en", beam_size=5,
                               condition_on_previous_text=False,
                               word_timestamps=sys.argv[2] == "words")
words = sum(len(s.text.split()) for s in segments)
print(time.perf_counter() - started, words)
"""


def seconds(start: str, end: str) -> float:
    """The time between two API timestamps."""
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def main() -> None:
    """Run and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    clip = harness.ROOT / "tests" / "data" / "speech.wav"
    with tempfile.TemporaryDirectory() as tmp, harness.environment(GEMINI_API_KEY="") as (env, _):
        media = Path(tmp) / "speech-looped.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(args.repeat - 1),
                        "-i", str(clip), "-c", "copy", str(media)], check=True)  # fmt: skip
        from jobs.media.audio import duration_of
        from web import create_app

        duration = duration_of(media)
        client = create_app(env).test_client()
        with harness.worker(env):
            with open(media, "rb") as f:
                job = client.post("/api/jobs", data={"file": (f, media.name), "engine": "local"},
                                  content_type="multipart/form-data").get_json()  # fmt: skip
            submitted = time.perf_counter()

            def ended():
                found = client.get(f"/api/jobs/{job['id']}").get_json()
                return found if found["terminal"] else None

            job = harness.wait_for(ended, timeout=600, message="the job", interval=0.1)
            submit_to_finished = time.perf_counter() - submitted
        assert job["status"] == "finished", job
        job_s = seconds(job["started_at"], job["ended_at"])
        baselines = {}
        for mode in ("plain", "words"):
            out = subprocess.run([sys.executable, "-c", BASELINE, str(media), mode],
                                 cwd=harness.ROOT, env=env, capture_output=True, text=True,
                                 check=True)  # fmt: skip
            base_s, base_words = out.stdout.split()
            baselines[mode] = (float(base_s), int(base_words))
    print(json.dumps({
        "audio_s": round(duration, 1),
        "chunks": job["progress"]["total"],
        "job_s": round(job_s, 2),
        "submit_to_finished_s": round(submit_to_finished, 2),
        "real_time_factor": round(duration / job_s, 1),
        "baseline_whole_file_s": round(baselines["plain"][0], 2),
        "baseline_real_time_factor": round(duration / baselines["plain"][0], 1),
        "baseline_words": baselines["plain"][1],
        "baseline_with_word_timestamps_s": round(baselines["words"][0], 2),
        "word_timestamps_cost": f"{baselines['words'][0] / baselines['plain'][0] - 1:+.0%}",
        "target_real_time_factor": 5,
        "meets_target": duration / job_s >= 5,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
