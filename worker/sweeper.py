"""The sweeper: cleanup that must not depend on the (possibly SIGKILLed) work horse.

Every worker runs one, at start and then every `interval(config)` seconds, in a thread with its
own Redis connection. All of its writes are compare-and-sets or idempotent deletes, so any
number of workers on any number of machines can sweep at once. It:
- marks jobs whose worker died as failed (or cancelled, if a cancel was pending), and deletes
  what they had uploaded to the engine's provider (and, with the key, what a process without
  it had to leave: `keys.uploads_pending`);
- cancels keep_running=false jobs whose page lost its lease (reason `abandoned`);
- deletes jobs whose RQ job was deleted behind our back (rq-dashboard), stopping them first;
- removes this machine's temp directories of jobs that are not running here;
- once per ORPHAN_SWEEP_SECONDS across all workers, removes stored files whose session or job
  record is gone (records expire after RECORD_TTL; their uploads and outputs would stay forever).
"""

from __future__ import annotations

import logging
import os
import socket
import threading

import redis
from rq import worker_registration
from rq.job import Job
from rq.worker import Worker

from jobs import keys
from jobs.config import Config
from jobs.connection import connect
from jobs.life import record, workspace
from jobs.life.cancel import cancel
from jobs.life.delete import delete_job
from jobs.life.ending import end_horse_gone
from jobs.life.status import Status
from jobs.storage.stores import Storage, open_storage
from jobs.work import engines

log = logging.getLogger("subcue.sweeper")


def _rq_job_exists(conn: redis.Redis, job_id: str) -> bool:
    """RQ still has the job. A running horse's heartbeat re-creates a deleted job's hash with
    only `last_heartbeat` in it, so look for a field every real job has."""
    return bool(conn.hexists(Job.key_for(job_id), "data"))


def _lease_lapsed(conn: redis.Redis, job: dict) -> bool:
    """A job started from a page (keep_running=false) whose page stopped renewing its lease."""
    keep = (job.get("params") or {}).get("keep_running", True)
    return not keep and not conn.exists(keys.lease(job["id"]))


def worker_runs(conn: redis.Redis, worker_name: str, job_id: str) -> bool:
    """True if `worker_name` is alive and executing `job_id`."""
    if not worker_name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=conn)
    if worker is None:
        return False
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)  # same machine: no need to wait for its key to expire
        except ProcessLookupError:
            _forget_dead(worker)
            return False
        except PermissionError:
            pass
    return worker.get_current_job_id() == job_id


def _forget_dead(worker: Worker) -> None:
    """Unregister a worker whose process is gone, rather than let its key live out its TTL
    (up to a minute): until then a retry of its job would wait for it to let go of the job,
    and rq-dashboard would list it as alive."""
    with worker.connection.pipeline() as pipe:
        worker_registration.unregister(worker, pipe)
        pipe.delete(worker.key)
        pipe.execute()
    log.info("event=dead_worker_unregistered worker=%s pid=%s", worker.name, worker.pid)


OWNED_PREFIXES = {"sessions/": keys.session, "jobs/": keys.job}
"""Storage prefixes whose next path part is an id, and the Redis record that id must have."""


def sweep_orphans(conn: redis.Redis, store: Storage) -> int:
    """Delete everything stored under `sessions/<id>/` or `jobs/<id>/` whose record no longer
    exists; returns how many files went. Safe beside uploads in progress: a session's and a
    job's record is written before their first file, and a deleted one is never written again."""
    removed = 0
    for prefix, record_key in OWNED_PREFIXES.items():
        ids = {entry.key[len(prefix) :].split("/", 1)[0] for entry in store.list(prefix)}
        for owned_id in sorted(ids):
            if owned_id and not conn.exists(record_key(owned_id)):
                gone = store.delete_prefix(f"{prefix}{owned_id}/")
                removed += gone
                log.info("event=orphans_swept prefix=%s%s files=%d", prefix, owned_id, gone)
    return removed


def interval(config: Config) -> float:
    """Seconds between sweeps: often enough that a lapsed lease is noticed within a third of it."""
    return max(1.0, min(config.sweep_interval_seconds, config.lease_seconds / 3))


def sweep(conn: redis.Redis, config: Config, suspects: set[str] | None = None) -> dict:
    """One pass; returns counts of what it did (for logs and tests).

    `suspects` carries, from one pass to the next, jobs whose RQ hash was missing: a job is only
    taken as deleted from the dashboard when it is missing twice, which rules out the moment
    between creating our record and enqueueing it.
    """
    counts = {"failed": 0, "cancelled": 0, "abandoned": 0, "deleted": 0, "temp_removed": 0,
              "uploads_retried": 0, "orphans_removed": 0}  # fmt: skip
    suspects = set() if suspects is None else suspects
    missing_now = set()
    store = None
    for job_id in record.active_ids(conn):
        try:
            job = record.get(conn, job_id)
        except Exception:
            record.forget_active(conn, job_id)
            continue
        if job["status"] in (Status.QUEUED, Status.RUNNING) and not _rq_job_exists(conn, job_id):
            missing_now.add(job_id)  # RQ no longer knows its execution either: judge it next pass
            if job_id in suspects:
                store = store or open_storage(config.storage_url)
                delete_job(conn, config, store, job_id)
                counts["deleted"] += 1
            continue
        if job["status"] in (Status.QUEUED, Status.RUNNING) and _lease_lapsed(conn, job):
            cancel(conn, config, job_id, reason="abandoned")
            counts["abandoned"] += 1
            log.info("job=%s event=abandoned", job_id)
            continue
        if job["status"] in (Status.RUNNING, Status.CANCELLING):
            if worker_runs(conn, job.get("worker", ""), job_id):
                continue
            uploads = engines.UploadLog(conn, job_id).names()  # before a delete can purge it
            ended = end_horse_gone(conn, config, job_id, job["status"])
            if ended == Status.CANCELLED:
                counts["cancelled"] += 1
            elif ended == Status.FAILED:
                counts["failed"] += 1
                log.warning("job=%s event=worker_lost worker=%s", job_id, job.get("worker"))
            engines.delete_uploads(config, conn, job_id, uploads)
    suspects.clear()
    suspects.update(missing_now)
    counts["uploads_retried"] = engines.delete_pending_uploads(config, conn)
    for job_id in workspace.present(config):
        status = record.status(conn, job_id)
        if status in (Status.RUNNING, Status.CANCELLING):
            continue
        counts["temp_removed"] += workspace.remove(config, job_id)
        log.info("job=%s event=temp_swept status=%s", job_id, status)
    # listing all of storage is not free (a bucket bills it): one worker per period does it
    period = max(1, int(config.orphan_sweep_seconds))
    if conn.set(keys.orphan_sweep(), socket.gethostname(), nx=True, ex=period):
        counts["orphans_removed"] = sweep_orphans(conn, store or open_storage(config.storage_url))
    return counts


class Sweeper:
    """Runs sweep() in a daemon thread with its own connection."""

    def __init__(self, config: Config, worker_name: str = ""):
        self.config = config
        self.worker_name = worker_name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="subcue-sweeper", daemon=True)

    def start(self) -> None:
        """Sweep now and then every config.sweep_interval_seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()

    def _loop(self) -> None:
        """Sweep until stopped; a Redis outage only skips a pass."""
        conn = connect(self.config)
        suspects: set[str] = set()
        while not self._stop.is_set():
            try:
                counts = sweep(conn, self.config, suspects)
                if any(counts.values()):
                    log.info("event=swept worker=%s %s", self.worker_name, counts)
            except redis.RedisError as exc:
                log.warning("event=sweep_skipped reason=%s", exc)
            except Exception:
                log.exception("event=sweep_failed")  # never let one bad record stop sweeping
            self._stop.wait(interval(self.config))
