"""What keeps a job page informed and its job alive: the event stream and the lease."""

from __future__ import annotations

import json
import select
import socket
import time

from flask import Response, request, stream_with_context

from jobs import record
from jobs.errors import NotFound
from jobs.status import Status
from jobs.submit import renew_lease as submit_lease

from .. import context, owner, serialize
from . import bp

EVENT_POLL_SECONDS = 0.25
"""How often an event stream looks for changes to its job."""

KEEPALIVE_SECONDS = 15
"""An idle event stream sends a comment this often."""


@bp.post("/jobs/<job_id>/lease")
def renew_lease(job_id: str):
    """The job page is still open (keeps a keep_running=false job from being abandoned)."""
    rec = record.get(context.conn(), job_id, owner.current())
    if Status(rec["status"]).active:
        submit_lease(context.conn(), context.config(), job_id)
    return "", 204


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str):
    """Server-sent events: the Job now and on every change; ends after a terminal status."""
    record.get(context.conn(), job_id, owner.current())
    conn, config = context.conn(), context.config()
    client = request.environ.get("gunicorn.socket")  # None outside gunicorn

    def stream():
        last, last_write = None, time.monotonic()
        while True:
            try:
                rec = record.get(conn, job_id)
            except NotFound:
                rec = {"id": job_id, "status": Status.CANCELLED.value,
                       "error": {"code": "deleted", "message": "The job was deleted."}}  # fmt: skip
            text = json.dumps(serialize.job(rec))
            if text != last:
                yield f"data: {text}\n\n"
                last, last_write = text, time.monotonic()
            if Status(rec["status"]).terminal:
                return
            if client_gone(client):
                return  # a dead page must not keep its lease alive until a write fails
            if not (rec.get("params") or {}).get("keep_running", True):
                submit_lease(conn, config, job_id)  # an open stream is an open page
            if time.monotonic() - last_write > KEEPALIVE_SECONDS:
                # proxies close idle streams; a write also notices a client that went away
                yield ": keep-alive\n\n"
                last_write = time.monotonic()
            time.sleep(EVENT_POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)


def client_gone(sock) -> bool:
    """True if the peer closed the connection (readable with nothing to read)."""
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True
