"""Jobs: submit (with the upload), list, read, cancel, retry, delete, download outputs."""

from __future__ import annotations

from flask import jsonify, request

from jobs.errors import BadRequest, NotFound
from jobs.life import cancel, delete, record, session
from jobs.life.submit import retry
from jobs.storage import stores

from .. import context, filetypes, serialize, uploads
from ..security import owner
from ..security.body import json_body
from . import bp
from .job_fields import check_files, job_params, max_cost
from .job_start import admit, new_session, start
from .stored_files import send_stored


def accepted(job_id: str):
    """202 with the new (or requeued) Job and where to find it."""
    body = serialize.job(record.get(context.conn(), job_id))
    return jsonify(body), 202, {"Location": f"/api/jobs/{job_id}"}


@bp.post("/jobs")
def create_job():
    """Upload file(s) into a new session and start a job over them."""
    params, kind = job_params(request.form)
    admit(params)  # before storing anything
    with uploads.stage(request.files.getlist("file")) as staged:
        check_files(kind, params, staged.files)
        admit(params, staged.files)
        with new_session(staged) as (session_id, files):
            job_id = start(session_id, kind, params, files)
    return accepted(job_id)


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


@bp.post("/jobs/<job_id>/retry")
def retry_job(job_id: str):
    """Queue a failed or cancelled job again; finished chunks are not paid for twice. A body
    (JSON or form) may set a new `max_cost_usd` (empty or null: no cap)."""
    conn = context.conn()
    rec = record.get(conn, job_id, owner.current())
    params = rec["params"]
    values = json_body() if request.is_json else request.form
    if not isinstance(values, dict) and values is not None:
        raise BadRequest('Send a JSON object such as {"max_cost_usd": 1.0}.', code="bad_json")
    if values and "max_cost_usd" in values:
        params.pop("max_cost_usd", None)
        cap = max_cost(values.get("max_cost_usd"))
        if cap is not None and params["engine"] != "local":
            params["max_cost_usd"] = cap
    admit(params, session.files(conn, rec["session_id"]))
    retry(conn, context.config(), job_id, owner.current(), params=params)
    return accepted(job_id)


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str):
    """Cancel the job, wait until it cannot write, then purge its outputs and records."""
    delete.delete_job(context.conn(), context.config(), context.storage(), job_id,
                      owner.current())  # fmt: skip
    return "", 204


@bp.get("/jobs/<job_id>/outputs/<name>")
def download_output(job_id: str, name: str):
    """Download one output file of a finished job."""
    rec = record.get(context.conn(), job_id, owner.current())
    if name not in {o["name"] for o in rec.get("outputs") or []}:
        raise NotFound("No such output.")
    inline = request.args.get("inline") == "1"  # the player's <track>, or a burned video
    return send_stored(stores.output_key(job_id, name), name, filetypes.of_output(name),
                       inline=inline, direct=inline and name.endswith(".mp4"))  # fmt: skip
