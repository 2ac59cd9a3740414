"""The `sync` step of a translate job: each subtitle file is re-timed to the media file it
belongs to (`film.mp4` with `film.srt` or `film.en.srt`), then written (and translated, for
other languages) as the job writes any subtitle file, under the media's stem. The media file
is only listened to: it is not transcribed, so a sync into the file's own language makes no
engine call at all.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ..media import speech, sync
from ..subtitles.formats.reader import belongs
from .execution import JobRun
from .pipeline import Source

log = logging.getLogger("subcue.job")

NO_SPEECH = "no speech was found in it, so {subtitles} keeps its times."


def apply(job: JobRun, sources: list[Source]) -> tuple[list[Source], list[dict]]:
    """The job's subtitle files re-timed to their media (the media files themselves left out
    of the job's work), and the warnings for media in which no speech was found."""
    media = [s for s in sources if s.wav is not None]
    own = job.params.get("source_language") or job.params["target_language"]
    kept, warnings = [], []
    for source in sources:
        if source.subtitles is None:
            continue
        partner = next(m for m in media if belongs(source.name, m.name))  # checked at submit
        job.check()
        regions = speech.detect(partner.wav)
        cues = [(c.start_ms / 1000, c.end_ms / 1000) for c in source.subtitles.cues]
        found = sync.fit(cues, regions, partner.duration)
        if found is None:
            report = {"offset_s": 0.0, "drift": "none", "splits": 0, "cues_moved": 0}
            warnings.append({"code": "no_speech", "file_id": source.file_id,
                             "message": f"{partner.name}: " + NO_SPEECH.format(
                                 subtitles=source.name)})  # fmt: skip
        else:
            retime(source, found.times)
            report = found.report()
        log.info("job=%s event=synced file=%s %s", job.job_id, source.file_id, report)
        stem = Path(partner.name).stem or partner.stem  # the media's: players pair them so
        kept.append(replace(source, stem=stem, duration=partner.duration,
                            language=source.language or own, sync=report))  # fmt: skip
    return kept, warnings


def retime(source: Source, times: list[tuple[float, float]]) -> None:
    """Give a parsed subtitle file's cues (and its document's events) new times, in order."""
    subtitles = source.subtitles
    events = [e for e in subtitles.document.events if not e.is_comment]
    cues = []
    for cue, event, (start, end) in zip(subtitles.cues, events, times, strict=True):
        start_ms = max(0, round(start * 1000))
        end_ms = max(start_ms + 1, round(end * 1000))
        event.start, event.end = start_ms, end_ms
        cues.append(replace(cue, start_ms=start_ms, end_ms=end_ms))
    subtitles.cues = cues
