"""A translate job's video outputs: its subtitles muxed into the video as language tracks, or
burned into the picture (jobs/media/video.py runs ffmpeg), with progress and the room the
job's temp space has left."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import JobCancelled, JobFailed
from ..life import record, workspace
from ..media import probe, video
from ..storage import stores
from ..subtitles.cues import Cue
from ..subtitles.formats import ass
from ..subtitles.languages import name_of
from ..subtitles.styles import Style
from .execution import JobRun
from .pipeline import Source, guarded_put, languages_of


def videos(job: JobRun, sources: list[Source], heard: dict[int, list[Cue]], style: Style,
           notes: list[dict]) -> list[dict]:  # fmt: skip
    """With `video=mux`, `<stem>.subtitled.mkv` (streams copied, a track per language that
    has cues; `notes` hears of those left out); with `video=burn`, `<stem>.burned.mp4` (the
    first language in the picture)."""
    mode, outputs = job.params.get("video", "none"), []
    if mode == "none":
        return outputs
    ffmpeg, languages = probe.ffmpeg_binary(job.config.ffmpeg_binary), languages_of(job.params)
    directory = job.tmp / "out"
    for file_index, source in enumerate(sources):
        if source.media is None:
            continue
        job.check()
        room = workspace.room(job.tmp, job.config.job_temp_mb)
        try:
            if mode == "mux":
                dest = directory / f"{source.stem}.subtitled.mkv"
                tracks = [(directory / f"{source.stem}.{lang}.srt", lang) for lang in languages]
                if silent := [lang for path, lang in tracks if not path.read_text().strip()]:
                    notes.append(no_track_note(source, silent, len(silent) == len(tracks)))
                tracks = [(path, lang) for path, lang in tracks if lang not in silent]
                video.mux(ffmpeg, source.media, source.demuxer, tracks, dest, room)
            else:
                dest = directory / f"{source.stem}.burned.mp4"
                burn_one(job, ffmpeg, source, heard[file_index], style, languages[0], dest, room)
        except video.TooBig as exc:
            raise JobFailed(
                f"{source.name}: {exc} of this job's {job.config.job_temp_mb} MB of "
                "temporary space (JOB_TEMP_MB).",
                code="temp_budget",
            ) from exc
        except RuntimeError as exc:
            raise JobFailed(f"{source.name}: {exc}", code="video_failed") from exc
        size = guarded_put(job, stores.output_key(job.job_id, dest.name), dest)
        outputs.append({"name": dest.name, "size": size, "file_id": source.file_id,
                        "language": languages[0] if mode == "burn" else None,
                        "format": dest.suffix[1:]})  # fmt: skip
        dest.unlink()
    return outputs


def no_track_note(source: Source, languages: list[str], none_left: bool) -> dict:
    """The job's note that `source`'s video got no subtitle track for `languages` (their
    subtitles have no cue: nothing was said, or nothing the engine heard)."""
    named = ", ".join(name_of(lang) for lang in languages)
    what = "no subtitle track" if none_left else f"no {named} subtitle track"
    return {"code": "no_subtitle_track", "file_id": source.file_id,
            "message": f"{source.name}: no speech was heard, so the {named} subtitles are "
                       f"empty and its video has {what}."}  # fmt: skip


BURN_REPORT_S = 0.5
"""How often a burn's progress is written to the record (and the cancel flag read)."""


def burn_one(job: JobRun, ffmpeg: str, source: Source, shaped: list[Cue], style: Style,
             language: str, dest: Path, room: int) -> None:  # fmt: skip
    """Burn one file's cues into its picture, its progress shown on the job like chunks;
    the video may take `room` bytes."""
    picture = probe.probe(source.media, ffmpeg, source.demuxer).picture
    if picture is None:
        raise RuntimeError(f"{source.name}: no video stream to put subtitles on")
    width, height = picture
    place = job.tmp / f"burn-{source.file_id}"
    place.mkdir(exist_ok=True)
    subtitles = place / "subtitles.ass"
    ass.document(shaped, style, language, width, height).save(str(subtitles))
    total = max(1, round(source.duration))
    chunks = record.get(job.conn, job.job_id).get("total") or 0  # shown again once burned
    job.set_total(total, 0)
    record.update_while_running(job.conn, job.job_id, {"stage": "burning"})
    reported = looked = time.monotonic()
    stop = False

    def progress(seconds: float) -> None:
        nonlocal reported
        if time.monotonic() - reported >= BURN_REPORT_S:
            reported = time.monotonic()
            job.progressed(min(total, int(seconds)), total)

    def should_stop() -> bool:  # read the flag at most every BURN_REPORT_S / 2
        nonlocal looked, stop
        if not stop and time.monotonic() - looked >= BURN_REPORT_S / 2:
            looked, stop = time.monotonic(), record.should_stop(job.conn, job.job_id)
        return stop

    try:
        video.burn(ffmpeg, source.media, source.demuxer, subtitles, dest, room, progress,
                   should_stop)  # fmt: skip
    except video.Stopped:
        raise JobCancelled(job.job_id) from None
    job.set_total(chunks, chunks)
    record.update_while_running(job.conn, job.job_id, {"stage": ""})
