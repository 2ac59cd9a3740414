"""What Subcue says to Gemini and how it reads the answers: prompts, schemas, validation,
and what an error body means (prices: jobs/cost.py). No I/O here; jobs/engines/gemini.py makes
the calls."""

from __future__ import annotations

import json
import math

from google.genai import errors

from ..errors import JobFailed
from ..languages import name_of

MAX_SERVER_DELAY_S = 300.0
"""A 429 asking for a longer wait than this is treated as an exhausted quota."""

CONTEXT_CHARS = 600
"""How much of the previous chunk's text is sent as context (its end matters most)."""

FIELDS = ("start", "end", "source_text", "text")
_SEGMENT = {f: {"type": "NUMBER" if f in FIELDS[:2] else "STRING"} for f in FIELDS}
RESPONSE_SCHEMA = {
    "type": "OBJECT",
    "required": ["segments"],
    "properties": {
        "segments": {
            "type": "ARRAY",
            "items": {"type": "OBJECT", "properties": _SEGMENT, "required": list(FIELDS),
                      "propertyOrdering": list(FIELDS)},
        }
    },
}  # fmt: skip
"""The structured answer of API.md: segments with seconds relative to the chunk start."""

SYSTEM_INSTRUCTION = (
    "You make subtitles. You hear one clip cut from a longer recording; you transcribe its "
    "speech exactly as spoken and translate it. Times are seconds from the start of the clip. "
    "Answer only with JSON that follows the response schema."
)


def prompt(target_language: str, duration: float, context: str = "") -> str:
    """The request text (the stand-in reads `Target language: Name (code).` and the context)."""
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
        'Leave out music, noises and silence. If nobody speaks, answer {"segments": []}.',
    ]
    if context:
        lines += [
            "The clip continues the recording right after the text below. It is context only, "
            "so that a sentence cut at the start of the clip is understood; do not repeat it.",
            f"Previous chunk text: {context[-CONTEXT_CHARS:]}",
        ]
    return "\n".join(lines)


def parse_segments(text: str | None, duration: float) -> list[dict] | None:
    """Validate an answer into clean segments; None when it is unreadable (worth a retry)."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
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
            found.append({"start": start, "end": end, "source_text": source,
                          "text": item["text"].strip()})  # fmt: skip
    segments: list[dict] = []
    for segment in sorted(found, key=lambda s: (s["start"], s["end"])):
        if segments and segment["start"] < segments[-1]["end"]:
            segment["start"] = segments[-1]["end"]  # hallucinated overlap: the later one yields
        if segment["end"] > segment["start"]:
            segments.append(segment)
    return segments


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
                                     "description": {"type": "STRING"}}},
        },
    },
    "propertyOrdering": list(ANALYSIS_FIELDS),
}  # fmt: skip
"""The analyze job's answer per file: language code, summary, topics, notable moments (s)."""


def analysis_prompt(duration: float) -> str:
    """The request text for analysing one whole recording."""
    return "\n".join([
        "Analyse this recording.",
        f"It lasts {duration:.2f} seconds.",
        "language: the ISO 639-1 code of the main spoken language. summary: three to five "
        "sentences in English. topics: up to eight short topic names. moments: up to ten notable "
        f"moments, each with its time in seconds from the start (0 to {duration:.2f}) and one "
        "sentence saying what happens.",
        "If nobody speaks, say so in the summary and leave topics and moments empty.",
    ])  # fmt: skip


def parse_analysis(text: str | None, duration: float) -> dict | None:
    """Validate an analysis answer; None when it is unreadable (worth a retry)."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str):
        return None
    moments = [
        {"time": round(min(max(float(m["time"]), 0.0), duration), 3),
         "description": m["description"].strip()}
        for m in data.get("moments") or []
        if isinstance(m, dict) and isinstance(m.get("description"), str)
        and isinstance(m.get("time"), int | float) and math.isfinite(m["time"])
    ]  # fmt: skip
    return {
        "language": str(data.get("language") or "") or None,
        "summary": data["summary"].strip(),
        "topics": [t.strip() for t in data.get("topics") or [] if isinstance(t, str)],
        "moments": sorted(moments, key=lambda m: m["time"]),
    }
