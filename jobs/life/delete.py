"""Delete a job or a session: cancel through the one path, wait, then purge everything of it.

Nothing is written again afterwards: the job's own writes only land while its record says
`running` (record.update_while_running, JobRun.check before each output), the worker writes
RQ's bookkeeping before it confirms the cancel we wait for, and a file added to a session that
is gone is refused (session.add_file), so no marker has to outlive the delete.
"""

from __future__ import annotations

import logging

import redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
)  # fmt: skip

from .. import keys
from ..config import Config
from ..spend import ledger
from ..storage import stores
from ..storage.stores import Storage
from . import cancel, record, session
from .submit import wait_for_rq_to_let_go

log = logging.getLogger("subcue.delete")


def delete_job(conn: redis.Redis, config: Config, store: Storage, job_id: str,
               owner: str | None = None) -> None:  # fmt: skip
    """Cancel the job (waiting up to DELETE_WAIT for its horse to stop), then purge it."""
    rec = record.get(conn, job_id, owner)
    cancel.cancel(conn, config, job_id, reason="deleted", wait=config.delete_wait_seconds)
    # A cancel is confirmed as soon as the horse is killed; RQ's filing of it follows. Purge
    # after that, so nothing of RQ's is written back once the delete has answered.
    wait_for_rq_to_let_go(conn, job_id, timeout=config.delete_wait_seconds)
    purge_job(conn, store, rec)


def purge_job(conn: redis.Redis, store: Storage, rec: dict) -> None:
    """Remove the job's outputs, our records of it and RQ's job hash and registry entries."""
    job_id = rec["id"]
    store.delete_prefix(stores.job_prefix(job_id))
    ledger.release_all(conn, job_id, rec["owner"])  # the day's budget gets back what was held
    with conn.pipeline() as pipe:
        pipe.delete(keys.job(job_id), keys.chunks(job_id), keys.lease(job_id),
                    keys.uploads(job_id), keys.spend(job_id))  # fmt: skip
        pipe.zrem(keys.owner_jobs(rec["owner"]), job_id)
        pipe.zrem(keys.session_jobs(rec["session_id"]), job_id)
        pipe.zrem(keys.active(), job_id)
        pipe.publish(keys.changes(), job_id)
        pipe.execute()
    forget_rq_job(conn, job_id)
    log.info("job=%s event=deleted", job_id)


def forget_rq_job(conn: redis.Redis, job_id: str) -> None:
    """Remove RQ's job hash and every registry entry for it.

    Job.delete() only looks in the registry its current status names; a worker that popped the
    job while we cancelled it may have filed it elsewhere meanwhile, so sweep them all. The
    worker calls this again after its last write for a job whose record is gone.
    """
    origin = conn.hget(Job.key_for(job_id), "origin")
    try:
        Job.fetch(job_id, connection=conn).delete()
    except (NoSuchJobError, InvalidJobOperation):
        pass  # gone already, or while we looked: a concurrent delete (API and worker) forgot it
    if origin:
        name = origin.decode()
        for registry in (FinishedJobRegistry, FailedJobRegistry, CanceledJobRegistry,
                         DeferredJobRegistry, ScheduledJobRegistry):  # fmt: skip
            registry(name, connection=conn).remove(job_id)
        Queue(name, connection=conn).remove(job_id)
    # A hash that a heartbeat re-created after a dashboard delete is not a job RQ can load.
    conn.delete(Job.key_for(job_id))


def delete_session(conn: redis.Redis, config: Config, store: Storage, session_id: str,
                   owner: str | None = None) -> None:  # fmt: skip
    """Delete every job of the session, then its uploads and records."""
    session.get(conn, session_id, owner)
    for rec in record.list_for_session(conn, session_id):
        delete_job(conn, config, store, rec["id"])
    store.delete_prefix(stores.session_prefix(session_id))
    session.purge(conn, session_id)
    log.info("session=%s event=deleted", session_id)
