"""What keeps a job page informed and its job alive: the event stream and the lease.

A stream waits on its job's changes (web/streams.py: one Redis subscription per web process)
rather than polling: an idle page costs no Redis command, and under gunicorn's gevent workers
no thread either. It still renews a keep_running=false job's lease on a period, and stops
doing so as soon as its page has gone.
"""

from __future__ import annotations

import json
import select
import socket
import time

from flask import Response, request, stream_with_context

from jobs.errors import NotFound
from jobs.life import record
from jobs.life.status import Status
from jobs.life.submit import renew_lease as submit_lease

from .. import context, serialize
from ..security import owner
from . import bp

DELETED = {"code": "deleted", "message": "The job was deleted."}
"""What a stream says of a job deleted while it watched."""

KEEPALIVE_SECONDS = 15
"""An idle event stream sends a comment this often (proxies close silent connections)."""


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
    who = owner.current()
    record.get(context.conn(), job_id, who)
    conn, config, hub = context.conn(), context.config(), context.hub()
    watching = hub.watch(job_id, who)
    changed = watching.__enter__()  # 429 here, before the response starts, if too many
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            watching.__exit__(None, None, None)

    client = request.environ.get("gunicorn.socket")  # None outside gunicorn
    renew_every = max(0.5, config.lease_seconds / 3)

    def stream():
        last, last_write, renewed, stale = None, time.monotonic(), 0.0, True
        try:
            while True:
                if stale:  # first, and after each change: nothing is read while idle
                    changed.clear()  # before reading: a change from now on wakes us again
                    try:
                        rec = record.get(conn, job_id)
                    except NotFound:
                        rec = {"id": job_id, "status": Status.CANCELLED.value, "error": DELETED}
                    text = json.dumps(serialize.job(rec))
                    if text != last:
                        yield f"data: {text}\n\n"
                        last, last_write = text, time.monotonic()
                    if Status(rec["status"]).terminal:
                        return
                page_job = not (rec.get("params") or {}).get("keep_running", True)
                now = time.monotonic()
                if page_job and now - renewed >= renew_every:
                    if client_gone(client):
                        return  # a dead page must not keep its lease alive
                    submit_lease(conn, config, job_id)  # an open stream is an open page
                    renewed = now
                if now - last_write >= KEEPALIVE_SECONDS:
                    # a write also notices a client that went away
                    yield ": keep-alive\n\n"
                    last_write = now
                wake = last_write + KEEPALIVE_SECONDS
                if page_job:
                    wake = min(wake, renewed + renew_every)
                stale = changed.wait(max(0.05, wake - time.monotonic()))
        finally:
            release()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = Response(stream_with_context(stream()), mimetype="text/event-stream",
                        headers=headers)  # fmt: skip
    response.call_on_close(release)  # also when the stream never started
    return response


def client_gone(sock) -> bool:
    """True if the peer closed the connection (readable with nothing to read)."""
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True
