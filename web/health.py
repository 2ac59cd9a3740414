"""`GET /healthz`: Redis reachable, how many workers are alive, how many event streams this web
process holds open, and what the workers last found of the LLM server."""

from __future__ import annotations

import logging
import os

import redis
from flask import Blueprint, jsonify
from rq import worker_registration

from jobs.config import Config
from jobs.life.readiness import llm_status

from . import context

bp = Blueprint("health", __name__)

log = logging.getLogger("subcue.llm")


def announce_llm(conn: redis.Redis, config: Config) -> None:
    """At the app's start, one line on the LLM it offers and the workers' last check of it (a
    warning when that failed); nothing when no LLM is configured or Redis does not answer."""
    if not config.llm_configured:
        return
    try:
        found = llm_status(conn, config)
    except redis.RedisError:
        return
    where = f"LLM configured: model {found['model']} at {found['base_url']}"
    if found["ok"] is None:
        log.info("%s; not checked yet (every worker checks it as it starts)", where)
    elif found["ok"]:
        log.info("%s; ok at the last check (%s)", where, found["checked_at"])
    else:
        log.warning("%s; the last check failed (%s): %s — jobs with translator=llm are refused "
                    "until this is fixed", where, found["checked_at"], found["error"])  # fmt: skip


@bp.get("/healthz")
def healthz():
    """200 with the live worker count, this process's open streams and the LLM's last check
    (200 too when only the LLM is wrong: `llm` says what), or 503 (JSON) when Redis is down."""
    conn = context.conn()
    conn.ping()
    # RQ's worker set can still list a worker that died; its own key expires with it.
    registered = worker_registration.get_keys(connection=conn)
    alive = sum(conn.exists(key) for key in registered) if registered else 0
    return jsonify({"redis": "ok", "workers": alive, "streams": context.hub().open_streams,
                    "pid": os.getpid(), "llm": llm_status(conn, context.config())})  # fmt: skip
