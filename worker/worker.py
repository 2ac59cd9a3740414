"""Subcue's worker: what happens around a job that its own code cannot do, the sweeper, and the
LLM server's checks.

RQ's stop-job SIGKILLs the work horse, so the job's own `finally` never runs; its ending
(jobs/life/ending.py) happens here, in the parent worker, after the horse is gone. A job that
stopped because it was cancelled is filed by RQ as `stopped` (never `finished`, never retried).
The RQ methods these hooks hang on are overridden in worker/rq_adapter.py, and only there.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading

from rq.job import Job

from jobs.config import Config
from jobs.life import record, status
from jobs.life.delete import forget_rq_job
from jobs.life.ending import end, end_horse_gone
from jobs.life.status import Status
from jobs.storage import stores
from jobs.work import engines

from .llm_watch import LlmWatch
from .rq_adapter import AdaptedWorker
from .sweeper import Sweeper

log = logging.getLogger("subcue.worker")

WARM_SHUTDOWN_S = 20.0
"""Seconds a worker may take, after SIGTERM, to put its job back on the queue and unregister.
Heroku kills a dyno 30 s after SIGTERM anyway; past this bound the worker exits by itself rather
than hang (its job is requeued first in every normal case; otherwise the next sweep settles it)."""

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


class SubcueWorker(AdaptedWorker):
    """A forking worker that ends the jobs whose horse was stopped or crashed."""

    def __init__(self, *args, subcue_config: Config | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.subcue_config = subcue_config or Config.from_env()
        self.sweeper: Sweeper | None = None
        self.llm_watch: LlmWatch | None = None
        self._requeue_current = False
        self._uploads_at_stop: dict[str, list[str]] = {}
        self._shutdown_bound: threading.Timer | None = None
        self._storage: tuple[int, stores.Storage] | None = None  # (pid it was opened in, it)

    def stop_requested(self) -> None:
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

    def _exit_now(self) -> None:
        """The warm shutdown ran past WARM_SHUTDOWN_S: leave now (the horse dies with us)."""
        log.warning("event=warm_shutdown_timeout worker=%s after_s=%s", self.name,
                    WARM_SHUTDOWN_S)  # fmt: skip
        os._exit(1)

    def horse_started(self) -> None:
        """The horse dies with this worker, even when the worker is SIGKILLed."""
        die_with_parent()

    def started(self) -> None:
        """Start the sweeper (it runs at start and periodically), and the LLM server's checks
        when one is configured."""
        self.sweeper = Sweeper(self.subcue_config, worker_name=self.name)
        self.sweeper.start()
        if self.subcue_config.llm_configured:
            self.llm_watch = LlmWatch(self.subcue_config)
            self.llm_watch.start()

    def stopping(self) -> None:
        """Stop the sweeper and the LLM checks with the worker."""
        if self.sweeper:
            self.sweeper.stop()
        if self.llm_watch:
            self.llm_watch.stop()

    def failure_noticed(self, job: Job) -> dict:
        """Before RQ files a job that raised or whose horse died: what the horse had uploaded to
        the engine's provider, and whether the job stopped for a cancel. Read before our record
        changes: a delete waiting for that purges the upload list right after."""
        # ...with the names read when the cancel was confirmed early (see horse_stopped)
        early = job.id in self._uploads_at_stop  # confirmed (outputs dropped) by horse_stopped
        uploads = sorted({*engines.UploadLog(self.connection, job.id).names(),
                          *self._uploads_at_stop.pop(job.id, ())})  # fmt: skip
        was = record.status(self.connection, job.id)
        cancelled = was in (Status.CANCELLING, Status.CANCELLED) or was is None
        if cancelled:
            log.info("job=%s event=stopped status=%s", job.id, was)
        return {"cancelled": cancelled, "status": was, "uploads": uploads, "early": early}

    def failure_filed(self, job: Job, noticed: dict) -> None:
        """End the job after RQ filed it (runs in the horse when the job raised, in this process
        when the horse was killed or died). Our record changes last: once a cancel, delete or
        retry sees `cancelled` or `failed`, the temp dir is gone and RQ has nothing more to write
        for this execution. Last, what the horse had uploaded is deleted at the provider."""
        config, conn = self.subcue_config, self.connection
        ended = end_horse_gone(conn, config, job.id, noticed["status"],
                               requeue=self._requeue_current)  # fmt: skip
        if (noticed["cancelled"] or ended == Status.CANCELLED) and not noticed["early"]:
            self._drop_outputs(job.id)
        self._forget_if_deleted(job)
        engines.delete_uploads(config, conn, job.id, noticed["uploads"])

    def success_filed(self, job: Job) -> None:
        """RQ's success bookkeeping is undone if the job was deleted while it finished."""
        self._forget_if_deleted(job)

    def horse_stopped(self, job_id: str) -> None:
        """A stop-job killed our horse: none of its code runs again, so the job ends as
        cancelled at once (a retry waits for RQ's bookkeeping after it; see submit.retry)."""
        # What the horse uploaded to the engine's provider, read before the record says
        # `cancelled`: a delete waiting for that purges the list right after.
        self._uploads_at_stop[job_id] = engines.UploadLog(self.connection, job_id).names()
        # Before the record says `cancelled`: whoever reads that finds no output the horse may
        # have stored in its last moments (a burn that had just finished, say).
        self._drop_outputs(job_id)
        end(self.connection, self.subcue_config, job_id, status.CONFIRM_CANCELLED)

    def _drop_outputs(self, job_id: str) -> None:
        """A killed horse may have stored an output before it could mark its job finished;
        a cancelled job keeps none."""
        try:
            if self._storage is None or self._storage[0] != os.getpid():  # never a forked one
                self._storage = (os.getpid(), stores.open_storage(self.subcue_config.storage_url))
            self._storage[1].delete_prefix(stores.job_prefix(job_id))
        except Exception:  # the storage is unreachable: the job's expiry removes them later
            log.exception("job=%s event=outputs_not_dropped", job_id)

    def _forget_if_deleted(self, job: Job) -> None:
        """After our last write for a job: if its record was deleted meanwhile, erase RQ's too."""
        if record.status(self.connection, job.id) is None:
            forget_rq_job(self.connection, job.id)
