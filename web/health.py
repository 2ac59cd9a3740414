"""`GET /healthz`: Redis reachable, how many workers are alive, and how many event streams
this web process holds open."""

import os

from flask import Blueprint, jsonify
from rq import worker_registration

from . import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the live worker count and this process's open streams, or 503 (JSON) when
    Redis is down."""
    conn = context.conn()
    conn.ping()
    # RQ's worker set can still list a worker that died; its own key expires with it.
    registered = worker_registration.get_keys(connection=conn)
    alive = sum(conn.exists(key) for key in registered) if registered else 0
    return jsonify({"redis": "ok", "workers": alive, "streams": context.hub().open_streams,
                    "pid": os.getpid()})  # fmt: skip
