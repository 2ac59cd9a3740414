"""Holding a request open until its job ends, as the whisper API's clients expect, and
cancelling the job when its client hangs up.

gunicorn runs gevent workers, so a held request is a greenlet that looks at its job's status
and at its socket a few times a second. A client that closed its connection makes the socket
readable with nothing to read. Bazarr closes it when its timeout passes and then asks again
with the same audio, so a job whose last client left is cancelled only if nobody joins it
within ASR_REJOIN_SECONDS.
"""

from __future__ import annotations

import logging
import select
import socket
import time

import redis
from flask import request

from jobs import keys
from jobs.config import Config
from jobs.life import cancel, record
from jobs.life.status import Status

log = logging.getLogger("subcue.library")

POLL_SECONDS = 0.25
"""How often a held request looks at its job and its client."""


def hung_up(sock) -> bool:
    """True when the client closed its side of the connection (readable, nothing to read)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except (OSError, ValueError):  # reset, or already closed
        return True


def _ended(conn: redis.Redis, job_id: str) -> bool:
    """True once the job is terminal or its record gone (deleted)."""
    now = record.status(conn, job_id)
    return now is None or Status(now).terminal


def until_ended(conn: redis.Redis, config: Config, job_id: str) -> dict | None:
    """Wait for the job to end and return its record; None if the client hung up first (the
    job is then cancelled, unless another request for it arrives in ASR_REJOIN_SECONDS)."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    waiters = keys.library_waiters(job_id)
    with conn.pipeline() as pipe:
        pipe.incr(waiters)
        pipe.expire(waiters, keys.RECORD_TTL)
        pipe.execute()
    try:
        while not _ended(conn, job_id):
            if sock is not None and hung_up(sock):
                break
            time.sleep(POLL_SECONDS)
        else:
            return _record(conn, job_id)
    finally:
        conn.decr(waiters)
    log.info("job=%s event=client_hung_up", job_id)
    deadline = time.monotonic() + config.asr_rejoin_seconds
    while time.monotonic() < deadline:
        if _ended(conn, job_id) or int(conn.get(waiters) or 0) > 0:
            return None  # ended anyway, or a retry of the same request holds it now
        time.sleep(POLL_SECONDS)
    if int(conn.get(waiters) or 0) == 0:
        cancel.cancel(conn, config, job_id, reason="client_gone")
    return None


def _record(conn: redis.Redis, job_id: str) -> dict | None:
    """The job's record, or None once deleted."""
    try:
        return record.get(conn, job_id)
    except Exception:  # NotFound: deleted while we waited
        return None
