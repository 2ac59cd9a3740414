"""One way in for a media file of the library (a webhook, a watched folder): the languages it
still lacks, and the library job that makes them, or the one already queued or running for
the same file. Library jobs belong to the ASR_TOKEN's owner and queue without the per-owner
limit (a season pack is many files at once); paid engines and translators still answer to the
budgets. LIBRARY_TRANSLATOR names who translates the languages the engine does not hear (by
default Gemini when it hears them, else the LLM when one is configured)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from .. import keys
from ..config import Config
from ..connection import decoded
from ..errors import SubcueError
from ..life import record, session
from ..life.readiness import check_llm
from ..life.status import Status
from ..life.submit import submit
from ..spend import ledger
from ..subtitles.styles import DEFAULT_STYLE
from ..work.engines import check_request, check_translator, makers, paid, translated_languages
from . import asr, paths

log = logging.getLogger("subcue.library")

LOCK_SECONDS = 30
"""How long one request may hold a dedupe key's lock while it checks and submits."""


class Busy(SubcueError):
    """Another request for the same media is being set up and did not finish in time."""

    status, code = 503, "busy"


@contextmanager
def locked(conn: redis.Redis, key: str) -> Iterator[None]:
    """One request at a time checks and submits for a dedupe key."""
    lock = key + ":lock"
    deadline = time.monotonic() + LOCK_SECONDS
    while not conn.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        if time.monotonic() > deadline:
            raise Busy("The same media is being set up by another request; try again.")
        time.sleep(0.05)
    try:
        yield
    finally:
        conn.delete(lock)


def running_job(conn: redis.Redis, key: str, finished_too: bool = False) -> str | None:
    """The job a dedupe key names, if it is queued or running (not being cancelled), or, with
    `finished_too`, finished (a client's retry after the job ended is answered from it)."""
    existing = conn.get(key)
    if existing is None:
        return None
    job_id = decoded(existing)
    now = record.status(conn, job_id)
    if now is None or now == Status.CANCELLING:
        return None
    return job_id if Status(now).active or (finished_too and now == Status.FINISHED) else None


def missing_languages(config: Config, media: Path) -> list[str]:
    """LIBRARY_LANGUAGES without a subtitle file next to the media (all with LIBRARY_OVERWRITE)."""
    if config.library_overwrite:
        return list(config.library_languages)
    return [c for c in config.library_languages if not paths.has_subtitles(media, c)]


def owner_of(config: Config) -> str:
    """The owner of library jobs: the ASR_TOKEN's."""
    return record.token_owner(config.asr_token)


def request_subtitles(conn: redis.Redis, config: Config, media: Path,
                      refresh: dict | None = None) -> str | None:  # fmt: skip
    """The library job for `media` (a real path inside MEDIA_ROOTS): the one already queued or
    running for it, else a new one; None when every language has its subtitles already."""
    languages = missing_languages(config, media)
    if not languages:
        log.info("event=library_skipped reason=subtitles_exist")
        return None
    engine = config.library_engine
    translator = check_translator(config, engine, config.library_translator or None)
    for language in languages:  # refuse what the engine cannot do before anything is stored
        check_request(config, engine, language, translator)
    owner = owner_of(config)
    translated = bool(translated_languages(engine, languages))
    if paid(config, engine, translator if translated else None):
        ledger.check_budget(conn, config, owner)
    if translated and translator == "llm":
        check_llm(conn, config)  # a failing LLM refuses the request now, not the job later
    key = keys.library_request(hashlib.sha256(f"library:{media}".encode()).hexdigest())
    with locked(conn, key):
        if (job_id := running_job(conn, key)) is not None:
            log.info("job=%s event=library_joined", job_id)
            return job_id
        params = {"engine": engine, "target_language": languages[0], "style": DEFAULT_STYLE,
                  "keep_running": True, "path": str(media),
                  "overwrite": config.library_overwrite, "refresh": refresh}  # fmt: skip
        if len(languages) > 1:
            params["target_languages"] = languages
        if translator:
            params["translator"] = translator
        session_id = session.create(conn, owner)
        job_id = submit(conn, config, owner=owner, session_id=session_id, kind="library",
                        params=params, limit=False,
                        description=f"subtitles for {media.name} → {', '.join(languages)} "
                                    f"({makers(engine, translator, translated)})")  # fmt: skip
        asr.claim(conn, key, job_id)
        return job_id
