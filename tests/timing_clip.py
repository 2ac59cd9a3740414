"""A clip made for measuring cue timing: espeak-ng sentences at known times, with music between.

Shared by the timing tests and scripts/bench/timing.py. Each sentence is spoken by espeak-ng,
trimmed to its first and last audible sample (so its true onset and end are known to the
sample), and placed after a gap drawn from GAPS_S; MUSIC_S of synthesised music (chords of
sines with a kick drum and a hi-hat on the beat) stands after the first half. A faint noise
floor runs under everything, as in any recording (and makes every stretch of the clip unique,
which is how the Gemini stand-in finds where a chunk it is sent lies in the clip).

Made once per argument set and cached (`cache` directory): nothing here is committed.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000

SENTENCES = [
    "The harbour was quiet when the first boat came in.",
    "Nobody on the pier had expected it so early.",
    "She tied the rope twice and waited for the captain.",
    "He stepped down slowly, holding a small wooden box.",
    "Inside were letters that had never been delivered.",
    "The oldest of them was dated forty years ago.",
    "Yes.",
    "They carried the box to the post office together.",
    "The clerk read the first address aloud.",
    "It was a house at the end of Willow Street.",
    "A woman opened the door before they could knock.",
    "She recognised the handwriting at once.",
    "My brother wrote these, she said.",
    "He sailed away the winter I turned nine.",
    "We never heard from him again.",
    "She read the first letter standing in the doorway.",
    "Then she asked them in for tea.",
    "The afternoon went by in stories about the sea.",
    "Really?",
    "By evening every letter had been opened.",
    "The last one held a map of a small island.",
    "The captain said he knew that island well.",
    "He promised to take her there in the spring.",
    "And so the letters finally reached their reader.",
]
"""24 sentences of a story, short and long (a one-word answer among them)."""

GAPS_S = (0.35, 2.5)
"""The silence before each sentence is drawn from this range."""

MUSIC_S = 10.0

LEAD_S = 1.0
"""Silence before the first sentence."""

NOISE = 0.002
"""The noise floor's standard deviation (full scale 1.0), about -54 dBFS."""


@dataclass(frozen=True)
class Clip:
    """The made clip: its WAV, its sentences' true times and text, and the music's span."""

    wav: Path
    sentences: list[dict]
    music: tuple[float, float]
    duration: float


def _spoken(text: str, speed: int, work: Path) -> np.ndarray:
    """espeak-ng's reading of `text` at 16 kHz, trimmed to its audible samples."""
    raw, wav = work / "raw.wav", work / "16k.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(raw), text],
                   check=True)  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ac", "1", "-ar",
                    str(RATE), "-c:a", "pcm_s16le", str(wav)], check=True)  # fmt: skip
    with wave.open(str(wav)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return samples[loud[0] : loud[-1] + 1]


def music(seconds: float, seed: int = 3) -> np.ndarray:
    """Chords of sines (with overtones) changing every bar, a kick drum on every beat and a
    hi-hat between, at 120 beats a minute."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    chords = [(220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7),
              (164.8, 207.7, 246.9)]  # fmt: skip
    out = np.zeros_like(t)
    bar = 2.0
    for k, chord in enumerate(chords * int(seconds // (bar * len(chords)) + 1)):
        part = (t >= k * bar) & (t < (k + 1) * bar)
        for f in chord:
            for h, a in ((1, 1.0), (2, 0.4), (3, 0.2)):
                out[part] += 0.06 * a * np.sin(2 * np.pi * f * h * t[part])
    beat = np.mod(t, 0.5)
    out += 0.35 * np.sin(2 * np.pi * 55 * beat) * np.exp(-beat * 18)  # kick
    off = np.mod(t + 0.25, 0.5)
    out += 0.05 * rng.normal(0, 1, t.size) * np.exp(-off * 60)  # hi-hat
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.3)
    return out * fade


def make(cache: Path, count: int = len(SENTENCES), music_s: float = MUSIC_S,
         seed: int = 25) -> Clip:  # fmt: skip
    """The clip with the first `count` sentences (music after the first half), made once into
    `cache` and read from there afterwards."""
    name = f"timing-{count}-{music_s:g}-{seed}"
    wav, meta = cache / f"{name}.wav", cache / f"{name}.json"
    if wav.exists() and meta.exists():
        found = json.loads(meta.read_text())
        return Clip(wav, found["sentences"], tuple(found["music"]), found["duration"])
    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pieces, sentences, at = [np.zeros(int(LEAD_S * RATE))], [], LEAD_S
    music_span = (0.0, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for k, text in enumerate(SENTENCES[:count]):
            if k:
                gap = float(rng.uniform(*GAPS_S))
                pieces.append(np.zeros(int(gap * RATE)))
                at += int(gap * RATE) / RATE
            if k == count // 2 and music_s:
                tune = music(music_s)
                pieces.append(tune)
                music_span = (round(at, 3), round(at + tune.size / RATE, 3))
                at += tune.size / RATE
                gap = float(rng.uniform(1.0, GAPS_S[1]))
                pieces.append(np.zeros(int(gap * RATE)))
                at += int(gap * RATE) / RATE
            voice = _spoken(text, int(rng.integers(145, 175)), Path(tmp))
            sentences.append({"start": round(at, 3), "end": round(at + voice.size / RATE, 3),
                              "text": text})  # fmt: skip
            pieces.append(voice)
            at += voice.size / RATE
    pieces.append(np.zeros(int(1.5 * RATE)))
    audio = np.concatenate(pieces)
    audio += np.random.default_rng(seed + 1).normal(0, NOISE, audio.size)
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((audio.clip(-1, 1) * 32767).astype("<i2").tobytes())
    duration = round(audio.size / RATE, 3)
    meta.write_text(json.dumps({"sentences": sentences, "music": music_span,
                                "duration": duration}))  # fmt: skip
    return Clip(wav, sentences, music_span, duration)


def onset_errors(sentences: list[dict], cues: list[dict]) -> list[float]:
    """For each sentence, the signed error (s) of the cue that starts nearest its onset among
    those overlapping it (its first cue); a sentence no cue covers counts as the distance to
    the nearest cue start."""
    errors = []
    for s in sentences:
        covering = [c for c in cues if c["start"] < s["end"] and c["end"] > s["start"] - 1.0]
        pool = covering or cues
        if not pool:
            errors.append(float("inf"))
            continue
        first = min(pool, key=lambda c: abs(c["start"] - s["start"]))
        errors.append(round(first["start"] - s["start"], 3))
    return errors


def over_music(cues: list[dict], span: tuple[float, float]) -> int:
    """Cues that stand over the music: starting inside it, or covering half of it. (A cue held
    a moment into it by the reading-speed rule, from speech before it, is not one.)"""
    a, b = span
    return sum(
        1
        for c in cues
        if a <= c["start"] < b or min(c["end"], b) - max(c["start"], a) > (b - a) / 2
    )


def measures(clip: Clip, cues: list[dict], within: float = 0.2) -> dict:
    """The timing figures of cues against the clip's truth: share of onsets within `within`
    seconds, median and worst absolute error, cues over the music."""
    errors = onset_errors(clip.sentences, cues)
    absolute = sorted(abs(e) for e in errors)
    worst = max(errors, key=abs) if errors else 0.0
    return {
        "within_200ms": round(sum(e <= within for e in absolute) / max(1, len(absolute)), 3),
        "median_error_ms": round(1000 * absolute[len(absolute) // 2]) if absolute else None,
        "worst_error_ms": round(1000 * worst) if errors else None,
        "cues_over_music": over_music(cues, clip.music),
        "cues": len(cues),
    }
