"""ffmpeg: finding it, probing an upload, and extracting its audio as 16 kHz mono WAV.

An upload is read only as media. ffmpeg's auto-detection would as gladly open an HLS playlist
or an ffconcat list, and those name other files: a text upload naming `/some/file.mp3` would
have ffmpeg read the server's own disk. So the probe lets ffmpeg open only the demuxers of
ACCEPTED_DEMUXERS (`-format_whitelist`, checked before a demuxer reads anything), through the
`file` protocol alone; the demuxer it found is stored with the file, and every later ffmpeg run
over that file is told it (`input_args`): nothing is detected twice.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

from ..errors import MediaTooLong, NotMedia, UnsupportedMedia, without_paths

SAMPLE_RATE = 16000
"""Whisper and Gemini both work on 16 kHz mono; extracting once to that keeps chunks small."""

WAV_BYTES_PER_S = SAMPLE_RATE * 2
"""The extracted WAV's size for a second of audio (16-bit mono)."""

WAV_HEADER_BYTES = 1024
"""Room for the extracted WAV's header (ffmpeg writes 44 to 80 bytes, and a LIST tag)."""

PROBE_TIMEOUT = 30
"""Seconds a probe may take before the upload is treated as unreadable."""

ACCEPTED_DEMUXERS = (
    "mov", "matroska", "mp3", "wav", "w64", "flac", "ogg", "aac", "avi", "mpegts", "mpeg",
    "asf", "flv", "aiff", "caf", "au", "ac3", "eac3", "dts", "amr", "wv", "ape",
)  # fmt: skip
"""The demuxers (ffmpeg's names) an upload may be read with: containers of audio and video
that never open another file. `mov` reads mp4, m4a and 3gp, `matroska` webm, `ogg` opus, `asf`
wmv and wma. Playlists (hls, dash, concat), image sequences (image2) and the like are refused.
mov could follow a data reference to another file (`dref`); ffmpeg does not unless told to,
and `input_args` says so explicitly."""

NAMING_DEMUXERS = ("hls", "applehttp", "dash", "concat", "image2", "webm_dash_manifest")
"""Demuxers that read other files a file names: refused as `unsupported_media` rather than
`not_media`, so the answer says why (any demuxer not accepted is refused either way)."""

DECODE_SLACK = (1.5, 60.0)
"""Extracted audio may run to this factor of the probed duration plus these seconds (a
container's duration is sometimes an estimate); audio running longer than that is a file whose
header lies, and the job stops rather than decode it."""


@dataclass(frozen=True)
class Probe:
    """What ffmpeg found in a file."""

    duration_s: float
    has_audio: bool
    has_video: bool
    picture: tuple[int, int] | None = None
    """The first video stream's width and height (cover art is not a video)."""
    demuxer: str = ""
    """The ffmpeg demuxer that reads it (one of ACCEPTED_DEMUXERS)."""


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
_INPUT = re.compile(r"^Input #0, (.+?), from '", re.MULTILINE)
_REFUSED = re.compile(r"^\[(\w+) @ [^\]]*\] Format not on whitelist", re.MULTILINE)
_PLAYLIST_START = (b"#EXTM3U", b"#EXTINF", b"ffconcat", b"<?xml", b"<MPD", b"[playlist]")
"""How playlists and manifests begin (after a byte order mark and blanks), whatever the
ffmpeg at hand makes of them."""


def input_args(path: str | os.PathLike, demuxer: str = "", *,
               accepted: tuple[str, ...] = ACCEPTED_DEMUXERS) -> list[str]:  # fmt: skip
    """The arguments that open `path` as an input: with `demuxer` (from a probe) forced and
    alone allowed; without one, any of `accepted`. Only the `file` protocol, and the path
    given as a `file:` URL so no part of it reads as another protocol."""
    if demuxer and demuxer not in accepted:
        raise UnsupportedMedia(f"Subcue does not read media of the kind {demuxer!r}.")
    args = ["-f", demuxer, "-format_whitelist", demuxer] if demuxer else [
        "-format_whitelist", ",".join(accepted)]  # fmt: skip
    if demuxer == "mov":
        args += ["-enable_drefs", "0"]  # ffmpeg's default; kept so on purpose
    return args + ["-protocol_whitelist", "file", "-i", f"file:{os.path.abspath(path)}"]


def demuxer_of(stderr: str) -> str:
    """The demuxer ffmpeg opened the input with (`mov` of `Input #0, mov,mp4,m4a,...`), or ''."""
    found = _INPUT.search(stderr)
    return found[1].split(",")[0].strip() if found else ""


def refused_demuxer(stderr: str) -> str:
    """The demuxer ffmpeg found but was not allowed to use (`hls`), or ''."""
    found = _REFUSED.search(stderr)
    return found[1] if found else ""


def looks_like_playlist(head: bytes) -> bool:
    """True when a file's first bytes are a playlist's or a manifest's."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_PLAYLIST_START)


def last_line(stderr: str) -> str:
    """The last line ffmpeg wrote, where it says what went wrong (without any path)."""
    return without_paths((stderr.strip().splitlines() or ["unknown error"])[-1])[:200]


def parse_probe(stderr: str) -> Probe:
    """What `ffmpeg -i` said about a file as a Probe; NotMedia (or UnsupportedMedia) if it
    is not audio or video Subcue reads, or has no audio to use."""
    demuxer = demuxer_of(stderr)
    if not demuxer:
        if (refused := refused_demuxer(stderr)) in NAMING_DEMUXERS:
            raise UnsupportedMedia(f"The file is a list of other files (ffmpeg reads it as "
                                   f"{refused!r}), not audio or video; upload the media "
                                   "itself.")  # fmt: skip
        raise NotMedia("The file is not audio or video that Subcue can read.")
    if demuxer not in ACCEPTED_DEMUXERS:  # an ffmpeg that ignored the whitelist
        raise UnsupportedMedia(f"Subcue does not read media of the kind {demuxer!r}.")
    streams = _STREAM.findall(stderr)
    has_audio = any(kind == "Audio" for kind, _ in streams)
    pictures = [rest for kind, rest in streams if kind == "Video" and "attached pic" not in rest]
    has_video = bool(pictures)
    size = _SIZE.search(pictures[0]) if pictures else None
    match = _DURATION.search(stderr)
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
                 picture=(int(size[1]), int(size[2])) if size else None,
                 demuxer=demuxer)  # fmt: skip


def probe(path: str | os.PathLike, ffmpeg: str, demuxer: str = "") -> Probe:
    """Read the container's streams and duration; NotMedia if there is no audio to use,
    UnsupportedMedia if it is a playlist or another kind that could name other files.

    `ffmpeg -i` (not ffprobe) so a pip-only install with imageio-ffmpeg's binary works too.
    `demuxer`: the one an earlier probe found (then no other is tried).
    """
    with open(path, "rb") as file:
        if looks_like_playlist(file.read(64)):
            raise UnsupportedMedia("The file is a playlist, not audio or video; upload the "
                                   "media itself.")  # fmt: skip
    try:
        result = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", *input_args(path, demuxer)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise NotMedia("The file could not be read as audio or video in time.") from exc
    return parse_probe(result.stderr)


def check_length(duration_s: float, max_minutes: int) -> None:
    """MediaTooLong if `duration_s` is over MAX_MEDIA_MINUTES."""
    if duration_s > max_minutes * 60:
        raise MediaTooLong(f"The media lasts {duration_s / 60:.1f} minutes; this server takes "
                           f"at most {max_minutes} minutes (MAX_MEDIA_MINUTES).")  # fmt: skip


def decode_limit(duration_s: float, max_minutes: int) -> float:
    """Seconds of audio extraction may yield for media that probed as `duration_s` long."""
    factor, extra = DECODE_SLACK
    return min(max_minutes * 60.0, duration_s * factor + extra)


def wav_bytes(seconds: float) -> int:
    """The most an extracted WAV of `seconds` may take on disk."""
    return WAV_HEADER_BYTES + int(seconds * WAV_BYTES_PER_S)


class ExtractError(Exception):
    """ffmpeg could not decode the audio."""


class TooMuchAudio(ExtractError):
    """The audio ran past the limit extraction was given (the WAV is removed)."""


def extract_audio(src: str | os.PathLike, dest: str | os.PathLike, ffmpeg: str, demuxer: str,
                  limit_s: float) -> None:  # fmt: skip
    """Decode the first audio stream to a 16 kHz mono 16-bit WAV file of at most `limit_s`
    seconds; TooMuchAudio if there was more.

    ffmpeg streams from file to file, so memory does not grow with the media's length. It runs
    in our process group: when the work horse is killed, ffmpeg dies with it. `-xerror` makes a
    truncated or corrupt stream fail the job clearly instead of yielding partial subtitles.
    ffmpeg stops a second past the limit (`-t`), so audio running over it shows in the WAV's
    size without decoding more than that.
    """
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-y",
        *input_args(src, demuxer),
        "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
        "-t", f"{limit_s + 1:.3f}", "-f", "wav", os.fspath(dest),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        raise ExtractError("the audio could not be decoded (the file may be truncated or "
                           f"corrupt): {last_line(result.stderr)}")  # fmt: skip
    if os.path.getsize(dest) > wav_bytes(limit_s):
        os.unlink(dest)
        raise TooMuchAudio(f"its audio runs past {limit_s / 60:.1f} minutes")
