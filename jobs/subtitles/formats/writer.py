"""Subtitles: engine results placed on the media's timeline, shaped into cues by the job's style
(jobs/subtitles/shaping.py), and written as SRT, WebVTT and JSON with well-kept libraries.

Speakers: the JSON's segments carry `speaker` (and `speakers` for a cue two people share), the
WebVTT wraps each speaker's lines in a voice span (`<v Anna>`), an `.ass` (pysubs2) names each
event's speaker, and SRT stays plain text (the dashes are in the lines). With `names` (the
job's `speaker_names`), SRT and WebVTT lines start with the speaker's name, "ANNA: ", as
subtitles for the deaf and hard of hearing do."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

# SRT and WebVTT are written with `srt` and `webvtt-py`, not pysubs2 (which reads every input
# and writes the `.ass`): pysubs2 holds a cue's text in ASS form, so writing SRT or WebVTT it
# drops a literal `{...}` as an override tag and turns a literal `\N` into a line break (ASS
# has no escape for either), and its WebVTT numbers the cues and leaves `&`, `<` and `>` as
# they are, where a voice span (`<v Anna>`) must be markup and the text must not.
# tests/unit/test_writer.py shows it, and fails once pysubs2 keeps such text (then both
# libraries can go).
import srt
import webvtt
from webvtt.models import Timestamp

from .. import quality_report, shaping
from ..breaks import WORDLIKE
from ..cues import Cue, Word
from ..styles import DASH, Style
from .ass import document as ass_document


def place(raw: list[dict], offset: float, chunk_duration: float,
          media_duration: float) -> list[dict]:  # fmt: skip
    """Make an engine's chunk-relative segments (and their words) absolute.

    Times are clamped to the chunk and to the media; segments without text are dropped. Order
    and overlaps are left to the shaper, which sees the whole file at once.
    """
    placed = []

    def absolute(t) -> float:
        return min(offset + min(max(float(t), 0.0), chunk_duration), media_duration)

    for item in raw:
        try:
            start, end = absolute(item["start"]), absolute(item["end"])
        except (KeyError, TypeError, ValueError):
            continue
        text = str(item.get("text") or "").strip()
        source = str(item.get("source_text") or "").strip()
        if not WORDLIKE.search(text) and not WORDLIKE.search(source):
            continue  # nothing to read: empty, or punctuation a model heard in the silence
        words = []
        for w in item.get("words") or ():
            try:
                words.append(Word(absolute(w["start"]), absolute(w["end"]), str(w["text"]),
                                  w.get("probability")))  # fmt: skip
            except (KeyError, TypeError, ValueError):
                continue
        placed.append({"start": start, "end": max(start, end), "source_text": source,
                       "text": text or source, "words": words}
                      | ({"speaker": item["speaker"]} if item.get("speaker") else {}))  # fmt: skip
    return placed


def shape(placed: list[dict], style: Style, language: str, media_duration: float) -> list[Cue]:
    """Cues for one file: from word timings when the engine gave them, else from segments."""
    if placed and all(segment["words"] for segment in placed):
        words = [w for segment in placed for w in segment["words"]]
        return shaping.shape_words(words, style, language, media_duration)
    return shaping.shape_segments(placed, style, language, media_duration)


def bilingual(shaped: list[Cue], style: Style, source_language: str) -> list[Cue]:
    """Each cue's source line(s) above its translation, each wrapped to the style."""
    return [Cue(c.start, c.end,
                (*(shaping.wrap(c.source_text, style, source_language) or ()), *c.lines),
                c.source_text, speakers=c.speakers if len(c.speakers) == 1 else ())
            for c in shaped]  # fmt: skip


def write_outputs(directory: Path, stem: str, language: str, duration: float,
                  shaped: list[Cue], style: Style, unsure: set[int] = frozenset(),
                  names: bool = False, ass: bool | None = None,
                  speech: list | None = None) -> tuple[list[Path], dict]:  # fmt: skip
    """Write `<stem>.srt`, `<stem>.vtt` and `<stem>.json` (and `<stem>.ass` when `ass`, by
    default when the cues have speakers, before the JSON); return their paths and the quality
    report (which the JSON carries too). `unsure`: the cues the engine doubted; `names`: the
    speakers' names before their lines; `speech`: the media's speech regions, kept in the JSON
    for the editor. A `-->` in a cue's text (a model may write one)
    becomes `->`: it would read as a timing line in SRT, and WebVTT forbids it."""
    directory.mkdir(parents=True, exist_ok=True)
    shaped = [_without_arrow(c) for c in shaped]
    srt_path, vtt_path, ass_path, json_path = (
        directory / f"{stem}{ext}" for ext in (".srt", ".vtt", ".ass", ".json")
    )
    subs = [
        srt.Subtitle(i, timedelta(seconds=c.start), timedelta(seconds=c.end),
                     "\n".join(named_lines(c) if names else c.lines))
        for i, c in enumerate(shaped, start=1)
    ]  # fmt: skip
    srt_path.write_text(srt.compose(subs), encoding="utf-8")
    vtt = webvtt.WebVTT()
    for c in shaped:
        caption = webvtt.Caption(text=vtt_text(c, names))
        caption.start_time = Timestamp.from_seconds(c.start)
        caption.end_time = Timestamp.from_seconds(c.end)
        vtt.captions.append(caption)
    vtt.save(os.fspath(vtt_path))
    paths = [srt_path, vtt_path]
    if any(c.speakers for c in shaped) if ass is None else ass:
        ass_document(shaped, style, language, *ASS_PICTURE).save(os.fspath(ass_path))
        paths.append(ass_path)
    report = quality_report.check(shaped, style, language, duration)
    json_path = write_json(json_path, language, duration, style, shaped, report, unsure, speech)
    return [*paths, json_path], report


ASS_PICTURE = (1920, 1080)
"""The picture an `.ass` output is laid out for (players scale it to theirs)."""


def named_lines(cue: Cue) -> tuple[str, ...]:
    """A cue's lines with its speakers' names, "ANNA: ", where each one starts speaking (after
    the dash of a cue two people share)."""
    if not cue.speakers:
        return cue.lines
    found, before = [], None
    for line, who in zip(cue.lines, cue.line_speakers(), strict=True):
        if who != before:
            dash = DASH if line.startswith(DASH) and len(cue.speakers) > 1 else ""
            line = f"{dash}{who.upper()}: {line.removeprefix(dash)}"
        found.append(line)
        before = who
    return tuple(found)


def _escaped(text: str) -> str:
    """Text as WebVTT cue text: &, < and > are markup there and must be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cue: Cue, names: bool = False) -> str:
    """A cue as WebVTT cue text: each speaker's lines in a voice span (`<v Anna>`), the text
    escaped (an `<` in a cue is text, not a tag)."""
    lines = named_lines(cue) if names else cue.lines
    if not cue.speakers:
        return "\n".join(_escaped(line) for line in lines)
    found, before = [], None
    for line, who in zip(lines, cue.line_speakers(), strict=True):
        text = _escaped(line)
        if who != before:  # a new voice: close the last one's span, open this one's
            if found:
                found[-1] += "</v>"
            text = f"<v {_escaped(who)}>{text}"
        found.append(text)
        before = who
    return "\n".join(found) + "</v>"


def write_json(path: Path, language: str, duration: float, style: Style, shaped: list[Cue],
               report: dict, unsure: set[int] = frozenset(),
               speech: list | None = None) -> Path:  # fmt: skip
    """The JSON output: the cues with their source text (and words; `"unsure": true` on a cue
    the engine doubted), the quality report, and `speech`, the media's speech regions as
    `[start, end]` seconds, when the job detected them (the editor snaps cues to them)."""
    document = {
        "language": language,
        "duration_s": round(duration, 3),
        "style": style.name,
        "segments": [_segment(c) | ({"unsure": True} if n in unsure else {})
                     for n, c in enumerate(shaped)],
        "quality": report,
    } | ({"speech": speech_pairs(speech)} if speech is not None else {})  # fmt: skip
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def speech_pairs(regions: list) -> list[list[float]]:
    """Speech regions (objects with start and end, or pairs) as `[start, end]` seconds rounded
    to the millisecond, in order."""
    pairs = [(r.start, r.end) if hasattr(r, "start") else tuple(r) for r in regions]
    return [[round(float(a), 3), round(float(b), 3)] for a, b in sorted(pairs)]


TIMING_ARROW = "-->"
"""What separates a cue's times in SRT and WebVTT; never written inside a cue's text."""


def _without_arrow(cue: Cue) -> Cue:
    """The cue with every `-->` in its lines and source text written `->`."""
    if TIMING_ARROW not in cue.text and TIMING_ARROW not in cue.source_text:
        return cue
    return replace(cue, lines=tuple(line.replace(TIMING_ARROW, "->") for line in cue.lines),
                   source_text=cue.source_text.replace(TIMING_ARROW, "->"))  # fmt: skip


def _segment(cue: Cue) -> dict:
    """A cue as the JSON output shows it; its words (with times) where the engine gave them."""
    segment = {"start": cue.start, "end": cue.end, "source_text": cue.source_text,
               "text": cue.text}  # fmt: skip
    if cue.speakers:
        segment["speaker"] = cue.speaker
    if len(cue.speakers) > 1:
        segment["speakers"] = list(cue.speakers)
    if cue.words:
        segment["words"] = [
            {"start": w.start, "end": w.end, "text": w.text.strip(), "probability": w.probability}
            for w in cue.words
        ]
    return segment
