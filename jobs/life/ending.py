"""The one end of a job. Every way a job ends goes through `end()`: finished (the pipeline),
failed or cancelled in its horse (the job's run), its horse killed by a stop-job or dead (the
worker's hooks), its whole worker dead (the sweeper).

`end()` removes the job's temp dir, releases what it still holds reserved for paid calls, then
makes the move that says how it ended, which publishes the change (`lua/move.lua`). In that
order: once anything reads the new status, the temp dir is gone and the day's budget has back
what the job held. Two endings of one job (its horse, then its worker; two sweepers) are
harmless: the first two steps are idempotent and the move is a compare-and-set.
"""

from __future__ import annotations

import logging

import redis

from .. import keys
from ..config import Config
from ..connection import decoded
from ..spend import ledger
from ..timeutil import now_iso
from . import record, status, submit, workspace
from .status import Move, Status

log = logging.getLogger("subcue.job")

WORKER_DIED = {
    "code": "worker_died",
    "message": "The worker running this job stopped unexpectedly; retry it to resume.",
}
"""The error of a job whose work horse or worker died under it."""


def end(conn: redis.Redis, config: Config, job_id: str, move: Move | None = None, *,
        owner: str | None = None, **fields) -> bool:  # fmt: skip
    """End the job: remove its temp dir, release its reservations, then make `move` with
    `fields` (None: no move, for a job whose record has ended or that another ending moves).
    `owner` saves a read of the record. Returns whether the move applied."""
    workspace.remove(config, job_id)
    if owner is None:
        found = conn.hget(keys.job(job_id), "owner")
        owner = decoded(found) if found is not None else None
    if owner is not None and (count := ledger.release_all(conn, job_id, owner)):
        log.info("job=%s event=reservations_released count=%d", job_id, count)
    if move is None:
        return False
    if move is not status.REQUEUE:
        fields.setdefault("ended_at", now_iso())
    applied = record.move(conn, job_id, move, **fields).applied
    if applied:
        log.info("job=%s event=%s", job_id, move.target.value)
    return applied


def end_failed(conn: redis.Redis, config: Config, job_id: str, error: dict, *,
               owner: str | None = None) -> str | None:  # fmt: skip
    """End a running job as failed with `error`; a job being cancelled ends as cancelled
    instead. Returns the new status, or None when the record had already ended."""
    if end(conn, config, job_id, status.FAIL, owner=owner, error=error):
        return Status.FAILED
    if end(conn, config, job_id, status.CONFIRM_CANCELLED, owner=owner):
        return Status.CANCELLED
    return None


def end_horse_gone(conn: redis.Redis, config: Config, job_id: str, was: str | None, *,
                   requeue: bool = False) -> str | None:  # fmt: skip
    """End a job whose work horse is gone (killed, crashed, or its whole worker died), given the
    status it had when the horse was found gone: cancelled if a cancel was pending, back on the
    queue if `requeue` (a worker shutting down), else failed as `worker_died`. Returns the new
    status, or None when the record had already ended (or changed meanwhile)."""
    if was in (Status.CANCELLING, Status.CANCELLED, None):
        done = end(conn, config, job_id, status.CONFIRM_CANCELLED)
        return Status.CANCELLED if done else None
    if was != Status.RUNNING or requeue:
        end(conn, config, job_id)  # it ended by itself before the horse went, or goes back
        if was == Status.RUNNING and submit.requeue(conn, config, job_id, status.REQUEUE):
            log.info("job=%s event=requeued reason=worker_shutdown", job_id)
            return Status.QUEUED
        return None
    if end(conn, config, job_id, status.FAIL, error=WORKER_DIED):
        log.warning("job=%s event=worker_died", job_id)
        return Status.FAILED
    return None
