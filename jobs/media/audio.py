"""Cutting extracted audio into chunks at quiet points, reading only a window at a time.

pydub measures loudness; the WAV file is read with `wave` in windows, so a two-hour input needs
no more memory than a two-minute one.
"""

from __future__ import annotations

import io
import os
import warnings
import wave
from dataclasses import dataclass

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH when imported, and warns when there is none. Subcue finds
    # its own (FFMPEG_BINARY, PATH, or imageio-ffmpeg's copy) and hands it over in use_ffmpeg(),
    # so that warning would only mislead. Every module gets pydub from here.
    warnings.filterwarnings("ignore", "Couldn't find ffmpeg", RuntimeWarning)
    from pydub import AudioSegment
    from pydub.silence import detect_nonsilent

__all__ = ["AudioSegment", "detect_nonsilent"]

SEARCH_FRACTION = 0.2
"""A cut may move this fraction of CHUNK_SECONDS earlier to find a quiet point. Only earlier:
a chunk never exceeds CHUNK_SECONDS, because Whisper works in 30 s windows and a 31 s chunk
would cost two of them."""

MAX_SEARCH_S = 5.0
"""...but never more than this many seconds."""

PROBE_MS = 200
"""Loudness is measured over windows this long..."""

STEP_MS = 20
"""...slid in steps this long."""


@dataclass(frozen=True)
class Chunk:
    """A stretch of one file's audio: seconds from the start of that file."""

    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def use_ffmpeg(binary: str) -> None:
    """Point pydub at the ffmpeg Subcue uses (it only needs one for formats other than WAV)."""
    AudioSegment.converter = binary


def duration_of(wav_path: str | os.PathLike) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(os.fspath(wav_path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _read(w: wave.Wave_read, start_s: float, end_s: float) -> AudioSegment:
    """Read [start_s, end_s) of an open WAV as a pydub segment."""
    rate = w.getframerate()
    first = max(0, int(start_s * rate))
    w.setpos(min(first, w.getnframes()))
    frames = w.readframes(max(0, int(end_s * rate) - first))
    return AudioSegment(
        data=frames, sample_width=w.getsampwidth(), frame_rate=rate, channels=w.getnchannels()
    )


def quietest_point(segment: AudioSegment) -> float:
    """Seconds into `segment` at the centre of its quietest window (ties: the latest)."""
    length = len(segment)
    if length <= PROBE_MS:
        return length / 2000
    best = None
    for at in range(0, length - PROBE_MS + 1, STEP_MS):
        key = (segment[at : at + PROBE_MS].rms, -at)
        if best is None or key < best[0]:
            best = (key, at + PROBE_MS / 2)
    return best[1] / 1000


def plan_chunks(wav_path: str | os.PathLike, chunk_seconds: float) -> list[Chunk]:
    """Cut points about every `chunk_seconds`, each moved to the quietest moment just before."""
    total = duration_of(wav_path)
    search = min(MAX_SEARCH_S, chunk_seconds * SEARCH_FRACTION)
    chunks: list[Chunk] = []
    start = 0.0
    with wave.open(os.fspath(wav_path), "rb") as w:
        while total - start > chunk_seconds:
            target = start + chunk_seconds
            window = _read(w, target - search, target)
            cut = target - search + quietest_point(window)
            chunks.append(Chunk(len(chunks), round(start, 3), round(cut, 3)))
            start = cut
    if total - start > 0.05 or not chunks:
        chunks.append(Chunk(len(chunks), round(start, 3), round(total, 3)))
    return chunks


def read_chunk(wav_path: str | os.PathLike, chunk: Chunk) -> AudioSegment:
    """The chunk's audio."""
    with wave.open(os.fspath(wav_path), "rb") as w:
        return _read(w, chunk.start, chunk.end)


def to_wav_bytes(segment: AudioSegment) -> bytes:
    """Encode a segment as a WAV file in memory (pydub writes WAV without ffmpeg)."""
    buffer = io.BytesIO()
    segment.export(buffer, format="wav")
    return buffer.getvalue()
