"""What every job over a session's media shares: fetching and extracting each file, cutting it
into chunks, running the engine over the chunks that have no checkpoint yet, storing outputs,
and publishing them. The job kinds (jobs/translate.py, jobs/analyze.py) are built from these."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from . import audio, engines, media, record, session, status
from .errors import JobCancelled, JobFailed
from .lifecycle import JobRun, watched
from .storage import job_prefix
from .timeutil import now_iso

log = logging.getLogger("subcue.job")


@dataclass(frozen=True)
class Piece:
    """One chunk of one file, numbered across the whole job (the checkpoint index)."""

    number: int
    file_index: int
    wav: Path
    chunk: audio.Chunk


@dataclass
class Source:
    """An input file, prepared: its name, duration and extracted audio."""

    file_id: str
    name: str
    stem: str
    duration: float
    wav: Path


def prepare(job: JobRun) -> list[Source]:
    """Fetch each upload into the temp dir and extract its audio."""
    ffmpeg = media.ffmpeg_binary(job.config.ffmpeg_binary)
    sources, stems = [], set()
    for index, file in enumerate(session.files(job.conn, job.record["session_id"])):
        job.check()
        local = job.tmp / f"input-{index}{Path(file['name']).suffix[:10]}"
        job.storage.download(file["key"], local)
        wav = job.tmp / f"audio-{index}.wav"
        try:
            media.extract_audio(local, wav, ffmpeg)
        except media.ExtractError as exc:
            raise JobFailed(f"{file['name']}: {exc}", code="decode_failed") from exc
        local.unlink()
        stem = _unique(Path(file["name"]).stem or "media", stems)
        sources.append(Source(file["id"], file["name"], stem, audio.duration_of(wav), wav))
    if not sources:
        raise JobFailed("The session has no files to translate.", code="no_files")
    return sources


def plan(job: JobRun, sources: list[Source]) -> list[Piece]:
    """Cut every file into chunks and number them across the job."""
    pieces = []
    for file_index, source in enumerate(sources):
        for chunk in audio.plan_chunks(source.wav, job.config.chunk_seconds):
            pieces.append(Piece(len(pieces), file_index, source.wav, chunk))
    return pieces


async def transcribe_all(job: JobRun, pieces: list[Piece]) -> dict[int, dict]:
    """Run the engine over every chunk without a checkpoint, `engine.concurrency` at a time."""
    results = record.checkpoints(job.conn, job.job_id)
    job.set_total(len(pieces), sum(1 for p in pieces if p.number in results))
    pending = [p for p in pieces if p.number not in results]
    if not pending:
        return results
    engine = engines.load(job.config, job.params["engine"])
    limit = asyncio.Semaphore(engine.concurrency)
    language = job.params["target_language"]

    failed = False  # once a chunk has failed the job, no other chunk starts a paid call

    async def one(piece: Piece) -> None:
        nonlocal failed
        async with limit:
            if failed:
                return
            job.check()  # the last look at the flag before a (possibly paid) call
            sound = audio.read_chunk(piece.wav, piece.chunk)
            previous = results.get(piece.number - 1) if piece.chunk.index else None
            context = " ".join(s["source_text"] for s in previous["segments"]) if previous else ""
            try:
                answer = await engine.transcribe(
                    sound, target_language=language, context=context, calls=job
                )
            except Exception:
                failed = True
                raise
            payload = {"segments": answer.segments, "language": answer.language}
            if answer.speech is not None:
                payload["speech"] = answer.speech
            results[piece.number] = payload
            job.chunk_done(piece.number, payload, len(pieces))

    tasks = [asyncio.create_task(one(p)) for p in pending]
    try:
        await watched(job, asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()  # after a failure or a cancel: abort the requests still in flight
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.aclose()
    return results


def guarded_put(job: JobRun, key: str, path: Path) -> int:
    """Store an output unless the job is no longer running (cancelled or deleted)."""
    job.check()
    return job.storage.put_file(key, path)


def finish(job: JobRun, outputs: list[dict], **notes) -> None:
    """Publish the outputs (and `notes` about them) by marking the job finished; if it was
    cancelled meanwhile, undo."""
    done = record.move(
        job.conn, job.job_id, status.FINISH,
        outputs=outputs, ended_at=now_iso(), eta_s=0, **notes,
    )  # fmt: skip
    if not done.applied:
        job.storage.delete_prefix(job_prefix(job.job_id))
        raise JobCancelled(job.job_id)
    log.info("job=%s event=finished outputs=%d", job.job_id, len(outputs))


def _unique(stem: str, taken: set[str]) -> str:
    """`stem`, or `stem-2`, `stem-3`... if another input already uses it."""
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate)
    return candidate
