"""The JSON API under /api/ (API.md)."""

from __future__ import annotations

import mimetypes

from flask import (
    Blueprint,
    jsonify,
    redirect,
    request,
    send_file,
)  # fmt: skip

from jobs import cancel, cues, delete, record, session, storage
from jobs.engines import check_request
from jobs.errors import BadRequest, NotFound, TooManyJobs
from jobs.submit import retry, submit

from . import context, owner, serialize, uploads
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api")

KINDS = ("translate", "analyze")

mimetypes.add_type("application/x-subrip", ".srt")
mimetypes.add_type("text/vtt", ".vtt")


def _flag(value: str | None, default: bool) -> bool:
    """Parse a form/JSON boolean ('true', '1', 'on', 'false', '0', 'off')."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise BadRequest(f"keep_running must be true or false, not {value!r}.", code="bad_flag")


def job_params(values, kind: str = "translate") -> tuple[dict, str]:
    """Validate kind, engine, target language and keep_running; return (params, description)."""
    if kind not in KINDS:
        raise BadRequest(f"Unknown job kind {kind!r}; use 'translate' or 'analyze'.",
                         code="unknown_kind")  # fmt: skip
    engine, language = check_request(
        context.config(), values.get("engine") or None, values.get("target_language") or None
    )
    keep = _flag(values.get("keep_running"), default=True)
    style = str(values.get("style") or cues.DEFAULT_STYLE).strip().lower()
    if style not in cues.STYLES:
        raise BadRequest(f"Unknown subtitle style {style!r}; choose one of: "
                         f"{', '.join(cues.STYLES)}.", code="unknown_style")  # fmt: skip
    params = {"target_language": language, "engine": engine, "keep_running": keep}
    return params | {"style": style}, kind


def _describe(kind: str, files: list[dict], params: dict) -> str:
    """A line a person understands in the dashboard: 'translate talk.mp4 → fa'."""
    names = files[0]["name"] if len(files) == 1 else f"{len(files)} files"
    if kind == "translate":
        return f"translate {names} → {params['target_language']} ({params['engine']})"
    return f"analyze {names} ({params['engine']})"


def _check_limit() -> None:
    """429 before anything is stored when the owner is at MAX_ACTIVE_JOBS_PER_OWNER."""
    limit = context.config().max_active_jobs_per_owner
    if record.count_active(context.conn(), owner.current()) >= limit:
        raise TooManyJobs(f"You already have {limit} jobs queued or running; "
                          "wait for one to finish or cancel one.")  # fmt: skip


@bp.get("/me")
def me():
    """Who am I."""
    return jsonify({"owner": owner.current()})


@bp.get("/openapi.json")
def openapi():
    """The machine-readable contract."""
    return jsonify(spec())


@bp.post("/jobs")
def create_job():
    """Upload file(s) into a new session and start a translate job over them."""
    params, kind = job_params(request.form)
    _check_limit()
    conn = context.conn()
    with uploads.stage(request.files.getlist("file")) as staged:
        session_id = session.create(conn, owner.current())
        try:
            files = uploads.store(staged, session_id)
            job_id = _start(session_id, kind, params, files)
        except BaseException:
            context.storage().delete_prefix(storage.session_prefix(session_id))
            session.purge(conn, session_id)
            raise
    body = serialize.job(record.get(conn, job_id))
    return jsonify(body), 202, {"Location": f"/api/jobs/{job_id}"}


def _start(session_id: str, kind: str, params: dict, files: list[dict]) -> str:
    """Submit a job over the session's files."""
    return submit(
        context.conn(), context.config(), owner=owner.current(), session_id=session_id,
        kind=kind, params=params, description=_describe(kind, files, params),
    )  # fmt: skip


@bp.post("/sessions")
def create_session():
    """A new session holding the uploaded file(s)."""
    conn = context.conn()
    with uploads.stage(request.files.getlist("file")) as staged:
        session_id = session.create(conn, owner.current())
        try:
            uploads.store(staged, session_id)
        except BaseException:
            context.storage().delete_prefix(storage.session_prefix(session_id))
            session.purge(conn, session_id)
            raise
    return _session_response(session_id, 201)


@bp.post("/sessions/<session_id>/files")
def add_files(session_id: str):
    """Add file(s) to a session."""
    conn = context.conn()
    session.get(conn, session_id, owner.current())
    with uploads.stage(request.files.getlist("file")) as staged:
        try:
            uploads.store(staged, session_id)
        except NotFound:  # deleted while uploading: keep nothing
            for file in staged.files:
                context.storage().delete_prefix(storage.upload_key(session_id, file["id"], ""))
            raise
    return _session_response(session_id, 201)


@bp.post("/sessions/<session_id>/jobs")
def create_session_job(session_id: str):
    """Start a translate or analyze job over every file of the session."""
    found = session.get(context.conn(), session_id, owner.current())
    values = request.get_json(silent=True)
    if not isinstance(values, dict):
        raise BadRequest("Send a JSON object such as {\"kind\": \"translate\"}.",
                         code="bad_json")  # fmt: skip
    params, kind = job_params(values, values.get("kind") or "translate")
    if not found["files"]:
        raise BadRequest("The session has no files yet.", code="no_files")
    _check_limit()
    job_id = _start(session_id, kind, params, found["files"])
    body = serialize.job(record.get(context.conn(), job_id))
    return jsonify(body), 202, {"Location": f"/api/jobs/{job_id}"}


@bp.delete("/sessions/<session_id>")
def delete_session(session_id: str):
    """Cancel every job of the session, wait until none can write, then purge it all."""
    delete.delete_session(context.conn(), context.config(), context.storage(), session_id,
                          owner.current())  # fmt: skip
    return "", 204


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str):
    """Cancel the job, wait until it cannot write, then purge its outputs and records."""
    delete.delete_job(context.conn(), context.config(), context.storage(), job_id,
                      owner.current())  # fmt: skip
    return "", 204


def _session_response(session_id: str, status: int):
    """The Session object."""
    conn = context.conn()
    found = session.get(conn, session_id)
    body = serialize.session(found, record.list_for_session(conn, session_id))
    return jsonify(body), status, {"Location": f"/api/sessions/{session_id}"}


@bp.get("/jobs")
def list_jobs():
    """The owner's jobs, newest first."""
    jobs = record.list_for_owner(context.conn(), owner.current())
    return jsonify({"jobs": [serialize.job(j) for j in jobs]})


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    """One job."""
    return jsonify(serialize.job(record.get(context.conn(), job_id, owner.current())))


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    """Cancel (idempotent); any body or none, so navigator.sendBeacon works. The job page's
    beacon says `reason=left_page`; any other reason is the user's own click."""
    reason = "left_page" if request.form.get("reason") == "left_page" else "cancelled_by_user"
    rec = cancel.cancel(context.conn(), context.config(), job_id, owner=owner.current(),
                        reason=reason)  # fmt: skip
    return jsonify(serialize.job(rec))


@bp.get("/jobs/<job_id>/outputs/<name>")
def download_output(job_id: str, name: str):
    """Download one output file of a finished job."""
    rec = record.get(context.conn(), job_id, owner.current())
    if name not in {o["name"] for o in rec.get("outputs") or []}:
        raise NotFound("No such output.")
    inline = request.args.get("inline") == "1"  # the player's <track> loads the .vtt inline
    return _send(storage.output_key(job_id, name), name, as_attachment=not inline)


@bp.get("/sessions/<session_id>/files/<file_id>")
def download_file(session_id: str, file_id: str):
    """The uploaded media itself, for the player on the job page."""
    found = session.get(context.conn(), session_id, owner.current())
    file = next((f for f in found["files"] if f["id"] == file_id), None)
    if file is None:
        raise NotFound("No such file.")
    return _send(file["key"], file["name"], as_attachment=False, direct=True)


def _send(key: str, name: str, as_attachment: bool, direct: bool = False):
    """Serve a stored object: from disk when the backend has one (ranges work); for media in a
    bucket, a redirect to a presigned URL (the player needs ranges to seek); else streamed."""
    store = context.storage()
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        url = store.direct_url(key, name, mimetype) if direct else None
        if url:
            return redirect(url)
        path = store.local_path(key)
        source = path if path is not None else store.open(key)
    except FileNotFoundError as exc:
        raise NotFound("That file is no longer stored.") from exc
    return send_file(source, as_attachment=as_attachment, download_name=name,
                     mimetype=mimetype, conditional=True)  # fmt: skip


@bp.post("/jobs/<job_id>/retry")
def retry_job(job_id: str):
    """Queue a failed or cancelled job again; finished chunks are not paid for twice."""
    retry(context.conn(), context.config(), job_id, owner.current())
    return jsonify(serialize.job(record.get(context.conn(), job_id))), 202


@bp.get("/sessions/<session_id>")
def get_session(session_id: str):
    """One session with its files and jobs."""
    conn = context.conn()
    found = session.get(conn, session_id, owner.current())
    return jsonify(serialize.session(found, record.list_for_session(conn, session_id)))
