"""Creating jobs: the owner's limit, the record, and the RQ job (same id as the record)."""

from __future__ import annotations

import logging
import time

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.worker import Worker

from .. import keys
from ..config import Config
from ..errors import BadRequest, TooManyJobs
from . import record, session, status
from .status import Move

log = logging.getLogger("subcue.submit")

JOB_FUNCTIONS = {
    "translate": "jobs.work.translate.run",
    "analyze": "jobs.work.analyze.run",
    "detect": "jobs.library.detect.run",
    "library": "jobs.library.sidecar.run",
}
"""Job kind -> the function a worker runs, by import path (web never imports the work)."""

JOB_TIMEOUT = 6 * 3600
"""Seconds RQ lets one job run; long enough for hours of media on the local engine."""


def queue(conn: redis.Redis, config: Config) -> Queue:
    """The RQ queue Subcue's workers listen on."""
    return Queue(config.queue_name, connection=conn)


LIBRARY_KINDS = frozenset({"library"})
"""Jobs nobody waits for on a page (webhooks, watched folders): they go to a second queue."""


def queues(conn: redis.Redis, config: Config) -> list[Queue]:
    """The queues a worker drains, in order: people's jobs first, then the library's (RQ
    takes from the first queue that has a job), so a season pack arriving by webhook never
    holds up someone watching their job's page."""
    return [queue(conn, config), Queue(f"{config.queue_name}-library", connection=conn)]


def submit(
    conn: redis.Redis,
    config: Config,
    *,
    owner: str,
    session_id: str,
    kind: str,
    params: dict,
    description: str,
    limit: bool = True,
) -> str:
    """Create a queued job for the session and enqueue it; returns the job id. `description`
    is the record's line for Subcue's own pages (which show it as text); RQ gets its own.
    `limit=False`: not held to MAX_ACTIVE_JOBS_PER_OWNER (library jobs queue instead)."""
    if limit:
        check_limit(conn, config, owner)
    job_id = record.new_id()
    record.create(
        conn, job_id=job_id, owner=owner, session_id=session_id, kind=kind, params=params,
        description=description,
    )  # fmt: skip
    session.touch(conn, session_id)
    if not params.get("keep_running", True):
        renew_lease(conn, config, job_id)
    try:
        _enqueue(conn, config, kind, job_id)
    except BaseException:
        conn.delete(keys.job(job_id))
        conn.zrem(keys.owner_jobs(owner), job_id)
        conn.zrem(keys.session_jobs(session_id), job_id)
        record.forget_active(conn, job_id)
        raise
    log.info("job=%s event=enqueued kind=%s", job_id, kind)
    return job_id


def check_limit(conn: redis.Redis, config: Config, owner: str) -> None:
    """TooManyJobs when the owner already has MAX_ACTIVE_JOBS_PER_OWNER jobs in progress."""
    limit = config.max_active_jobs_per_owner
    if record.count_active(conn, owner) >= limit:
        raise TooManyJobs(f"You already have {limit} jobs queued or running; "
                          "wait for one to finish or cancel one.")  # fmt: skip


def renew_lease(conn: redis.Redis, config: Config, job_id: str) -> None:
    """The job page is open: keep a keep_running=false job alive for LEASE_SECONDS more."""
    conn.set(keys.lease(job_id), "1", ex=max(1, config.lease_seconds))


def retry(conn: redis.Redis, config: Config, job_id: str, owner: str,
          params: dict | None = None) -> None:  # fmt: skip
    """Queue a failed or cancelled job again (with new `params`, e.g. a higher cap); it
    resumes from its chunk checkpoints."""
    rec = record.get(conn, job_id, owner)
    if rec["status"] not in status.RETRY.sources:
        raise BadRequest("Only a failed or cancelled job can be retried.", code="not_retryable")
    check_limit(conn, config, owner)
    wait_for_rq_to_let_go(conn, job_id)
    if not requeue(conn, config, job_id, status.RETRY, params=params):
        raise BadRequest("The job changed meanwhile; reload and try again.", code="conflict")
    log.info("job=%s event=retried", job_id)


def wait_for_rq_to_let_go(conn: redis.Redis, job_id: str, timeout: float = 5.0) -> None:
    """Wait (briefly) while a live worker still holds the job's RQ execution.

    A cancel is confirmed as soon as the horse is killed, a few milliseconds before the worker
    files RQ's bookkeeping for it; a retry in between would have that bookkeeping land on the
    new RQ job of the same id, and a delete would see it written back after its purge. A worker
    that died holds nothing: its job is not waited for."""
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        return
    deadline = time.monotonic() + timeout
    while (job.get_status(refresh=True) == JobStatus.STARTED and job.worker_name
           and conn.exists(Worker.redis_worker_namespace_prefix + job.worker_name)
           and time.monotonic() < deadline):  # fmt: skip
        time.sleep(0.005)


def requeue(conn: redis.Redis, config: Config, job_id: str, how: Move,
            params: dict | None = None) -> bool:  # fmt: skip
    """Put the job back on the queue, as a fresh RQ job, by the move `how` (a retry, or a
    worker shutting down), with new `params` if given."""
    rec = record.get(conn, job_id)
    fields = {"params": params} if params is not None else {}
    moved = record.move(conn, job_id, how, error=None, ended_at="", started_at="", eta_s="",
                        waiting=None, stage="", **fields)  # fmt: skip
    if not moved.applied:
        return False
    if not rec["params"].get("keep_running", True):
        renew_lease(conn, config, job_id)
    try:
        Job.fetch(job_id, connection=conn).delete()  # out of RQ's failed/canceled registries
    except NoSuchJobError:
        pass
    _enqueue(conn, config, rec["kind"], job_id)
    return True


def rq_description(kind: str, job_id: str) -> str:
    """The RQ job's description, as rq-dashboard shows it: the kind and the id, never a file
    name or anything else a user chose (rq-dashboard puts a job's description into its page
    as HTML, so a file name could run script in the administrator's browser)."""
    return f"{kind} {job_id}"


def _enqueue(conn: redis.Redis, config: Config, kind: str, job_id: str) -> None:
    """The RQ job: same id as our record, only the id as argument (never a secret)."""
    chosen = queues(conn, config)[1] if kind in LIBRARY_KINDS else queue(conn, config)
    chosen.enqueue(
        JOB_FUNCTIONS[kind], job_id,
        job_id=job_id, description=rq_description(kind, job_id), job_timeout=JOB_TIMEOUT,
        result_ttl=keys.RECORD_TTL, failure_ttl=keys.RECORD_TTL,
    )  # fmt: skip
