"""What Subcue says to Gemini about audio and how it reads the answers: prompts, schemas,
validation, and what an error body means (prices: jobs/spend/pricing.py; the text translation
of cues, shared with the LLM: cue_text.py). No I/O here; jobs/work/engines/gemini.py makes the
calls."""

from __future__ import annotations

import math

from google.genai import errors

from ...errors import JobFailed
from ...life.session import glossary_lines
from ...subtitles.languages import name_of
from ...subtitles.speakers import clean_name
from .cue_text import read_json

MAX_SERVER_DELAY_S = 300.0
"""A 429 asking for a longer wait than this is treated as an exhausted quota."""

CONTEXT_CHARS = 600
"""How much of the previous chunk's text is sent as context (its end matters most)."""

FIELDS = ("start", "end", "source_text", "text")
_ORDER = ("start", "end", "speaker", "source_text", "text")
_SEGMENT = {f: {"type": "NUMBER" if f in FIELDS[:2] else "STRING"} for f in _ORDER}
RESPONSE_SCHEMA = {
    "type": "OBJECT",
    "required": ["segments"],
    "properties": {
        "segments": {
            "type": "ARRAY",
            "items": {"type": "OBJECT", "properties": _SEGMENT, "required": list(FIELDS),
                      "propertyOrdering": list(_ORDER)},
        }
    },
}  # fmt: skip
"""The structured answer of API.md: segments with seconds relative to the chunk start, each
with who speaks it (`speaker`, optional: an answer without speakers is still valid)."""

SPEAKERS_LINE = (
    "speaker: who says the segment. Use S1, S2, S3… for the people in order of first speech, "
    "or a person's name when the speech itself says it (someone is addressed or introduces "
    "themselves). A segment holds one speaker's words only: when someone else starts "
    "talking, start a new segment."
)

SYSTEM_INSTRUCTION = (
    "You make subtitles. You hear one clip cut from a longer recording; you transcribe its "
    "speech exactly as spoken and translate it. Times are seconds from the start of the clip. "
    "Answer only with JSON that follows the response schema."
)


def prompt(target_language: str, duration: float, context: str = "",
           glossary: list[dict] | None = None, speakers: list[str] = ()) -> str:  # fmt: skip
    """The request text (the stand-in reads `Target language: Name (code).` and the context);
    `speakers`: what to say of the previous chunk's speakers (speakers.prompt_lines)."""
    name = name_of(target_language)
    lines = [
        "Transcribe the speech in this audio clip and translate it.",
        f"Target language: {name} ({target_language}).",
        f"The clip lasts {duration:.2f} seconds. Give one segment per sentence, or per clause "
        f"of a long sentence: at most two short sentences and at most 7 seconds each, in order "
        f"and not overlapping, with start and end in seconds from the start of the clip, between "
        f"0 and {duration:.2f}, where the words are actually spoken.",
        f"source_text: the words as spoken, in their own language. text: the same words in "
        f"{name}; if they are already in {name}, repeat them.",
        SPEAKERS_LINE,
        'Leave out music, noises and silence. If nobody speaks, answer {"segments": []}.',
        *speakers,
    ]
    if context:
        lines += [
            "The clip continues the recording right after the text below. It is context only, "
            "so that a sentence cut at the start of the clip is understood; do not repeat it.",
            f"Previous chunk text: {context[-CONTEXT_CHARS:]}",
        ]
    return "\n".join(lines + glossary_lines(glossary or []))


def parse_segments(text: str | None, duration: float) -> list[dict] | None:
    """Validate an answer into clean segments; None when it is unreadable (worth a retry)."""
    data = read_json(text)
    items = data.get("segments") if isinstance(data, dict) else None
    usable = [item for item in items if _well_formed(item)] if isinstance(items, list) else []
    if items is None or not isinstance(items, list) or (items and not usable):
        return None
    found = []
    for item in usable:
        start, end = (min(max(float(item[k]), 0.0), duration) for k in ("start", "end"))
        source = item.get("source_text")
        source = source.strip() if isinstance(source, str) else ""
        if end > start and item["text"].strip():
            segment = {"start": start, "end": end, "source_text": source,
                       "text": item["text"].strip()}  # fmt: skip
            if who := clean_name(item.get("speaker")):  # a model's words: cleaned, never trusted
                segment["speaker"] = who
            found.append(segment)
    segments: list[dict] = []
    for segment in sorted(found, key=lambda s: (s["start"], s["end"])):
        if segments and segment["start"] < segments[-1]["end"]:
            segment["start"] = segments[-1]["end"]  # hallucinated overlap: the later one yields
        if segment["end"] > segment["start"]:
            segments.append(segment)
    return segments


def answered_count(text: str | None) -> int:
    """How many segments an answer held before validation (0 when unreadable)."""
    data = read_json(text)
    items = data.get("segments") if isinstance(data, dict) else None
    return len(items) if isinstance(items, list) else 0


def _well_formed(item) -> bool:
    """A segment with finite numeric times and a text string (source_text may be missing)."""
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return False
    times = (item.get("start"), item.get("end"))
    numbers = all(isinstance(t, int | float) and not isinstance(t, bool) for t in times)
    return numbers and all(math.isfinite(t) for t in times)


def _details(exc: errors.APIError) -> list[dict]:
    """The google.rpc detail objects of an API error body."""
    body = exc.details if isinstance(exc.details, dict) else {}
    return [d for d in (body.get("error") or {}).get("details") or [] if isinstance(d, dict)]


def retry_delay(exc: errors.APIError) -> float | None:
    """The wait in seconds a 429 asks for (google.rpc.RetryInfo, e.g. "1.5s"), if any."""
    for item in _details(exc):
        if str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            try:
                return float(str(item.get("retryDelay", "")).rstrip("s"))
            except ValueError:
                return None
    return None


def quota_failure(exc: errors.APIError, delay: float | None, model: str) -> JobFailed | None:
    """The job's error when a 429 means the quota is gone (daily/billing), not just busy."""
    quota_ids = [str(v.get("quotaId", "")) for d in _details(exc)
                 for v in d.get("violations") or [] if isinstance(v, dict)]  # fmt: skip
    if any("PerDay" in q for q in quota_ids) or (
        delay is None and "exceeded your current quota" in (exc.message or "").lower()
    ):
        return JobFailed(f"The Gemini API quota for {model} is used up (a daily or billing "
                         "limit); retry the job tomorrow, or raise the quota or enable billing "
                         "in Google AI Studio.", code="quota_exhausted")  # fmt: skip
    if delay is not None and delay > MAX_SERVER_DELAY_S:
        return JobFailed(f"The Gemini API quota is used up for now (it asks to wait {delay:.0f} "
                         "s); retry the job later.", code="quota_exhausted")  # fmt: skip
    return None


ANALYSIS_FIELDS = ("language", "summary", "topics", "moments")
ANALYSIS_SCHEMA = {
    "type": "OBJECT",
    "required": list(ANALYSIS_FIELDS),
    "properties": {
        "language": {"type": "STRING"},
        "summary": {"type": "STRING"},
        "topics": {"type": "ARRAY", "items": {"type": "STRING"}},
        "moments": {
            "type": "ARRAY",
            "items": {"type": "OBJECT", "required": ["time", "description"],
                      "properties": {"time": {"type": "NUMBER"},
                                     "description": {"type": "STRING"},
                                     "speakers": {"type": "ARRAY", "items": {"type": "STRING"}}}},
        },
        "speakers": {
            "type": "ARRAY",
            "items": {"type": "OBJECT", "required": ["speaker", "seconds"],
                      "properties": {"speaker": {"type": "STRING"},
                                     "seconds": {"type": "NUMBER"}}},
        },
    },
    "propertyOrdering": [*ANALYSIS_FIELDS, "speakers"],
}  # fmt: skip
"""The analyze job's answer per file: language code, summary, topics, notable moments (s) and
who speaks in each, and each speaker's speaking time (`speakers`, optional)."""

MAX_SPEAKERS = 20
"""Speakers an analysis keeps at most (the most talkative)."""


def analysis_prompt(duration: float, glossary: list[dict] | None = None) -> str:
    """The request text for analysing one whole recording."""
    return "\n".join([
        "Analyse this recording.",
        f"It lasts {duration:.2f} seconds.",
        "language: the ISO 639-1 code of the main spoken language. summary: three to five "
        "sentences in English. topics: up to eight short topic names. moments: up to ten notable "
        f"moments, each with its time in seconds from the start (0 to {duration:.2f}), one "
        "sentence saying what happens, and who speaks in it.",
        "speakers: each person who speaks, by name when the recording says it, else S1, S2… in "
        "order of first speech (the same labels as in moments), with the seconds they speak in "
        "all.",
        "If nobody speaks, say so in the summary and leave topics and moments empty.",
        *glossary_lines(glossary or []),
    ])  # fmt: skip


def parse_analysis(text: str | None, duration: float) -> dict | None:
    """Validate an analysis answer; None when it is unreadable (worth a retry)."""
    data = read_json(text)
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str):
        return None
    moments = [
        {"time": round(min(max(float(m["time"]), 0.0), duration), 3),
         "description": m["description"].strip()}
        | ({"speakers": who} if (who := _names(m.get("speakers"))) else {})
        for m in data.get("moments") or []
        if isinstance(m, dict) and isinstance(m.get("description"), str)
        and isinstance(m.get("time"), int | float) and math.isfinite(m["time"])
    ]  # fmt: skip
    return {
        "language": str(data.get("language") or "") or None,
        "summary": data["summary"].strip(),
        "topics": [t.strip() for t in data.get("topics") or [] if isinstance(t, str)],
        "moments": sorted(moments, key=lambda m: m["time"]),
        "speakers": _speaking(data.get("speakers"), duration),
    }


def _names(raw) -> list[str]:
    """Speaker names of a moment, cleaned, each once (none when the answer gave none)."""
    found = [clean_name(n) for n in raw] if isinstance(raw, list) else []
    return list(dict.fromkeys(n for n in found if n))[:MAX_SPEAKERS]


def _speaking(raw, duration: float) -> list[dict]:
    """Each speaker's speaking time (clamped to the recording) and share of all speech, the
    most talkative first; one entry per name (times of a name given twice are added)."""
    seconds: dict[str, float] = {}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        name, said = clean_name(item.get("speaker")), item.get("seconds")
        if name and isinstance(said, int | float) and math.isfinite(said):
            seconds[name] = seconds.get(name, 0.0) + min(max(float(said), 0.0), duration)
    total = sum(seconds.values())
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:MAX_SPEAKERS]
    return [{"speaker": name, "seconds": round(t, 3),
             "share": round(t / total, 3) if total else 0.0} for name, t in ranked]  # fmt: skip
