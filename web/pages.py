"""The HTML pages: the upload form and the job page. Their data comes from the JSON API."""

from flask import Blueprint, render_template

from jobs import cues, record, session, status
from jobs.engines import ENGINES
from jobs.languages import LANGUAGES

from . import context, owner

bp = Blueprint("pages", __name__)


def _choices() -> dict:
    """What the forms offer: every language, and Gemini only when it is configured."""
    config = context.config()
    engines = [e for e in ENGINES if e != "gemini" or config.gemini_configured]
    return {"languages": LANGUAGES, "engines": engines, "default_engine": config.default_engine,
            "styles": cues.STYLES, "default_style": cues.DEFAULT_STYLE}  # fmt: skip


@bp.app_context_processor
def _statuses() -> dict:
    """Every page gets the statuses and their words (base.html hands them to the scripts)."""
    return {"statuses": status.for_pages()}


@bp.get("/")
def index():
    """The upload form and the owner's jobs."""
    return render_template("index.html", **_choices())


@bp.get("/sessions/<session_id>")
def session_page(session_id: str):
    """A session's files and jobs (404 for unknown or foreign ids)."""
    found = session.get(context.conn(), session_id, owner.current())
    return render_template("session.html", session_id=found["id"], **_choices())


@bp.get("/jobs/<job_id>")
def job_page(job_id: str):
    """The job page (404 for unknown or foreign ids)."""
    rec = record.get(context.conn(), job_id, owner.current())
    return render_template(
        "job.html",
        job_id=rec["id"],
        session_id=rec["session_id"],
        lease_seconds=context.config().lease_seconds,
    )
