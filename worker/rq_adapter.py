"""Every override of RQ's Worker internals, in one place (written against rq 3.0.0).

RQ's forking Worker has no hooks for what Subcue needs around a job, so the methods below
override its internal ones. Each says which of RQ's behaviours it changes and why, and hands
Subcue's part to a named hook that `worker/worker.py` fills in; nothing else overrides a method
of RQ's. Upgrading RQ means reading this file against RQ's `worker/base.py` and
`worker/worker_classes.py`: every method overridden here must still exist, take the same
arguments and run at the same point of a job's life (the test suite runs real workers through
each of them: a killed horse, a dead worker, SIGTERM, a Redis outage, a dashboard delete).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import time

import redis
from rq.command import parse_payload
from rq.job import Job, JobStatus
from rq.worker import Worker

log = logging.getLogger("subcue.worker")

REDIS_RETRY_S = 1.0
"""Seconds between looks for Redis when it went away in the middle of a job's bookkeeping."""

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


class AdaptedWorker(Worker):
    """RQ's forking Worker with the internals Subcue changes; subclasses fill in the hooks."""

    # -- Subcue's hooks (the subclass fills them in) ------------------------------------------

    def stop_requested(self) -> None:
        """SIGTERM or SIGINT arrived (before RQ's warm shutdown starts)."""

    def horse_started(self) -> None:
        """Runs in a new work horse, right after RQ set up its signals."""

    def started(self) -> None:
        """The worker is registered and about to take jobs."""

    def stopping(self) -> None:
        """The worker is about to unregister."""

    def failure_noticed(self, job: Job) -> dict:
        """A job raised, or its horse died: what to remember before RQ files the failure. The
        answer's `cancelled` says whether the job stopped for a cancel."""
        return {"cancelled": False}

    def failure_filed(self, job: Job, noticed: dict) -> None:
        """RQ has filed the failure (or the cancel) of a job: end it on our side."""

    def success_filed(self, job: Job) -> None:
        """RQ has filed a job as finished."""

    def horse_stopped(self, job_id: str) -> None:
        """A stop-job command killed this worker's horse (its process group is SIGKILLed)."""

    # -- RQ's methods ------------------------------------------------------------------------

    def request_stop(self, signum, frame):
        """rq 3.0: the first SIGTERM/SIGINT starts a warm shutdown that waits for the current
        job to finish. Subcue's hook comes first, so it can stop the job at once (Heroku kills
        a dyno 30 s after SIGTERM)."""
        self.stop_requested()
        super().request_stop(signum, frame)

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL):
        """rq 3.0 kills `os.getpgid(horse_pid)`, the group the horse makes for itself with
        `setpgrp()` right after the fork. A stop-job or SIGTERM that came before that (a cancel
        between RQ taking the job and the fork returning, while `horse_pid` is still 0, or before
        the new horse first ran) made RQ kill the worker's own group: the worker and whatever
        started it in that group (honcho, a test runner) died at once. Kill a group only when it
        is the horse's own; a horse not yet in its own group has started nothing, so killing
        the process is enough; with no horse there is nothing to kill (the job's claim then
        sees the cancel flag)."""
        pid = self.horse_pid
        if not pid:
            return
        try:
            group = os.getpgid(pid)
            if group == os.getpgrp():
                os.kill(pid, sig)
            else:
                os.killpg(group, sig)
            self.log.info("Worker %s: killed horse pid %s", self.name, pid)
        except OSError as exc:
            if exc.errno != errno.ESRCH:  # "no such process": it had already ended
                raise

    def setup_work_horse_signals(self):
        """rq 3.0 runs this in the new horse only, after the fork: the place for per-horse
        process settings (Subcue's: the horse dies with its worker)."""
        super().setup_work_horse_signals()
        self.horse_started()

    def bootstrap(self, *args, **kwargs):
        """rq 3.0 registers the worker here, once, before its loop: start Subcue's threads after."""
        super().bootstrap(*args, **kwargs)
        self.started()

    def teardown(self):
        """rq 3.0 unregisters here and raises when Redis is gone, which ended the process with a
        traceback during an outage. Its key expires on its own within worker_ttl (and the
        sweeper treats such a worker as gone), so an outage only skips unregistering."""
        self.stopping()
        try:
            super().teardown()
        except redis.ConnectionError as exc:
            log.warning("event=unregister_skipped worker=%s reason=%s", self.name, exc)

    def unsubscribe(self):
        """rq 3.0 sends UNSUBSCRIBE, then stops its pubsub thread; redis-py 8.2's `stop()` waits
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
        """rq 3.0 files a failed job as `failed` (and may retry it), unless `_stopped_job_id`
        names it, then as `stopped` (never retried): a job that stopped for a cancel is filed
        so. A job cancelled while queued that a worker had popped is already `canceled` in
        RQ: only its execution is cleaned up, so RQ's canceled registry keeps it. What RQ
        stores of the failure holds no markup (`markup_free`). Subcue's hook runs last, in the
        horse when the job raised and in this process when the horse was killed or died."""
        noticed = self.failure_noticed(job)
        if noticed["cancelled"]:
            self._stopped_job_id = job.id
        try:
            if noticed["cancelled"] and job.get_status(refresh=True) == JobStatus.CANCELED:
                self._stopped_job_id = None
                with self.connection.pipeline() as pipe:
                    self.cleanup_execution(job, pipeline=pipe, execution=execution)
                    pipe.execute()
                return
            super().handle_job_failure(
                job, queue, started_job_registry=started_job_registry,
                exc_string=markup_free(exc_string), execution=execution,
            )  # fmt: skip
        finally:
            self.failure_filed(job, noticed)

    def handle_job_success(self, job: Job, queue, *args, **kwargs):
        """rq 3.0's success bookkeeping, then Subcue's hook (whatever RQ raised)."""
        try:
            super().handle_job_success(job, queue, *args, **kwargs)
        finally:
            self.success_filed(job)

    def handle_payload(self, message):
        """rq 3.0 handles a command (stop-job: SIGKILL the horse's process group and set
        `_stopped_job_id`) on its pubsub thread; the horse is then gone for good, so Subcue's
        hook runs at once, from this thread, without waiting the several milliseconds the
        kernel takes to tear a large process down and RQ's bookkeeping after it."""
        super().handle_payload(message)
        payload = parse_payload(message)
        job_id = payload.get("job_id")
        if payload.get("command") == "stop-job" and job_id and self._stopped_job_id == job_id:
            self.horse_stopped(job_id)

    def execute_job(self, job: Job, queue):
        """rq 3.0's loop quits on any error in a job's bookkeeping (after the horse is done),
        so Redis going away then left the deployment without this worker once Redis was back.
        Wait for Redis instead; the job's own record says how it ended, and the sweeper ends
        anything the horse left."""
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
        """rq 3.0's heartbeat HSETs the execution hash every job_monitoring_interval, so a horse
        still busy after its own cleanup (a job deleted from rq-dashboard stops itself, slowly)
        re-created a hash holding only `last_heartbeat` for a minute. RQ handles the same race
        for job hashes (rq#1450), not for executions: drop such a hash once the horse is done."""
        try:
            super().monitor_work_horse(job, queue, execution)
        finally:
            if not self.connection.hexists(execution.key, "job_id"):
                self.connection.delete(execution.key)
