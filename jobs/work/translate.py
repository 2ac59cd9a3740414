"""The translate job: every file of a session becomes `<stem>.<lang>.srt`, `.vtt` and `.json`
for each target language (the names Plex, Jellyfin, VLC and mpv pick up by language).

A media file is heard once per chunk, for the first language; every other language is a text
translation of its cues' source text, cue for cue, at the same times. A subtitle file is
translated as text, cue for cue, into every language, and also written in its own format.
With `bilingual`, `<stem>.<src>-<lang>.srt/.vtt` show the source line above the translation."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from ..life import session
from ..media import retime, speech, sync
from ..storage import stores
from ..subtitles import quality_report, shaping, speakers, styles
from ..subtitles.cues import Cue
from ..subtitles.formats import reader
from ..subtitles.formats.writer import bilingual, place, shape, write_json, write_outputs
from ..subtitles.styles import Style
from . import engines, resync
from .engines.cue_text import CONTEXT_CUES, batches
from .execution import JobRun, job_run, watched
from .pipeline import (
    Piece,
    Source,
    finish,
    guarded_put,
    languages_of,
    plan,
    prepare,
    run_calls,
    transcribe_all,
)
from .video_out import videos

log = logging.getLogger("subcue.job")


UNKNOWN_LANGUAGE = "und"
"""ISO 639's code for an undetermined language: the source side of a bilingual file's name
when neither the job nor the file name says what was spoken."""


Doubts = dict[tuple[int, str | None], set[int]]
"""Cues the engine doubted by (file index, language; None: the language heard from audio)."""


@dataclass(frozen=True)
class TextBatch:
    """Cues of one file to translate into one language in one call (a checkpoint)."""

    number: int
    file_index: int
    language: str
    cues: list[tuple[int, str]]
    context: list[tuple[int, str]]


def run(job_id: str) -> None:
    """RQ entry point: translate (or transcribe) every file of the job's session."""
    with job_run(job_id) as job:
        glossary = session.glossary(job.conn, job.record["session_id"])
        sources, synced = prepare(job), []
        if job.params.get("sync"):
            sources, synced = resync.apply(job, sources)
        made = subtitle(job, sources, glossary)
        outputs = made.outputs + videos(job, sources, made.heard, made.style, made.warnings)
        finish(job, outputs, quality=made.quality, warnings=synced + made.warnings,
               notes=speaker_notes(job, made.heard))  # fmt: skip


@dataclass
class Made:
    """What `subtitle` made of a job's prepared sources."""

    outputs: list[dict]
    quality: list[dict]
    warnings: list[dict]
    heard: dict[int, list[Cue]]
    """Each media file's cues in the first language (for its video and the notes)."""
    style: Style


def subtitle(job: JobRun, sources: list[Source], glossary: list[dict]) -> Made:
    """Every prepared file's subtitles in every language of the job, stored: media heard
    chunk by chunk, its cues shaped and put on the speech, other languages and subtitle files
    translated as text; with the quality reports and the warnings."""
    pieces = plan(job, sources)
    results = asyncio.run(transcribe_all(job, pieces, glossary))
    warnings = asyncio.run(watched(job, language_warnings(job, sources, pieces, results)))
    style = styles.STYLES[job.params.get("style") or styles.DEFAULT_STYLE]
    heard, mistimed, spoken = shape_heard(job, sources, pieces, results, style)
    translator = translator_of(job.params)
    per_call = (job.config.llm_cues_per_call if translator == "llm"
                else job.config.gemini_cues_per_call)  # fmt: skip
    languages = languages_of(job.params)
    heard_in = engines.heard_language(job.params["engine"], languages)
    work = text_work(sources, heard, languages, len(pieces), per_call, heard_in)
    calls = {b.number: translation(job, b, glossary) for b in work}
    asyncio.run(run_calls(job, calls, results, done_before=len(pieces), engine=translator))
    texts, unsure = collected(work, results), doubted(sources, pieces, heard, work, results)
    for (file_index, _), mine in unsure.items():
        mine |= mistimed.get(file_index, set())  # a guessed time is doubtful in every language
    outputs, quality = write_all(job, sources, heard, texts, style, unsure, spoken)
    return Made(outputs, quality, warnings, heard, style)


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


NO_SPEAKERS = (
    "The {engine} engine cannot tell speakers apart: these subtitles say nobody's name "
    "(the Gemini engine marks who speaks)."
)


def speaker_notes(job: JobRun, heard: dict[int, list[Cue]]) -> list[dict]:
    """A note when the job heard media with an engine that cannot tell who speaks: its cues
    carry no speaker, and nothing invents one."""
    engine = job.params["engine"]
    if not heard or engines.load(job.config, engine).tells_speakers:
        return []
    return [{"code": "no_speakers", "message": NO_SPEAKERS.format(engine=engine)}]


def shape_heard(job: JobRun, sources: list[Source], pieces: list[Piece], results: dict[int, dict],
                style: Style) -> tuple[dict[int, list[Cue]], dict[int, set[int]],
                                       dict[int, list]]:  # fmt: skip
    """Each media file's cues in the first language, by file index, with their times moved
    onto the speech the detector finds (unless SPEECH_TIMING is off); by file index, the cues
    whose time is a guess (over no speech); and the speech regions found (for the editor)."""
    language = engines.heard_language(job.params["engine"], languages_of(job.params))
    heard, mistimed, spoken = {}, {}, {}
    for file_index, source in enumerate(sources):
        if source.wav is None:
            continue
        mine = [results[p.number] | {"chunk": p.chunk} for p in pieces
                if p.file_index == file_index]  # fmt: skip
        labels = speakers.reconcile([speakers.ChunkSpeakers(
            tuple((s["start"], s["end"], s.get("speaker") or "") for s in r["segments"]),
            r["chunk"].duration, tuple(r.get("speakers_given") or ())) for r in mine])  # fmt: skip
        chunks = [((r["chunk"].start, r["chunk"].end), place(
            speakers.relabelled(r["segments"], found), r["chunk"].start, r["chunk"].duration,
            source.duration)) for r, found in zip(mine, labels, strict=True)]  # fmt: skip
        guessed: list[retime.Span] = []
        if job.config.speech_timing:
            job.check()
            started = time.monotonic()
            regions = spoken[file_index] = speech.detect(source.wav)
            placed, guessed = retime.placed_on_speech(chunks, regions)
            log.info("job=%s event=speech_timing file=%s regions=%d seconds=%.2f", job.job_id,
                     source.file_id, len(regions), time.monotonic() - started)  # fmt: skip
        else:
            placed = [segment for _, segments in chunks for segment in segments]
        heard[file_index] = shape(placed, style, language, source.duration)
        mistimed[file_index] = {k for k, c in enumerate(heard[file_index])
                                if any(c.start < b and c.end > a for a, b in guessed)}  # fmt: skip
    return heard, mistimed, spoken


def translator_of(params: dict) -> str:
    """Who translates the job's text: its `translator`, or (jobs from before there was a
    choice) its engine."""
    return params.get("translator") or params["engine"]


def text_work(sources: list[Source], heard: dict[int, list[Cue]], languages: list[str],
              first_number: int, cues_per_call: int,
              heard_in: str | None = None) -> list[TextBatch]:  # fmt: skip
    """The text translation calls of the job, numbered from `first_number` (after the audio
    chunks) in a fixed order, so a retry finds their checkpoints: a subtitle file's cues in
    every language, a media file's source cues in every language but the one the engine
    wrote from the audio (`heard_in`, default the first)."""
    heard_in = heard_in or languages[0]
    work: list[TextBatch] = []
    for file_index, source in enumerate(sources):
        if source.subtitles is not None:
            items = [(c.index, c.text) for c in source.subtitles.cues if c.translate]
            # A re-synced file needs no call for its own language: its text is kept as it is.
            wanted = [lang for lang in languages if source.sync is None or lang != source.language]
        else:
            items = [(k, c.source_text or c.text) for k, c in enumerate(heard[file_index])]
            wanted = [language for language in languages if language != heard_in]
        for language in wanted:
            done = 0
            for batch in batches(items, max_cues=cues_per_call):
                context = items[max(0, done - CONTEXT_CUES) : done]
                work.append(TextBatch(first_number + len(work), file_index, language, batch,
                                      context))  # fmt: skip
                done += len(batch)
    return work


def translation(job: JobRun, batch: TextBatch,
                glossary: list[dict]) -> Callable[..., Awaitable[dict]]:  # fmt: skip
    """The engine call of one text batch; its payload is the checkpoint."""

    async def translate(engine: engines.Engine) -> dict:
        found, again = await engine.translate_cues(batch.cues, target_language=batch.language,
                                                   context=batch.context, calls=job,
                                                   glossary=glossary)  # fmt: skip
        return {"texts": {str(i): t for i, t in found.items()}, "language": batch.language,
                "unsure": sorted(again)}  # fmt: skip

    return translate


def collected(work: list[TextBatch], results: dict[int, dict]) -> dict[tuple[int, str], dict]:
    """The translated texts by (file index, language): cue index -> text. A file with nothing
    to translate (silence, a subtitle file of drawings only) had no batch: it reads as empty."""
    texts: defaultdict[tuple[int, str], dict[int, str]] = defaultdict(dict)
    for batch in work:
        found = results[batch.number]["texts"]
        texts[(batch.file_index, batch.language)].update({int(i): t for i, t in found.items()})
    return texts


def doubted(
    sources: list[Source],
    pieces: list[Piece],
    heard: dict[int, list[Cue]],
    work: list[TextBatch],
    results: dict[int, dict],
) -> dict[tuple[int, str], set[int]]:
    """The cues the engine doubted, by (file index, language): a media file's cues within a
    chunk whose answer was unsure (in every language), and the cues a text call asked again
    (in that language; for a subtitle file, cue indexes are the file's own)."""
    found: Doubts = {}
    for batch in work:
        found.setdefault((batch.file_index, batch.language), set()).update(
            results[batch.number].get("unsure") or ()
        )
    for file_index, cues_heard in heard.items():
        spans = [
            (p.chunk.start, p.chunk.start + p.chunk.duration)
            for p in pieces
            if p.file_index == file_index and results[p.number].get("unsure")
        ]
        near = {
            k for k, c in enumerate(cues_heard) if any(c.start < b and c.end > a for a, b in spans)
        }
        found[(file_index, None)] = near  # None: the first language, heard from the audio
        for (index, _), mine in found.items():
            if index == file_index:
                mine |= near  # a doubtful hearing is doubtful in every language
    return found


def write_all(job: JobRun, sources: list[Source], heard: dict[int, list[Cue]],
              texts: dict[tuple[int, str], dict[int, str]], style: Style,
              unsure: Doubts,
              spoken: dict[int, list]) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Store every file's outputs in every language (and the bilingual ones); returns the
    outputs and a quality report per file and language (how many cues break which rule).
    `spoken`: each heard file's speech regions, which its JSON outputs keep for the editor."""
    job.check()
    languages = languages_of(job.params)
    heard_in = engines.heard_language(job.params["engine"], languages)
    directory = job.tmp / "out"
    outputs, quality = [], []

    def store(paths: list[Path], source: Source, language: str) -> None:
        for path in paths:
            size = guarded_put(job, stores.output_key(job.job_id, path.name), path)
            outputs.append({"name": path.name, "size": size, "file_id": source.file_id,
                            "language": language, "format": path.suffix[1:]})  # fmt: skip

    for file_index, source in enumerate(sources):
        src = (job.params.get("source_language") or source.language
               or ("en" if source.subtitles is None and job.params["engine"] == "local"
                   else UNKNOWN_LANGUAGE))  # the local engine hears English only  # fmt: skip
        for language in languages:
            from_audio = source.subtitles is None and language == heard_in
            if source.subtitles is None:
                shaped = (
                    heard[file_index]
                    if from_audio
                    else retexted(heard[file_index], texts[(file_index, language)], style, language)
                )
            else:
                shaped = subtitle_cues(source.subtitles, texts[(file_index, language)])
            stem = f"{source.stem}.{language}"
            doubts = unsure.get((file_index, None if from_audio else language), set())
            if source.subtitles is None:
                written, report = write_outputs(directory, stem, language, source.duration,
                                                shaped, style, doubts,
                                                bool(job.params.get("speaker_names")),
                                                speech=spoken.get(file_index))  # fmt: skip
            else:
                formats = list(dict.fromkeys([source.subtitles.format, "srt", "vtt"]))
                written = reader.write(source.subtitles, texts[(file_index, language)],
                                        directory, stem, formats)  # fmt: skip
                report = quality_report.check(shaped, style, language, source.duration)
                report |= {"sync": source.sync} if source.sync is not None else {}
                written.append(write_json(directory / f"{stem}.json", language,
                                          source.duration, style, shaped, report,
                                          doubts))  # a cue's index is its place  # fmt: skip
            store(written, source, language)
            quality.append({"file_id": source.file_id, "name": source.name,
                            "language": language, **report,
                            "summary": quality_report.summary(report, style)
                            + sync.describe(source.sync)})  # fmt: skip
            if job.params.get("bilingual"):
                pair = f"{src}-{language}"
                both = bilingual(shaped, style, src)
                written, _ = write_outputs(directory, f"{source.stem}.{pair}", language,
                                           source.duration, both, style, ass=False)  # fmt: skip
                store([p for p in written if p.suffix != ".json"], source, pair)
    return outputs, quality


def retexted(heard: list[Cue], found: dict[int, str], style: Style, language: str) -> list[Cue]:
    """The first language's cues with another language's text: same times, lines wrapped for
    that language."""
    return [Cue(c.start, c.end, shaping.wrap(found[k], style, language) or (found[k],),
                c.source_text, speakers=c.speakers if len(c.speakers) == 1 else ())
            for k, c in enumerate(heard)]  # fmt: skip


def subtitle_cues(source: reader.SubtitleFile, found: dict[int, str]) -> list[Cue]:
    """A subtitle file's cues with their translations, as the JSON output and the quality
    report see them (plain lines; the subtitle files keep the tags)."""
    shaped = []
    for cue in source.cues:
        text = found.get(cue.index, cue.text)  # untranslated: a drawing, or its own language
        lines = tuple(line for line in (reader.plain(t) for t in text.split("\n")) if line)
        shaped.append(Cue(cue.start_ms / 1000, cue.end_ms / 1000, lines or ("",),
                          reader.plain(cue.text)))  # fmt: skip
    return shaped
