"""The HTML pages: the upload form and the job page. Their data comes from the JSON API."""

from flask import Blueprint, redirect, render_template, url_for

from jobs.config import Config
from jobs.life import record, session, status
from jobs.spend import pricing
from jobs.subtitles import styles
from jobs.subtitles.languages import LANGUAGES
from jobs.work.engines import check_translator, offered, translators_offered

from . import context
from .security import owner

bp = Blueprint("pages", __name__)


def _choices() -> dict:
    """What the forms offer: the engines this server runs, with what each can make (so the
    form says it where the choice is made), who may translate, every language, and the
    styles."""
    config = context.config()
    return {"languages": LANGUAGES, "engines": _engines(config),
            "translators": _translators(config),
            "gemini_configured": config.gemini_configured,
            "llm_configured": config.llm_configured,
            "default_engine": config.default_engine,
            "styles": styles.STYLES, "default_style": styles.DEFAULT_STYLE}  # fmt: skip


def _engines(config: Config) -> list[dict]:
    """The engines on offer, each with who translates its jobs unless the form says otherwise
    (the API's own rule, check_translator) and, for the local engine with a translator, what
    it then makes."""
    engines = offered(config)
    for engine in engines:
        engine["translator"] = check_translator(config, engine["name"], None) or ""
        if engine["name"] == "local" and engine["translator"]:
            engine["label"] = "Local Whisper (free, hears English)"
            engine["note_translated"] = ("Free, on this server: it hears English speech; the "
                                         "translator makes every other language from its "
                                         "English.")  # fmt: skip
    return engines


def _translators(config: Config) -> list[dict]:
    """The form's "Translated by" choices: none without an LLM (Gemini alone translates only
    its own jobs, so there is nothing to choose), else every translator this server has, each
    saying whether it is paid (the LLM: when LLM_PRICES is above 0)."""
    if not config.llm_configured:
        return []
    llm_paid = not pricing.llm_prices(config).free
    return [found | {"paid": found["name"] != "llm" or llm_paid}
            for found in translators_offered(config)]  # fmt: skip


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
