"""The language-detection job behind `POST /detect-language`: the first 30 s of the audio
heard by the local model (free, whatever ASR_ENGINE is), answered as `language.json`."""

from __future__ import annotations

import asyncio
import json

from ..errors import JobFailed
from ..storage import stores
from ..subtitles.languages import name_of
from ..work import engines
from ..work.execution import job_run, watched
from ..work.pipeline import finish, guarded_put, prepare

RESULT = "language.json"
"""The job's one output: `{"detected_language", "language_code", "confidence"}`."""

NOT_ENGLISH = (
    "The local model only knows English, and this audio does not sound like English; set "
    "WHISPER_MODEL to a multilingual model to detect other languages."
)


def run(job_id: str) -> None:
    """RQ entry point: detect the language spoken in the session's first file."""
    with job_run(job_id) as job:
        source = prepare(job)[0]
        job.set_total(1, 0)
        job.check()
        engine = engines.load(job.config, "local")
        code, confidence = asyncio.run(watched(job, engine.detect_language(source.wav)))
        if code is None:
            raise JobFailed(NOT_ENGLISH, code="language_unknown")
        answer = {"detected_language": name_of(code).lower(), "language_code": code,
                  "confidence": confidence}  # fmt: skip
        path = job.tmp / RESULT
        path.write_text(json.dumps(answer), encoding="utf-8")
        size = guarded_put(job, stores.output_key(job.job_id, RESULT), path)
        job.progressed(1, 1)
        finish(job, [{"name": RESULT, "size": size, "file_id": source.file_id,
                      "language": code, "format": "json"}])  # fmt: skip
