"""The library job: subtitles for a media file of the user's library, written next to it as
`<stem>.<lang>.srt` (the names Plex, Jellyfin and Kodi pick up), one per LIBRARY_LANGUAGES
that has none yet. The media is read where it lies (never copied into storage, never
changed); the job's outputs are kept like any translate job's, and the SRT files are placed
next to the media only once they are complete.

A subtitle file Subcue did not write is never touched: without LIBRARY_OVERWRITE a language
with any subtitle file is skipped, and the placing itself refuses to replace a file that
appeared meanwhile (a hard link, which fails when the name exists). Cancelling or deleting
the job removes the job's own outputs only.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from ..errors import JobFailed, SubcueError
from ..life import session
from ..media import audio, probe
from ..spend import ledger, pricing
from ..work.engines import paid, translated_languages
from ..work.execution import JobRun, job_run
from ..work.pipeline import Source, extract, finish, languages_of
from ..work.translate import subtitle, translator_of
from . import paths, servers

log = logging.getLogger("subcue.library")


def run(job_id: str) -> None:
    """RQ entry point: make the missing subtitles of the media file in `params["path"]`."""
    with job_run(job_id) as job:
        # Checked again (a link may have moved since); the path is Subcue's view already.
        found = paths.media_file(job.config, job.params["path"], theirs=False)
        overwrite = bool(job.params.get("overwrite"))
        wanted = [c for c in languages_of(job.params)
                  if overwrite or not paths.has_subtitles(found, c)]  # fmt: skip
        warnings = [_exists(found, c) for c in languages_of(job.params) if c not in wanted]
        outputs, quality, written = [], [], []
        if wanted:
            job.record["params"] = {**job.params, "target_language": wanted[0],
                                    "target_languages": wanted}  # fmt: skip
            outputs, quality, more = subtitles(job, found)
            warnings += more
            job.check()
            written = [place(job, found, c, overwrite) for c in wanted]
            warnings += refresh(job)
        finish(job, outputs, quality=quality, warnings=warnings,
               written=[str(p) for p in written if p is not None])  # fmt: skip


def subtitles(job: JobRun, found: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """The translate job's work on one media file read in place: (outputs, quality, warnings)."""
    glossary = session.glossary(job.conn, job.record["session_id"])
    wav, ffmpeg = job.tmp / "audio.wav", probe.ffmpeg_binary(job.config.ffmpeg_binary)
    try:  # the user's file is read as an upload is: allow-listed demuxers only
        probed = probe.probe(found, ffmpeg)
    except SubcueError as exc:
        raise JobFailed(f"{found.name}: {exc.message}", code=exc.code) from exc
    affordable(job, found.name, probed.duration_s)  # before any work
    extract(job, {"name": found.name, "demuxer": probed.demuxer,
                  "duration_s": probed.duration_s}, found, wav, ffmpeg)  # fmt: skip
    sources = [Source("library", found.name, found.stem, audio.duration_of(wav), wav)]
    made = subtitle(job, sources, glossary)
    return made.outputs, made.quality, made.warnings


def affordable(job: JobRun, name: str, duration: float) -> None:
    """A paid library job (a paid engine hears it, or a paid translator translates it) starts
    only when its worst case fits in what the daily budgets leave; otherwise it fails with
    `budget_exhausted` before any call (never half-paid), and says so in the job list. Nobody
    watches a library job to raise a cap or wait with it."""
    config, engine = job.config, job.params.get("engine")
    languages = languages_of(job.params)
    translated = translated_languages(engine, languages)
    translator = translator_of(job.params) if translated else None
    if not paid(config, engine, translator):
        return
    worst = pricing.for_config(config, engine, "translate", [duration], translator=translator,
                               languages=len(languages),
                               translated=len(translated))["max_cost_usd"]  # fmt: skip
    mine, everyone = ledger.day_spent(job.conn, job.owner)
    short = shortfall(ledger.micros(worst),
                      [("Your", config.owner_daily_budget_usd, mine),
                       ("This server's", config.daily_budget_usd, everyone)])  # fmt: skip
    if short is not None:
        whose, left, budget = short
        free = ("the local engine (LIBRARY_ENGINE=local)" if engine != "local" else
                "a free translator (LIBRARY_TRANSLATOR=llm, your own LLM server)")  # fmt: skip
        raise JobFailed(
            f"Subtitles for {name} may cost up to {pricing.usd(worst)}, more than "
            f"{whose.lower()} daily budget of {pricing.usd(budget)} leaves today "
            f"({pricing.usd(ledger.dollars(left))}); nothing was spent. Retry it after 00:00 UTC, "
            f"or use {free}.",
            code=ledger.BudgetExhausted.code,
        )


def shortfall(worst: int, budgets: list[tuple[str, float | None, int]]) -> tuple | None:
    """The first budget (whose, USD or None for none, micro-dollars used today) that cannot
    hold `worst` micro-dollars more, as (whose, micro-dollars left, budget); None if all can."""
    for whose, budget, used in budgets:
        if budget is not None and used + worst > ledger.micros(budget):
            return whose, max(0, ledger.micros(budget) - used), budget
    return None


def place(job: JobRun, found: Path, language: str, overwrite: bool) -> Path | None:
    """Put the language's finished SRT next to the media: a new name only (a file that
    appeared meanwhile is left alone, and None returned), or replacing with LIBRARY_OVERWRITE.
    The text goes to a hidden temporary name in the same folder first, so a reader never
    sees half a file."""
    made = job.tmp / "out" / f"{found.stem}.{language}.srt"
    dest = paths.subtitle_path(found, language)
    temporary = dest.with_name(f".{dest.name}.subcue-{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(made.read_bytes())
        if overwrite:
            os.replace(temporary, dest)
        else:
            try:
                os.link(temporary, dest)
            except FileExistsError:
                log.info("job=%s event=subtitles_appeared language=%s", job.job_id, language)
                return None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    log.info("job=%s event=subtitles_written language=%s", job.job_id, language)
    return dest


def refresh(job: JobRun) -> list[dict]:
    """Ask the media server that reported the file to look at it again (a warning on the job,
    not a failure, when it cannot be reached)."""
    asked = job.params.get("refresh") or {}
    if not asked:
        return []
    try:
        servers.refresh(job.config, asked)
    except servers.ServerError as exc:
        log.warning("job=%s event=refresh_failed server=%s", job.job_id, asked.get("server"))
        return [{"code": "refresh_failed", "message": str(exc)}]
    return []


def _exists(found: Path, language: str) -> dict:
    """The warning for a language left alone because its subtitles exist."""
    return {"code": "subtitles_exist",
            "message": f"{found.stem}.{language}: a subtitle file exists already; left alone "
                       "(LIBRARY_OVERWRITE=true makes them again)."}  # fmt: skip
