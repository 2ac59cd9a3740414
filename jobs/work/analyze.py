"""The analyze job: one `analysis.json` describing every file of a session.

With the local engine: the transcript (Whisper, chunk by chunk, checkpointed like translate)
plus measured facts — duration, detected language, speech ratio from pydub's silence detection,
words per minute. With Gemini: one structured analysis per file (language, summary, topics,
notable moments with times). The cancel flag is checked before each file and each chunk.
"""

from __future__ import annotations

import asyncio
import json
import re

from ..life import record, session
from ..media import audio
from ..media.audio import detect_nonsilent
from ..storage import stores
from . import engines
from .execution import JobRun, job_run, watched
from .pipeline import Source, finish, guarded_put, plan, prepare, transcribe_all

SILENCE_THRESH_DBFS = -40
"""Quieter than this counts as silence when measuring the speech ratio."""

MIN_SILENCE_MS = 300
"""Pauses shorter than this are part of speech."""


def run(job_id: str) -> None:
    """RQ entry point: analyse every file of the job's session."""
    with job_run(job_id) as job:
        sources = [s for s in prepare(job) if s.wav is not None]  # subtitle files: no audio
        if job.params["engine"] == "gemini":
            files = asyncio.run(_gemini(job, sources))
        else:
            files = _local(job, sources)
        document = {"engine": job.params["engine"], "files": files}
        path = job.tmp / "analysis.json"
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
        size = guarded_put(job, stores.output_key(job.job_id, path.name), path)
        finish(job, [{"name": path.name, "size": size, "file_id": None}])


def _local(job: JobRun, sources: list[Source]) -> list[dict]:
    """Transcribe with Whisper, then measure."""
    pieces = plan(job, sources)
    results = asyncio.run(transcribe_all(job, pieces))
    files = []
    for index, source in enumerate(sources):
        job.check()
        mine = [p for p in pieces if p.file_index == index]
        texts = [s["text"] for p in mine for s in results[p.number]["segments"]]
        languages = [results[p.number].get("language") for p in mine]
        transcript = " ".join(t.strip() for t in texts if t.strip())
        speech_ms = sum(_speech_ms(source, p.chunk) for p in mine)
        words = len(re.findall(r"\w+", transcript))
        files.append({
            "name": source.name,
            "language": next((lang for lang in languages if lang), None),
            "duration_s": round(source.duration, 3),
            "summary": _first_sentences(transcript),
            "transcript": transcript,
            "speech_ratio": round(speech_ms / 1000 / source.duration, 3) if source.duration else 0,
            "words_per_minute": round(words / (source.duration / 60), 1) if source.duration else 0,
        })  # fmt: skip
    return files


async def _gemini(job: JobRun, sources: list[Source]) -> list[dict]:
    """One structured analysis per file from Gemini."""
    engine = engines.load(job.config, "gemini")
    done = record.checkpoints(job.conn, job.job_id)  # a retry pays only for files not done
    job.set_total(len(sources), len(done))
    files = []
    glossary = session.glossary(job.conn, job.record["session_id"])
    try:
        for index, source in enumerate(sources):
            if index not in done:
                job.check()  # before every paid call
                found = await watched(job, engine.analyze(
                    source.wav, duration=source.duration, calls=job,
                    glossary=glossary))  # fmt: skip
                done[index] = {"name": source.name, "duration_s": round(source.duration, 3),
                               **found}  # fmt: skip
                job.chunk_done(index, done[index], len(sources))
            files.append(done[index])
    finally:
        await engine.aclose()
    return files


def _speech_ms(source: Source, chunk: audio.Chunk) -> int:
    """Milliseconds of the chunk louder than the silence threshold."""
    segment = audio.read_chunk(source.wav, chunk)
    spans = detect_nonsilent(
        segment, min_silence_len=MIN_SILENCE_MS, silence_thresh=SILENCE_THRESH_DBFS
    )
    return sum(end - start for start, end in spans)


def _first_sentences(text: str, limit: int = 240) -> str:
    """An extractive summary: the opening sentences, up to `limit` characters."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    summary = ""
    for sentence in sentences:
        if len(summary) + len(sentence) > limit:
            break
        summary = f"{summary} {sentence}".strip()
    return summary or text[:limit]
