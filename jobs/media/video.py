"""Video out: the subtitles muxed into the video as language tracks (Matroska, every stream
copied), or burned into the picture (H.264 + AAC MP4) for platforms that show no tracks.

ffmpeg runs as a child of the work horse, in its process group: a cancel or delete that kills
the horse kills ffmpeg with it. While it burns, the job's flag is read between progress lines
(`-progress`), so a cancel noticed by the horse itself stops ffmpeg too. What it writes goes to
the job's temp directory and is stored only when complete.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ..subtitles.languages import name_of
from .probe import input_args, last_line

MODES = ("none", "mux", "burn")
"""What a job may do with a video input (`video`)."""

ISO_639_2 = {
    "en": "eng", "fa": "per", "ar": "ara", "es": "spa", "fr": "fre", "de": "ger", "ru": "rus",
    "zh": "chi", "ja": "jpn", "hi": "hin", "tr": "tur", "pt": "por", "it": "ita", "nl": "dut",
    "ko": "kor", "pl": "pol", "uk": "ukr", "sv": "swe", "id": "ind", "ur": "urd",
}  # fmt: skip
"""Matroska tags a track's language with ISO 639-2 (the bibliographic codes players know)."""

NO_LIBASS = (
    "The ffmpeg this server runs ({ffmpeg}) cannot burn subtitles: it was built without "
    "libass. Install Debian's ffmpeg (apt-get install ffmpeg), or set FFMPEG_BINARY to an "
    "ffmpeg whose `ffmpeg -filters` lists `subtitles`. Muxing (video=mux) works without it."
)


@cache
def can_burn(ffmpeg: str) -> bool:
    """Whether `ffmpeg` has the libass `subtitles` filter."""
    try:
        found = subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True,
                               text=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.split()[1:2] == ["subtitles"] for line in found.stdout.splitlines())


def mux(ffmpeg: str, media: Path, demuxer: str, tracks: list[tuple[Path, str]], dest: Path,
        max_bytes: int) -> None:  # fmt: skip
    """`media` (read with its probed `demuxer`) with its streams copied (no re-encode) and one
    subtitle track per (SRT, language), each tagged and titled with its language; the first is
    the default. No tracks: the streams alone. RuntimeError if `dest` would pass `max_bytes`."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", *input_args(media, demuxer)]
    for path, _ in tracks:
        cmd += input_args(path, "srt", accepted=("srt",))  # our own files, still only as SRT
    cmd += ["-map", "0:v", "-map", "0:a?"]
    for n in range(len(tracks)):
        cmd += ["-map", f"{n + 1}:0"]
    cmd += ["-c", "copy", "-c:s", "srt"]
    for n, (_, language) in enumerate(tracks):
        cmd += [f"-metadata:s:s:{n}", f"language={ISO_639_2.get(language, language)}",
                f"-metadata:s:s:{n}", f"title={name_of(language)}",
                f"-disposition:s:{n}", "default" if n == 0 else "0"]  # fmt: skip
    cmd += ["-fs", str(max_bytes), os.fspath(dest)]
    _run(cmd)
    _within(dest, max_bytes)


class Stopped(Exception):
    """The job had to stop while ffmpeg burned; ffmpeg is gone."""


def burn(ffmpeg: str, media: Path, demuxer: str, subtitles: Path, dest: Path, max_bytes: int,
         progress: Callable[[float], None], should_stop: Callable[[], bool]) -> None:  # fmt: skip
    """Render `subtitles` (an ASS file) into `media`'s picture (read with its probed `demuxer`)
    as an H.264 + AAC MP4 with the index at the front. `progress(seconds)` hears how far ffmpeg
    is; when `should_stop()` says so, ffmpeg is killed, the partial file removed, and Stopped
    raised. RuntimeError if `dest` would pass `max_bytes`."""
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", *input_args(media, demuxer),
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", f"subtitles=filename={subtitles.name}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", "-sn",
        "-progress", "pipe:1", "-nostats", "-fs", str(max_bytes), os.fspath(dest),
    ]  # fmt: skip
    log = subtitles.parent / "ffmpeg.log"  # a file, not a pipe nobody reads while it burns
    with log.open("w+", errors="replace") as errors:
        process = subprocess.Popen(cmd, cwd=subtitles.parent, stdout=subprocess.PIPE,
                                   stderr=errors, text=True)  # fmt: skip
    try:
        for line in process.stdout:
            if line.startswith("out_time_us=") and line[12:].strip().isdigit():
                progress(int(line[12:]) / 1e6)
            if should_stop():
                raise Stopped
        if process.wait() != 0:
            error = log.read_text(errors="replace")
            raise RuntimeError(f"ffmpeg could not burn the subtitles: {last_line(error)}")
        _within(dest, max_bytes)
    except BaseException:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        dest.unlink(missing_ok=True)
        raise


class TooBig(RuntimeError):
    """The video would pass the room the job had left for it (ffmpeg stopped at `-fs`)."""


def _within(dest: Path, max_bytes: int) -> None:
    """TooBig (and `dest` removed) if ffmpeg stopped writing `dest` at its `-fs` limit."""
    if dest.stat().st_size >= max_bytes:
        dest.unlink()
        raise TooBig(f"the video would take more than the {max_bytes / 2**20:.1f} MB left")


def _run(cmd: list[str]) -> None:
    """Run ffmpeg to the end; RuntimeError with its last line when it fails."""
    found = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if found.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {last_line(found.stderr)}")
