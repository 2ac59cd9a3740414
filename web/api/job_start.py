"""Starting a job from a request: the owner's limit and budget, the session its uploads make,
the job's line for the pages, and the job itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from jobs.life import session
from jobs.life.readiness import check_llm
from jobs.life.submit import check_limit, submit
from jobs.spend import ledger
from jobs.storage import stores
from jobs.work.engines import makers, paid, translated_languages

from .. import context, uploads
from ..security import owner
from .job_fields import to_translate


def admit(params: dict, files: list[dict] = ()) -> None:
    """Refuse a job the owner may not start now: too many in progress (429 too_many_jobs), a
    paid one (engine or translator) when a daily budget is spent (429 budget_exhausted), or one
    the LLM translates while the workers' last check of it failed (503 llm_unreachable).
    Before anything is stored; called again with the files once an upload is read, since a
    subtitle file is text for the translator whatever the languages (unless only re-timed)."""
    conn, config, who = context.conn(), context.config(), owner.current()
    check_limit(conn, config, who)
    translator = params.get("translator") if translates(params, files) else None
    if paid(config, params["engine"], translator):
        ledger.check_budget(conn, config, who)
    if translator == "llm":
        check_llm(conn, config)


def translates(params: dict, files: list[dict] = ()) -> bool:
    """Whether the job has text for its translator: a subtitle file to translate (not one only
    re-timed), or a language besides the one its engine hears. (A local job from media into
    English has the LLM as its translator by default, and needs none.)"""
    if to_translate(params, files):
        return True
    languages = params.get("target_languages") or [params["target_language"]]
    return bool(translated_languages(params["engine"], languages))


def describe(kind: str, files: list[dict], params: dict) -> str:
    """A line a person understands in the job list and the dashboard: 'transcribe talk.mp4
    (local)' (the local engine alone only transcribes English), 'translate talk.mp4 → fa
    (gemini)', and who translates when another does: 'translate talk.mp4 → de (local + llm)'."""
    names = files[0]["name"] if len(files) == 1 else f"{len(files)} files"
    engine = params["engine"]
    if kind == "analyze":
        return f"analyze {names} ({engine})"
    languages = params.get("target_languages") or [params["target_language"]]
    translator = params.get("translator")
    texts = translates(params, files)
    if engine == "local" and not (translator and texts):
        return f"transcribe {names} (local)"
    return f"translate {names} → {', '.join(languages)} ({makers(engine, translator, texts)})"


def start(session_id: str, kind: str, params: dict, files: list[dict]) -> str:
    """Submit a job over the session's files; returns its id."""
    return submit(
        context.conn(), context.config(), owner=owner.current(), session_id=session_id,
        kind=kind, params=params, description=describe(kind, files, params),
    )  # fmt: skip


@contextmanager
def new_session(staged: uploads.Staged) -> Iterator[tuple[str, list[dict]]]:
    """A new session holding the staged files, as (id, files); if anything in the block (or
    the storing) fails, nothing of the session is kept."""
    conn = context.conn()
    session_id = session.create(conn, owner.current())
    try:
        yield session_id, uploads.store(staged, session_id)
    except BaseException:
        context.storage().delete_prefix(stores.session_prefix(session_id))
        session.purge(conn, session_id)
        raise
