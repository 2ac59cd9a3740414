#!/usr/bin/env python3
"""Benchmark: the local Whisper engine's speed on this machine, as a multiple of real time and
against plain faster-whisper on the same file.

    scripts/bench/local.py [--voices en-us,en-gb]

The speech is tests/data/story.txt read by espeak-ng once per voice (about 88 s each), so no
sentence repeats: a clip looped over itself made Whisper's 30 s windows repeat their own text,
which its compression-ratio check takes for a hallucination, and every chunk that happened to
hold a repeat was decoded again at higher temperatures (seen: 18.7 s for one 28 s chunk).
It is translated (English) by a real worker through the API; the job's own started_at..ended_at
is compared with the audio's duration. The plain baseline is faster-whisper called once on the
whole file with the same model and settings, in a fresh process: what our chunking, checkpoints,
progress, speech timing and cue shaping cost on top, and what decoding chunks side by side
gains. It runs twice, without and with word timestamps (which Subcue asks for, so that cues
start and end on speech): the difference is what word timestamps cost.
Prints one JSON object; the targets are at least 5 x real time, and at least 0.9 of the
baseline's speed (with word timestamps).
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


def spoken_story(voices: list[str], dest: Path) -> Path:
    """tests/data/story.txt read once by each espeak-ng voice, one after the other, as 16 kHz
    mono WAV."""
    story, parts = harness.ROOT / "tests" / "data" / "story.txt", []
    for voice in voices:
        parts.append(dest.with_name(f"story-{voice}.wav"))
        subprocess.run(["espeak-ng", "-v", voice, "-s", "145", "-w", str(parts[-1]), "-f",
                        str(story)], check=True)  # fmt: skip
    inputs = [arg for part in parts for arg in ("-i", str(part))]
    joined = "".join(f"[{n}:a]" for n in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", joined, "-ac",
                    "1", "-ar", "16000", str(dest)], check=True)  # fmt: skip
    return dest


def main() -> None:
    """Run and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default="en-us,en-gb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, harness.environment(GEMINI_API_KEY="") as (env, _):
        media = spoken_story(args.voices.split(","), Path(tmp) / "story.wav")
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
        "speed_against_baseline": round(baselines["words"][0] / job_s, 2),
        "target_real_time_factor": 5,
        "target_against_baseline": 0.9,
        "meets_targets": duration / job_s >= 5 and baselines["words"][0] / job_s >= 0.9,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
