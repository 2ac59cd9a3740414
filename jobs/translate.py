"""The translate job: every file of a session becomes `<stem>.srt`, `.vtt` and `.json`, its
cues shaped by the job's style."""

from __future__ import annotations

import asyncio
import logging

from . import cues, engines, storage
from .lifecycle import JobRun, job_run, watched
from .pipeline import Piece, Source, finish, guarded_put, plan, prepare, transcribe_all
from .subtitles import place, shape, write_outputs

log = logging.getLogger("subcue.job")


def run(job_id: str) -> None:
    """RQ entry point: translate (or transcribe) every file of the job's session."""
    with job_run(job_id) as job:
        sources = prepare(job)
        pieces = plan(job, sources)
        results = asyncio.run(transcribe_all(job, pieces))
        warnings = asyncio.run(watched(job, language_warnings(job, sources, pieces, results)))
        outputs, quality = write_all(job, sources, pieces, results)
        finish(job, outputs, quality=quality, warnings=warnings)


NOT_ENGLISH = (
    "This audio does not sound like English; the local engine only understands English, so "
    "these subtitles are likely wrong or empty. Use the Gemini engine for other languages."
)


async def language_warnings(job: JobRun, sources: list[Source], pieces: list[Piece],
                            results: dict[int, dict]) -> list[dict]:  # fmt: skip
    """A warning for each file whose speech the engine could not have understood (the local
    engine's packaged model hears only English). The job still finishes: noise is not foreign
    speech, and a person can judge the subtitles."""
    warnings = []
    for file_index, source in enumerate(sources):
        mine = [p for p in pieces if p.file_index == file_index]
        sounded = [(p, results[p.number]["speech"]) for p in mine
                   if any((results[p.number].get("speech") or {}).get(k)
                          for k in ("seconds", "loud_s"))]  # fmt: skip
        if not sounded:
            continue  # the engine reports nothing of the kind, or the file is silent
        job.check()
        engine = engines.load(job.config, job.params["engine"])
        signals, first = [s for _, s in sounded], sounded[0][0].chunk.start
        if await engine.heard_foreign(source.wav, signals, first):
            warnings.append({"code": "not_english", "file_id": source.file_id,
                             "message": f"{source.name}: {NOT_ENGLISH}"})  # fmt: skip
            log.warning("job=%s event=not_english file=%s", job.job_id, source.file_id)
    return warnings


def write_all(job: JobRun, sources: list[Source], pieces: list[Piece],
              results: dict[int, dict]) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Shape each file's segments into cues and store its three output files.

    Returns the outputs and a quality report per file (how many cues break which rule).
    """
    job.check()
    language = job.params["target_language"]
    style = cues.STYLES[job.params.get("style") or cues.DEFAULT_STYLE]
    outputs, quality = [], []
    for file_index, source in enumerate(sources):
        mine = [results[p.number] | {"chunk": p.chunk} for p in pieces
                if p.file_index == file_index]  # fmt: skip
        placed = [segment for r in mine for segment in place(
            r["segments"], r["chunk"].start, r["chunk"].duration, source.duration)]  # fmt: skip
        shaped = shape(placed, style, language, source.duration)
        written, report = write_outputs(job.tmp / "out", source.stem, language, source.duration,
                                        shaped, style)  # fmt: skip
        for path in written:
            size = guarded_put(job, storage.output_key(job.job_id, path.name), path)
            outputs.append({"name": path.name, "size": size, "file_id": source.file_id})
        quality.append({"file_id": source.file_id, "name": source.name, **report,
                        "summary": cues.summary(report, style)})  # fmt: skip
    return outputs, quality
