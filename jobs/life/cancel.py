"""Cancellation, in one place: web routes, delete, lease expiry and the sweeper all call this.

1. The cancel flag is the record's status, set by compare-and-set together with the reason:
   `queued -> cancelled` (the job's own claim will then fail, so it never starts even if a
   worker already popped it), or `running -> cancelling`.
2. A queued job is also removed from RQ's queue (and shows in its canceled registry).
3. A running job's worker is told to stop it (RQ's stop-job: SIGKILL to the work horse's
   process group, ffmpeg included). Our Worker's failure hook then removes the temp dir and
   marks the job `cancelled`. If the command is lost, the job sees the flag within
   CANCEL_WATCH_INTERVAL or before its next engine call and stops itself.
4. The caller waits (bounded) until the job is terminal, so when `cancel()` returns with a
   terminal status, no engine call for that job can start any more.
"""

from __future__ import annotations

import logging
import time

import redis
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from ..config import Config
from ..errors import NotFound
from ..timeutil import now_iso
from . import record, status
from .status import Status

log = logging.getLogger("subcue.cancel")

REASONS = {
    "cancelled_by_user": "You cancelled this job (with Cancel, or through the API).",
    "left_page": "Cancelled because you left its page while it was running.",
    "abandoned": "Cancelled because its page stopped answering for {lease} s (the browser "
    "closed, crashed or went to sleep).",
    "deleted": "Cancelled because the job was deleted.",
    "client_gone": "Cancelled because the program that asked for it (Bazarr or another "
    "whisper-API client) hung up and did not ask again.",
}
"""Why a job was cancelled (its `error.code`) and what the user is told: the one wording, which
the pages and the CLI show as it is."""

POLL_INTERVAL = 0.001
"""Seconds between looks at the status while waiting for the worker to confirm."""


def cancel(
    conn: redis.Redis,
    config: Config,
    job_id: str,
    *,
    reason: str = "cancelled_by_user",
    owner: str | None = None,
    wait: float | None = None,
) -> dict:
    """Cancel a job and wait (at most `wait`, default CANCEL_WAIT) until it has stopped.

    Idempotent: a terminal job is returned unchanged. NotFound for unknown or foreign ids.
    """
    record.get(conn, job_id, owner)  # NotFound for foreign or unknown ids
    error = {"code": reason, "message": REASONS[reason].format(lease=config.lease_seconds)}
    for _ in range(3):  # queued -> running can happen between our two compare-and-sets
        never_started = record.move(
            conn, job_id, status.CANCEL_QUEUED, error=error, ended_at=now_iso()
        )
        if never_started.applied:
            log.info("job=%s event=cancelled_queued reason=%s", job_id, reason)
            _remove_from_queue(conn, job_id)
            return record.get(conn, job_id)
        if never_started.previous == "missing":
            raise NotFound("No such job.")
        if never_started.previous != Status.RUNNING:
            break
        stopping = record.move(
            conn, job_id, status.REQUEST_CANCEL,
            error=error, cancel_requested_at=now_iso(),
        )  # fmt: skip
        if stopping.applied or stopping.previous != Status.QUEUED:
            break
    current = record.status(conn, job_id)
    if current == Status.CANCELLING:
        log.info("job=%s event=cancel_requested reason=%s", job_id, reason)
        _stop_horse(conn, job_id)
        _wait_until_stopped(conn, job_id, config.cancel_wait_seconds if wait is None else wait)
    try:
        return record.get(conn, job_id)
    except NotFound:  # deleted meanwhile
        return {"id": job_id, "status": Status.CANCELLED.value, "error": error}


def _remove_from_queue(conn: redis.Redis, job_id: str) -> None:
    """Take the RQ job off its queue and file it in RQ's canceled registry."""
    try:
        Job.fetch(job_id, connection=conn).cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass  # already gone, or already canceled: nothing left to remove


def _stop_horse(conn: redis.Redis, job_id: str) -> None:
    """Ask the worker running the job to kill its work horse (and the horse's children)."""
    try:
        send_stop_job_command(conn, job_id)
    except (NoSuchJobError, InvalidJobOperation):
        pass  # not executing (yet or any more): the flag alone stops it


def _wait_until_stopped(conn: redis.Redis, job_id: str, timeout: float) -> bool:
    """Poll until the job's status is terminal (or its record gone); False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        now = record.status(conn, job_id)
        if now is None or Status(now).terminal:
            return True
        if time.monotonic() >= deadline:
            log.warning("job=%s event=cancel_wait_timeout status=%s", job_id, now)
            return False
        time.sleep(POLL_INTERVAL)
