"""ffmpeg: finding it, probing an upload, and extracting its audio as 16 kHz mono WAV."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

from .errors import NotMedia

SAMPLE_RATE = 16000
"""Whisper and Gemini both work on 16 kHz mono; extracting once to that keeps chunks small."""

PROBE_TIMEOUT = 30
"""Seconds a probe may take before the upload is treated as unreadable."""


@dataclass(frozen=True)
class Probe:
    """What ffmpeg found in a file."""

    duration_s: float
    has_audio: bool
    has_video: bool
    picture: tuple[int, int] | None = None
    """The first video stream's width and height (cover art is not a video)."""


@cache
def ffmpeg_binary(configured: str = "") -> str:
    """FFMPEG_BINARY if set, else ffmpeg on PATH, else the one imageio-ffmpeg ships."""
    if configured:
        return configured
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # only needed on pip-only installs

    return imageio_ffmpeg.get_ffmpeg_exe()


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\S+.*?: (Audio|Video): (.*)")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})\b")


def last_line(stderr: str) -> str:
    """The last line ffmpeg wrote, where it says what went wrong."""
    return (stderr.strip().splitlines() or ["unknown error"])[-1][:200]


def probe(path: str | os.PathLike, ffmpeg: str) -> Probe:
    """Read the container's streams and duration; NotMedia if there is no audio to use.

    `ffmpeg -i` (not ffprobe) so a pip-only install with imageio-ffmpeg's binary works too.
    """
    try:
        result = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", "-i", os.fspath(path)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise NotMedia("The file could not be read as audio or video in time.") from exc
    info = result.stderr
    streams = _STREAM.findall(info)
    has_audio = any(kind == "Audio" for kind, _ in streams)
    pictures = [rest for kind, rest in streams if kind == "Video" and "attached pic" not in rest]
    has_video = bool(pictures)
    size = _SIZE.search(pictures[0]) if pictures else None
    match = _DURATION.search(info)
    duration = 0.0
    if match:
        h, m, s = match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    if not has_audio:
        if has_video:
            raise NotMedia("The video has no audio track, so there is nothing to subtitle.")
        raise NotMedia("The file is not audio or video that Subcue can read.")
    if duration <= 0:
        raise NotMedia("The media has no duration; it may be truncated or corrupt.")
    return Probe(duration_s=duration, has_audio=has_audio, has_video=has_video,
                 picture=(int(size[1]), int(size[2])) if size else None)  # fmt: skip


class ExtractError(Exception):
    """ffmpeg could not decode the audio."""


def extract_audio(src: str | os.PathLike, dest: str | os.PathLike, ffmpeg: str) -> None:
    """Decode the first audio stream to a 16 kHz mono 16-bit WAV file.

    ffmpeg streams from file to file, so memory does not grow with the media's length. It runs
    in our process group: when the work horse is killed, ffmpeg dies with it. `-xerror` makes a
    truncated or corrupt stream fail the job clearly instead of yielding partial subtitles.
    """
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-y", "-i", os.fspath(src),
        "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
        "-f", "wav", os.fspath(dest),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        raise ExtractError("the audio could not be decoded (the file may be truncated or "
                           f"corrupt): {last_line(result.stderr)}")  # fmt: skip
