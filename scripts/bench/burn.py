#!/usr/bin/env python3
"""Benchmark: burning subtitles into video, and muxing them, on this machine.

    scripts/bench/burn.py [--seconds 20] [--runs 2]

For 720p and 1080p test videos (ffmpeg's testsrc2 at 25 fps with speech), Subcue's burn
(jobs/media/video.py: the ASS it makes, ffmpeg with -progress read line by line, the job's cancel
flag read from a private Redis every 0.25 s and its progress written every 0.5 s, as a job
does) against a plain `ffmpeg -vf subtitles=<the same cues as SRT>` with the same encoder
settings, in the same run: speed in × real time and the ratio (the cost of Subcue's
wrapping). Then muxing (every stream copied, two subtitle tracks) against the file's size.
The best of `--runs` (alternated) is kept for each. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import harness

NO_LIMIT = 1 << 40
"""The room a benchmark's video may take (a job's is JOB_TEMP_MB less what it holds)."""

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def make_video(path: Path, size: tuple[int, int], seconds: float) -> None:
    """A test picture with speech, as a phone or camera would hand it in."""
    speech = harness.ROOT / "tests" / "data" / "speech.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s={size[0]}x{size[1]}:r=25", "-stream_loop", "-1", "-i",
                    str(speech), "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "23", "-c:a", "aac", "-shortest", str(path)], check=True)  # fmt: skip


def cues_for(seconds: float):
    """A cue every 2.5 s, two lines, as dense as real subtitles."""
    from jobs.subtitles.cues import Cue

    return [Cue(t, t + 2.2, ("Every band had to be recorded", f"by hand, take {n + 1}."))
            for n, t in enumerate(x * 2.5 for x in range(int(seconds / 2.5)))]  # fmt: skip


def timed(run) -> float:
    """Seconds `run()` takes."""
    started = time.monotonic()
    run()
    return time.monotonic() - started


def main() -> None:
    """Run the benchmark and print its JSON."""
    import redis

    from jobs.media import probe, video
    from jobs.subtitles import styles
    from jobs.subtitles.formats.ass import document as ass_document
    from jobs.subtitles.formats.writer import write_outputs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    style = styles.STYLES["netflix"]
    shaped = cues_for(args.seconds)
    report: dict = {"seconds": args.seconds, "burn": {}, "mux": []}
    with tempfile.TemporaryDirectory(prefix="subcue-bench-") as tmp:
        folder = Path(tmp)
        with harness.private_redis(folder) as url:
            conn = redis.Redis.from_url(url)
            (srt, *_), _ = write_outputs(folder, "cues", "en", args.seconds, shaped, style)
            for label, size in SIZES.items():
                source = folder / f"{label}.mp4"
                make_video(source, size, args.seconds)
                demuxer = probe.probe(source, "ffmpeg").demuxer  # as an upload's probe finds it
                ass = folder / f"{label}.ass"
                ass_document(shaped, style, "en", *size).save(str(ass))

                def subcue(source=source, ass=ass, label=label, demuxer=demuxer):
                    looked = [time.monotonic()]

                    def progress(seconds: float) -> None:
                        conn.hset("bench:job", mapping={"done": int(seconds)})

                    def should_stop() -> bool:
                        if time.monotonic() - looked[0] >= 0.25:
                            looked[0] = time.monotonic()
                            return conn.hget("bench:job", "status") == b"cancelled"
                        return False

                    video.burn("ffmpeg", source, demuxer, ass, folder / f"{label}.burned.mp4",
                               NO_LIMIT, progress, should_stop)  # fmt: skip

                def plain(source=source, label=label):
                    subprocess.run(
                        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-vf",
                         f"subtitles={srt.name}", "-c:v", "libx264", "-preset", "veryfast",
                         "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "160k",
                         "-movflags", "+faststart", str(folder / f"{label}.plain.mp4")],
                        cwd=folder, check=True,
                    )  # fmt: skip

                ours, theirs = [], []
                for _ in range(args.runs):  # alternated, so the machine's load hits both
                    ours.append(timed(subcue))
                    theirs.append(timed(plain))
                ours, theirs = min(ours), min(theirs)
                report["burn"][label] = {
                    "subcue_s": round(ours, 2), "plain_ffmpeg_s": round(theirs, 2),
                    "subcue_x_realtime": round(args.seconds / ours, 2),
                    "plain_x_realtime": round(args.seconds / theirs, 2),
                    "ratio": round(ours / theirs, 3),
                }  # fmt: skip
                tracks = [(srt, "de"), (srt, "fr")]
                mkv = folder / f"{label}.mkv"
                took = min(timed(lambda s=source, d=demuxer, m=mkv, t=tracks: video.mux(
                    "ffmpeg", s, d, t, m, NO_LIMIT)) for _ in range(args.runs))  # fmt: skip
                megabytes = source.stat().st_size / 1e6
                report["mux"].append({"video": label, "size_mb": round(megabytes, 1),
                                      "mux_s": round(took, 3),
                                      "mb_per_s": round(megabytes / took, 1)})  # fmt: skip
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
