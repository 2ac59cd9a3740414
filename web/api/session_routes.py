"""Sessions: several media files, the jobs over them, and the files themselves."""

from __future__ import annotations

from flask import jsonify, request

from jobs.errors import BadRequest, NotFound
from jobs.life import delete, record, session
from jobs.storage import stores

from .. import context, serialize, uploads
from ..security import owner
from ..security.body import json_body
from . import bp
from .job_fields import check_files, job_params
from .job_routes import accepted
from .job_start import admit, new_session, start
from .stored_files import send_stored, upload_type


def _session_response(session_id: str, status: int):
    """The Session object."""
    conn = context.conn()
    found = session.get(conn, session_id)
    body = serialize.session(found, record.list_for_session(conn, session_id))
    return jsonify(body), status, {"Location": f"/api/sessions/{session_id}"}


@bp.post("/sessions")
def create_session():
    """A new session holding the uploaded file(s)."""
    with uploads.stage(request.files.getlist("file")) as staged:
        with new_session(staged) as (session_id, _):
            pass
    return _session_response(session_id, 201)


@bp.get("/sessions/<session_id>")
def get_session(session_id: str):
    """One session with its files and jobs."""
    conn = context.conn()
    found = session.get(conn, session_id, owner.current())
    return jsonify(serialize.session(found, record.list_for_session(conn, session_id)))


@bp.post("/sessions/<session_id>/files")
def add_files(session_id: str):
    """Add file(s) to a session."""
    session.get(context.conn(), session_id, owner.current())
    with uploads.stage(request.files.getlist("file")) as staged:
        try:
            uploads.store(staged, session_id)
        except NotFound:  # deleted while uploading: keep nothing
            for file in staged.files:
                context.storage().delete_prefix(stores.upload_key(session_id, file["id"], ""))
            raise
    return _session_response(session_id, 201)


@bp.get("/sessions/<session_id>/files/<file_id>")
def download_file(session_id: str, file_id: str):
    """The uploaded media itself, for the player on the job page."""
    found = session.get(context.conn(), session_id, owner.current())
    file = next((f for f in found["files"] if f["id"] == file_id), None)
    if file is None:
        raise NotFound("No such file.")
    return send_stored(file["key"], file["name"], upload_type(file), inline=True, direct=True)


@bp.post("/sessions/<session_id>/jobs")
def create_session_job(session_id: str):
    """Start a translate or analyze job over every file of the session."""
    found = session.get(context.conn(), session_id, owner.current())
    values = json_body()
    if not isinstance(values, dict):
        raise BadRequest("Send a JSON object such as {\"kind\": \"translate\"}.",
                         code="bad_json")  # fmt: skip
    params, kind = job_params(values, values.get("kind") or "translate")
    if not found["files"]:
        raise BadRequest("The session has no files yet.", code="no_files")
    check_files(kind, params, found["files"])
    admit(params, found["files"])
    return accepted(start(session_id, kind, params, found["files"]))


@bp.get("/sessions/<session_id>/glossary")
def get_glossary(session_id: str):
    """The session's glossary: terms every call of its jobs must translate the same way."""
    found = session.get(context.conn(), session_id, owner.current())
    return jsonify({"glossary": found["glossary"]})


@bp.put("/sessions/<session_id>/glossary")
def put_glossary(session_id: str):
    """Replace the session's glossary ({"glossary": [{term, translation, note}]})."""
    session.get(context.conn(), session_id, owner.current())
    entries = session.checked_glossary(json_body())
    session.set_glossary(context.conn(), session_id, entries)
    return jsonify({"glossary": entries})


@bp.delete("/sessions/<session_id>")
def delete_session(session_id: str):
    """Cancel every job of the session, wait until none can write, then purge it all."""
    delete.delete_session(context.conn(), context.config(), context.storage(), session_id,
                          owner.current())  # fmt: skip
    return "", 204
