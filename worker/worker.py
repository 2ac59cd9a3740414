"""Our RQ Worker: cleanup for killed horses, cancelled jobs shown as stopped, and the sweeper.

RQ's stop-job SIGKILLs the work horse, so the job's own `finally` never runs; cleanup happens
here, in the parent worker, after the horse is gone. A job that stopped because it was
cancelled is filed by RQ as `stopped` (never `finished`, never retried).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

import redis
from rq.command import parse_payload
from rq.job import Job, JobStatus
from rq.worker import Worker

from jobs.config import Config
from jobs.life import record, workspace
from jobs.life.delete import forget_rq_job
from jobs.life.status import Status
from jobs.storage import stores
from jobs.work import engines
from jobs.work.execution import confirm_stopped, settle

from .sweeper import Sweeper

log = logging.getLogger("subcue.worker")

REDIS_RETRY_S = 1.0
"""Seconds between looks for Redis when it went away in the middle of a job's bookkeeping."""

WARM_SHUTDOWN_S = 20.0
"""Seconds a worker may take, after SIGTERM, to put its job back on the queue and unregister.
Heroku kills a dyno 30 s after SIGTERM anyway; past this bound the worker exits by itself rather
than hang (its job is requeued first in every normal case; otherwise the next sweep settles it)."""

MARKUP_STAND_INS = str.maketrans({"<": "\u2039", ">": "\u203a"})
"""Angle brackets in a failure's text become look-alikes (‹ ›): see `markup_free`."""


def markup_free(text: str) -> str:
    """A job's traceback as RQ stores it, with no way to open an HTML tag.

    rq-dashboard (0.8/0.9) puts a job's `exc_info` into its job page as HTML, and Subcue's
    failure messages name the user's files: a file called `<img src=x onerror=...>.wav` would
    run its script in the administrator's browser. Without `<` no tag can start (an entity
    such as `&lt;` only ever decodes to text), and the look-alikes read the same in the job
    page and in the jobs list (which escapes, so `&lt;` would show as such)."""
    return text.translate(MARKUP_STAND_INS)


PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal this process gets when its parent dies (Linux)."""


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class SubcueWorker(Worker):
    """A forking worker that cleans up after stopped or crashed horses."""

    def __init__(self, *args, subcue_config: Config | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.subcue_config = subcue_config or Config.from_env()
        self.sweeper: Sweeper | None = None
        self._requeue_current = False
        self._uploads_at_stop: dict[str, list[str]] = {}
        self._shutdown_bound: threading.Timer | None = None

    def request_stop(self, signum, frame):
        """SIGTERM/SIGINT (a dyno restart): stop the current job now and queue it again.

        RQ's warm shutdown would wait for the job, and Heroku kills a dyno 30 s after SIGTERM,
        leaving the job half done. Its checkpoints make a restart cheap, so stop at once.
        """
        if self.horse_pid and not self._requeue_current:
            self._requeue_current = True
            self.kill_horse()
        if self._shutdown_bound is None:
            self._shutdown_bound = threading.Timer(WARM_SHUTDOWN_S, self._exit_now)
            self._shutdown_bound.daemon = True
            self._shutdown_bound.start()
        super().request_stop(signum, frame)

    def _exit_now(self) -> None:
        """The warm shutdown ran past WARM_SHUTDOWN_S: leave now (the horse dies with us)."""
        log.warning("event=warm_shutdown_timeout worker=%s after_s=%s", self.name,
                    WARM_SHUTDOWN_S)  # fmt: skip
        os._exit(1)

    def setup_work_horse_signals(self):
        """The horse dies with this worker, even when the worker is SIGKILLed."""
        super().setup_work_horse_signals()
        die_with_parent()

    def bootstrap(self, *args, **kwargs):
        """Register, then start the sweeper (it runs at start and periodically)."""
        super().bootstrap(*args, **kwargs)
        self.sweeper = Sweeper(self.subcue_config, worker_name=self.name)
        self.sweeper.start()

    def teardown(self):
        """Stop the sweeper with the worker; a Redis outage only skips unregistering."""
        if self.sweeper:
            self.sweeper.stop()
        try:
            super().teardown()
        except redis.ConnectionError as exc:
            # Its key expires on its own within worker_ttl, and the sweeper treats it as gone.
            log.warning("event=unregister_skipped worker=%s reason=%s", self.name, exc)

    def unsubscribe(self):
        """RQ's unsubscribe, without its minute-long wait (RQ 3.0 with redis-py 8.2).

        RQ sends UNSUBSCRIBE, then stops its pubsub thread; redis-py 8.2's `stop()` now waits
        for that thread, which by then sits in `get_message` waiting up to RQ's sleep_time (60 s)
        for a subscription that will never come: a SIGTERM'd worker hung a minute (Heroku
        SIGKILLs it at 30 s). Clearing the thread's loop flag first lets it leave as soon as
        the UNSUBSCRIBE reply arrives."""
        if self.pubsub_thread is not None:
            try:
                self.pubsub_thread.stop(timeout=0)  # clear the flag; do not wait here
            except TypeError:  # redis-py before 8: stop() takes no timeout and never waited
                self.pubsub_thread.stop()
        super().unsubscribe()

    def handle_job_failure(self, job: Job, queue, started_job_registry=None, exc_string="",
                           execution=None):  # fmt: skip
        """Clean up after a job that raised or whose horse died, let RQ file it, then record why.

        Runs in the horse when the job raised (e.g. it saw its cancel flag), and in this parent
        process when the horse was killed (stop-job) or died. What RQ stores of the failure
        holds no markup (see `markup_free`). Our record changes last: once a
        cancel, delete or retry sees `cancelled` or `failed`, the temp dir is gone and RQ has
        nothing more to write for this execution. Last, what the killed horse had uploaded to
        the engine's provider is deleted there.
        """
        config, conn = self.subcue_config, self.connection
        if workspace.remove(config, job.id):
            log.info("job=%s event=temp_removed", job.id)
        # Read before our record changes: a delete waiting for it purges the list right after.
        # ...and the names read when the cancel was confirmed early (see handle_payload).
        uploads = sorted({*engines.UploadLog(conn, job.id).names(),
                          *self._uploads_at_stop.pop(job.id, ())})  # fmt: skip
        status = record.status(conn, job.id)
        cancelled = status in (Status.CANCELLING, Status.CANCELLED) or status is None
        if cancelled:
            log.info("job=%s event=stopped status=%s", job.id, status)
            self._stopped_job_id = job.id  # RQ files it as STOPPED, and never retries it
        try:
            if cancelled and job.get_status(refresh=True) == JobStatus.CANCELED:
                # Cancelled while queued; RQ already filed it as canceled. Leave it there.
                self._stopped_job_id = None
                with conn.pipeline() as pipe:
                    self.cleanup_execution(job, pipeline=pipe, execution=execution)
                    pipe.execute()
                return
            super().handle_job_failure(
                job, queue, started_job_registry=started_job_registry,
                exc_string=markup_free(exc_string),
                execution=execution,
            )  # fmt: skip
        finally:
            ended = settle(conn, config, job.id, status, requeue=self._requeue_current)
            if cancelled or ended == Status.CANCELLED:
                self._drop_outputs(job.id)
            self._forget_if_deleted(job)
            engines.delete_uploads(config, conn, job.id, uploads)

    def handle_payload(self, message):
        """RQ's command handling; then, for a stop-job that killed our horse, the cancel is
        confirmed at once, from this (pubsub) thread.

        The horse's process group has been SIGKILLed, so none of its code runs again: its temp
        dir can go and the job can be `cancelled` without waiting the several milliseconds the
        kernel takes to tear a large process down and RQ's bookkeeping after it (which the
        main thread still does, and a retry waits for; see submit.retry).
        """
        super().handle_payload(message)
        payload = parse_payload(message)
        job_id = payload.get("job_id")
        if payload.get("command") == "stop-job" and job_id and self._stopped_job_id == job_id:
            # What the horse uploaded to the engine's provider, read before the record says
            # `cancelled`: a delete waiting for that purges the list right after.
            self._uploads_at_stop[job_id] = engines.UploadLog(self.connection, job_id).names()
            confirm_stopped(self.connection, self.subcue_config, job_id)

    def execute_job(self, job: Job, queue):
        """RQ's, except that Redis going away in the middle of its bookkeeping (after the horse
        is done) does not end the worker: RQ's loop quits on any error there, leaving the
        deployment without this worker once Redis is back. Wait for Redis instead; the job's
        own record says how it ended, and the sweeper settles anything the horse left."""
        try:
            super().execute_job(job, queue)
        except redis.ConnectionError as exc:
            log.warning("job=%s event=bookkeeping_interrupted reason=%s", job.id, exc)
            while not self._stop_requested:
                try:
                    self.connection.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(REDIS_RETRY_S)

    def monitor_work_horse(self, job: Job, queue, execution):
        """RQ's, then drop the execution hash if a heartbeat re-created it after the horse had
        cleaned it up: RQ's heartbeat HSETs it every job_monitoring_interval, so a horse still
        busy after its own cleanup (a job deleted from rq-dashboard stops itself, slowly) leaves
        a hash holding only `last_heartbeat` for a minute. RQ handles the same race for job
        hashes (rq#1450), not for executions.
        """
        try:
            super().monitor_work_horse(job, queue, execution)
        finally:
            if not self.connection.hexists(execution.key, "job_id"):
                self.connection.delete(execution.key)

    def handle_job_success(self, job: Job, queue, *args, **kwargs):
        """RQ's success bookkeeping, undone if the job was deleted while it finished."""
        try:
            super().handle_job_success(job, queue, *args, **kwargs)
        finally:
            self._forget_if_deleted(job)

    def _drop_outputs(self, job_id: str) -> None:
        """A killed horse may have stored an output before it could mark its job finished;
        a cancelled job keeps none."""
        try:
            stores.open_storage(self.subcue_config.storage_url).delete_prefix(
                stores.job_prefix(job_id)
            )
        except Exception:  # the storage is unreachable: the job's expiry removes them later
            log.exception("job=%s event=outputs_not_dropped", job_id)

    def _forget_if_deleted(self, job: Job) -> None:
        """After our last write for a job: if its record was deleted meanwhile, erase RQ's too."""
        if record.status(self.connection, job.id) is None:
            forget_rq_job(self.connection, job.id)
