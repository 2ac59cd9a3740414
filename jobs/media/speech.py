"""Speech detection: where in a file people speak, from the Silero VAD that faster-whisper ships.

The model (an ONNX file inside the faster_whisper package, run by onnxruntime on the worker's
CPU) gives a speech probability for every 32 ms of 16 kHz audio. The extracted WAV is read in
windows of WINDOW_S, so a two-hour file needs no more memory than a two-minute one; only the
probabilities (31 floats a second) are kept for the whole file, and `regions` turns them into
speech regions with the same thresholds faster-whisper uses, but with the tight edges a cue's
timing needs (faster-whisper pads each region by 400 ms, which is right for cutting audio out
and wrong for placing a cue on its first syllable).

Nothing here imports faster-whisper until a file is measured: the web app never does.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass

import numpy as np

RATE = 16000
"""Silero takes 16 kHz mono, the rate the pipeline extracts."""

FRAME = 512
"""Samples per probability (32 ms at 16 kHz): the model's fixed window."""

FRAME_S = FRAME / RATE

WINDOW_S = 10.0
"""Audio read and scored at once; the model's state starts afresh at each window, after a
warm-up of CONTEXT_S of the audio before it, so a window border costs nothing. (Measured on
2 hours of audio: onnxruntime's peak memory grew by 5 MiB with 10 s windows, by 20 MiB with
30 s and by 31 MiB with 60 s ones.)"""

CONTEXT_S = 1.024

THRESHOLD, NEG_THRESHOLD = 0.5, 0.35
"""Speech starts where the probability reaches THRESHOLD and ends where it falls below
NEG_THRESHOLD (faster-whisper's defaults: 0.5 and 0.5 - 0.15)."""

MIN_SILENCE_S = 0.2
"""A pause shorter than this does not end a region (words within a phrase stay together)."""

MIN_SPEECH_S = 0.15
"""A region shorter than this is a click or a breath, not speech."""


@dataclass(frozen=True)
class Region:
    """Speech from `start` to `end`, in seconds from the start of the file."""

    start: float
    end: float


def probabilities(wav_path: str | os.PathLike, start_s: float = 0.0,
                  end_s: float | None = None) -> np.ndarray:  # fmt: skip
    """Speech probability for every FRAME of a 16 kHz mono 16-bit WAV (from `start_s` to
    `end_s`), read and scored WINDOW_S at a time."""
    from faster_whisper.vad import get_vad_model  # heavy: only where audio is measured

    model = get_vad_model()
    found = []
    with wave.open(os.fspath(wav_path), "rb") as w:
        if w.getframerate() != RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError("speech detection needs 16 kHz mono 16-bit audio")
        total = w.getnframes()
        first = max(0, int(start_s * RATE))
        last = total if end_s is None else min(total, int(end_s * RATE))
        # whole frames, or each window's scores would stand a fraction of a frame off the last
        window, context = int(WINDOW_S * RATE) // FRAME * FRAME, int(CONTEXT_S * RATE)
        at = first
        while at < last:
            warm = min(context, at) // FRAME * FRAME  # the model's state warms up on these
            w.setpos(at - warm)
            raw = w.readframes(warm + min(window, last - at))
            samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
            padded = np.pad(samples, (0, (-samples.size) % FRAME))
            scores = model(padded).reshape(-1)
            found.append(scores[warm // FRAME : (warm + min(window, last - at) + FRAME - 1)
                                // FRAME])  # fmt: skip
            at += window
    return np.concatenate(found) if found else np.zeros(0, dtype=np.float32)


def regions_from(scores: np.ndarray, offset_s: float = 0.0) -> list[Region]:
    """Speech regions from per-frame probabilities (hysteresis: on at THRESHOLD, off below
    NEG_THRESHOLD; pauses under MIN_SILENCE_S bridged, regions under MIN_SPEECH_S dropped).

    Pure: the maths `detect` applies to a file's scores."""
    spans: list[list[int]] = []
    speaking = False
    for i, p in enumerate(np.asarray(scores, dtype=np.float32).tolist()):
        if not speaking and p >= THRESHOLD:
            speaking = True
            if spans and i - spans[-1][1] < MIN_SILENCE_S / FRAME_S:
                continue  # a short pause: the region goes on
            spans.append([i, i + 1])
        elif speaking and p < NEG_THRESHOLD:
            speaking = False
        if speaking:
            spans[-1][1] = i + 1
    return [Region(round(offset_s + a * FRAME_S, 3), round(offset_s + b * FRAME_S, 3))
            for a, b in spans if (b - a) * FRAME_S >= MIN_SPEECH_S]  # fmt: skip


def detect(wav_path: str | os.PathLike, start_s: float = 0.0,
           end_s: float | None = None) -> list[Region]:  # fmt: skip
    """The speech regions of a WAV file (or of `start_s`..`end_s` of it), in file seconds."""
    return regions_from(probabilities(wav_path, start_s, end_s), offset_s=max(0.0, start_s))


def within(regions: list[Region], start: float, end: float) -> list[Region]:
    """The regions overlapping `start`..`end`."""
    return [r for r in regions if r.end > start and r.start < end]
