"""What every job over a session's media shares: fetching and extracting each file, cutting it
into chunks, running the engine over the chunks that have no checkpoint yet, storing outputs,
and publishing them. The job kinds (jobs/work/translate.py, jobs/work/analyze.py) are built from
these."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import JobCancelled, JobFailed, SubcueError
from ..life import ending, record, session, status, workspace
from ..media import audio, probe
from ..storage.stores import job_prefix
from ..subtitles import speakers
from ..subtitles.formats import reader
from . import engines
from .execution import JobRun, watched

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
    """An input file, prepared: its name, duration, and its extracted audio or, for a
    subtitle file, its parsed cues (and the language its name gives, `movie.en.srt`)."""

    file_id: str
    name: str
    stem: str
    duration: float
    wav: Path | None = None
    subtitles: reader.SubtitleFile | None = None
    language: str | None = None
    media: Path | None = None
    """The input itself, kept in the temp dir when the job puts subtitles into its video."""
    sync: dict | None = None
    """How a subtitle file was re-timed to its media (`sync` jobs; jobs/work/resync.py)."""
    demuxer: str = ""
    """The ffmpeg demuxer that reads `media` (every ffmpeg run over it is told so)."""


def prepare(job: JobRun) -> list[Source]:
    """Fetch each upload into the temp dir; extract a media file's audio, read a subtitle
    file's cues."""
    ffmpeg = probe.ffmpeg_binary(job.config.ffmpeg_binary)
    sources, stems = [], set()
    for index, file in enumerate(session.files(job.conn, job.record["session_id"])):
        job.check()
        local = job.tmp / f"input-{index}{Path(file['name']).suffix[:10]}"
        workspace.make_room(job.tmp, job.config.job_temp_mb, file.get("size") or 0, file["name"])
        job.storage.download(file["key"], local)
        if file.get("kind") == "subtitles":
            parsed = reader.read(reader.decode(local.read_bytes()), file["format"], file["name"])
            stem, language = reader.stem_and_language(file["name"])
            sources.append(Source(file["id"], file["name"], _unique(stem, stems),
                                  parsed.duration_s, subtitles=parsed,
                                  language=language))  # fmt: skip
            local.unlink()
            continue
        wav = job.tmp / f"audio-{index}.wav"
        extract(job, file, local, wav, ffmpeg)
        keep = file.get("has_video") and job.params.get("video", "none") != "none"
        if not keep:
            local.unlink()
        stem = _unique(Path(file["name"]).stem or "media", stems)
        sources.append(Source(file["id"], file["name"], stem, audio.duration_of(wav), wav,
                              media=local if keep else None,
                              demuxer=file["demuxer"]))  # fmt: skip
    if not sources:
        raise JobFailed("The session has no files to translate.", code="no_files")
    return sources


def extract(job: JobRun, file: dict, local: Path, wav: Path, ffmpeg: str) -> None:
    """Decode a media file's audio to `wav`, read with the demuxer its upload was probed
    with, no longer than MAX_MEDIA_MINUTES nor much longer than the probe said, within the
    job's temp space. (Files stored before demuxers were recorded are probed again, by the
    same rules as an upload.)"""
    limit = job.config.max_media_minutes
    try:
        if not file.get("demuxer"):
            found = probe.probe(local, ffmpeg)
            file["demuxer"], file["duration_s"] = found.demuxer, found.duration_s
        probe.check_length(file["duration_s"], limit)
    except SubcueError as exc:
        raise JobFailed(f"{file['name']}: {exc.message}", code=exc.code) from exc
    allowed = probe.decode_limit(file["duration_s"], limit)
    workspace.make_room(job.tmp, job.config.job_temp_mb, probe.wav_bytes(allowed),
                        f"Decoding the audio of {file['name']}")  # fmt: skip
    try:
        probe.extract_audio(local, wav, ffmpeg, file["demuxer"], allowed)
    except probe.TooMuchAudio as exc:
        raise JobFailed(f"{file['name']}: {exc}, more than its container says it lasts "
                        f"({file['duration_s'] / 60:.1f} minutes) or than this server takes "
                        f"({limit} minutes, MAX_MEDIA_MINUTES).",
                        code="media_too_long") from exc  # fmt: skip
    except probe.ExtractError as exc:
        raise JobFailed(f"{file['name']}: {exc}", code="decode_failed") from exc


def plan(job: JobRun, sources: list[Source]) -> list[Piece]:
    """Cut every media file into chunks and number them across the job."""
    pieces = []
    for file_index, source in enumerate(sources):
        if source.wav is None:
            continue
        for chunk in audio.plan_chunks(source.wav, job.config.chunk_seconds):
            pieces.append(Piece(len(pieces), file_index, source.wav, chunk))
    return pieces


async def transcribe_all(job: JobRun, pieces: list[Piece],
                         glossary: list[dict] = ()) -> dict[int, dict]:  # fmt: skip
    """Run the engine over every chunk without a checkpoint, `engine.concurrency` at a time."""
    results = record.checkpoints(job.conn, job.job_id)
    language = engines.heard_language(job.params["engine"], languages_of(job.params))

    def call(piece: Piece) -> Callable[..., Awaitable[dict]]:
        async def transcribe(engine: engines.Engine) -> dict:
            sound = audio.read_chunk(piece.wav, piece.chunk)
            previous = results.get(piece.number - 1) if piece.chunk.index else None
            context = " ".join(s["source_text"] for s in previous["segments"]) if previous else ""
            # The previous chunk's speakers, when it is done (concurrent chunks are reconciled
            # afterwards: jobs/subtitles/speakers.py); the labels given are kept for that.
            told, given = speakers.prompt_lines(previous["segments"] if previous else None)
            answer = await engine.transcribe(sound, target_language=language, context=context,
                                             calls=job, glossary=glossary,
                                             speakers=told)  # fmt: skip
            payload = {"segments": answer.segments, "language": answer.language}
            if given:
                payload["speakers_given"] = list(given)
            if answer.speech is not None:
                payload["speech"] = answer.speech
            if answer.unsure:
                payload["unsure"] = True
            return payload

        return transcribe

    await run_calls(job, {p.number: call(p) for p in pieces}, results)
    return results


async def run_calls(job: JobRun, calls: dict[int, Callable[..., Awaitable[dict]]],
                    results: dict[int, dict], done_before: int = 0,
                    engine: str | None = None) -> None:  # fmt: skip
    """Run the engine calls (checkpoint number -> call(engine) giving the payload) that have no
    checkpoint in `results`, `engine.concurrency` at a time: each payload is checkpointed as it
    comes. Once one fails, no other starts a (possibly paid) call; a cancel aborts those in
    flight. `done_before`: work of the job already done outside `calls` (for the progress).
    `engine`: who makes the calls (default: the job's engine; text calls: its translator)."""
    total = done_before + len(calls)
    job.set_total(total, done_before + sum(1 for n in calls if n in results))
    pending = [n for n in calls if n not in results]
    if not pending:
        return
    engine = engines.load(job.config, engine or job.params["engine"])
    limit = asyncio.Semaphore(engine.concurrency)
    failed = False  # once a call has failed the job, no other call starts

    async def one(number: int) -> None:
        nonlocal failed
        async with limit:
            if failed:
                return
            job.check()  # the last look at the flag before a (possibly paid) call
            try:
                payload = await calls[number](engine)
            except Exception:
                failed = True
                raise
            results[number] = payload
            job.chunk_done(number, payload, total)

    tasks = [asyncio.create_task(one(n)) for n in pending]
    try:
        await watched(job, asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()  # after a failure or a cancel: abort the requests still in flight
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.aclose()


def guarded_put(job: JobRun, key: str, path: Path) -> int:
    """Store an output unless the job is no longer running (cancelled or deleted)."""
    job.check()
    return job.storage.put_file(key, path)


def finish(job: JobRun, outputs: list[dict], **notes) -> None:
    """Publish the outputs (and `notes` about them) by marking the job finished; if it was
    cancelled meanwhile, undo."""
    done = ending.end(job.conn, job.config, job.job_id, status.FINISH, owner=job.owner,
                      outputs=outputs, eta_s=0, **notes)  # fmt: skip
    if not done:
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


def languages_of(params: dict) -> list[str]:
    """The job's target languages, the first one heard from the audio."""
    return list(params.get("target_languages") or [params["target_language"]])
