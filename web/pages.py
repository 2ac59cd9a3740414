"""The HTML pages: the upload form and the job page. Their data comes from the JSON API."""

from flask import Blueprint, redirect, render_template, url_for

from jobs.life import record, session, status
from jobs.subtitles import styles
from jobs.subtitles.languages import LANGUAGES
from jobs.work.engines import offered

from . import context
from .security import owner

bp = Blueprint("pages", __name__)


def _choices() -> dict:
    """What the forms offer: the engines this server runs, with what each can make (so the
    form says it where the choice is made), every language, and the styles."""
    config = context.config()
    return {"languages": LANGUAGES, "engines": offered(config),
            "gemini_configured": config.gemini_configured,
            "default_engine": config.default_engine,
            "styles": styles.STYLES, "default_style": styles.DEFAULT_STYLE}  # fmt: skip


@bp.app_context_processor
def _statuses() -> dict:
    """Every page gets the statuses and their words (base.html hands them to the scripts)."""
    return {"statuses": status.for_pages()}


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it whatever the page says."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


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
        languages=LANGUAGES,
    )
