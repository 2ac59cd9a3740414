"""Segments: cleaning up what an engine returned, and writing SRT, WebVTT and JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import srt
import webvtt
from webvtt.models import Timestamp

MIN_SEGMENT_S = 0.05
"""A segment shorter than this after clamping carries nothing a viewer could read."""


@dataclass(frozen=True)
class Segment:
    """One subtitle: absolute seconds, the words heard, and their text in the target language."""

    start: float
    end: float
    source_text: str
    text: str


def place(raw: list[dict], offset: float, chunk_duration: float, media_duration: float,
          not_before: float) -> list[Segment]:  # fmt: skip
    """Make an engine's chunk-relative segments absolute, clamped, ordered and non-overlapping.

    Times are clamped to the chunk and to the media; segments are sorted by start, each starts
    no earlier than the previous one ends, and empty or zero-length ones are dropped.
    """
    cleaned = []
    for item in raw:
        try:
            start, end = float(item["start"]), float(item["end"])
        except (KeyError, TypeError, ValueError):
            continue
        text = str(item.get("text") or "").strip()
        source = str(item.get("source_text") or "").strip()
        if not text and not source:
            continue
        start = min(max(start, 0.0), chunk_duration)
        end = min(max(end, start), chunk_duration)
        cleaned.append((start, end, source, text or source))
    cleaned.sort(key=lambda s: (s[0], s[1]))
    placed: list[Segment] = []
    floor = not_before
    for start, end, source, text in cleaned:
        start = min(max(offset + start, floor), media_duration)
        end = min(max(offset + end, start), media_duration)
        if end - start < MIN_SEGMENT_S:
            continue
        placed.append(Segment(round(start, 3), round(end, 3), source, text))
        floor = end
    return placed


def write_outputs(directory: Path, stem: str, language: str, duration: float,
                  segments: list[Segment]) -> list[Path]:  # fmt: skip
    """Write `<stem>.srt`, `<stem>.vtt` and `<stem>.json`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    srt_path, vtt_path, json_path = (
        directory / f"{stem}{ext}" for ext in (".srt", ".vtt", ".json")
    )
    subs = [
        srt.Subtitle(i, timedelta(seconds=s.start), timedelta(seconds=s.end), s.text)
        for i, s in enumerate(segments, start=1)
    ]
    srt_path.write_text(srt.compose(subs), encoding="utf-8")
    vtt = webvtt.WebVTT()
    for s in segments:
        caption = webvtt.Caption(text=s.text)
        caption.start_time = Timestamp.from_seconds(s.start)
        caption.end_time = Timestamp.from_seconds(s.end)
        vtt.captions.append(caption)
    vtt.save(os.fspath(vtt_path))
    document = {
        "language": language,
        "duration_s": round(duration, 3),
        "segments": [asdict(s) for s in segments],
    }
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return [srt_path, vtt_path, json_path]
