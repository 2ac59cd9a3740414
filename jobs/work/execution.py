"""What every job does around its work: claim, temp dir, cancel checks, progress, end states.

A job only starts if it can move its record from `queued` to `running` (a compare-and-set that a
cancel cannot interleave with), so a job cancelled while queued never does anything, even when
a worker had already popped it. Inside, `check()` raises JobCancelled as soon as the record is
no longer `running`: cancel requested, deleted, or expired.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager

import redis

from .. import keys
from ..config import Config
from ..connection import connect, decoded
from ..errors import JobCancelled, JobFailed, SubcueError, without_paths
from ..life import record, status, submit, workspace
from ..life.status import Status
from ..spend import ledger
from ..spend.usage import Usage
from ..storage.stores import Storage, open_storage
from ..timeutil import iso_in, now_iso
from . import engines

log = logging.getLogger("subcue.job")

CANCEL_WATCH_INTERVAL = 0.1
"""Seconds between flag checks while engine calls are in flight (the lost-stop-command case)."""

WORKER_DIED = {
    "code": "worker_died",
    "message": "The worker running this job stopped unexpectedly; retry it to resume.",
}
"""The error of a job whose work horse or worker died under it."""


class JobRun:
    """One execution of a job inside a work horse; engines see it as their `Calls`."""

    def __init__(self, config: Config, conn: redis.Redis, storage: Storage, job_id: str):
        self.config, self.conn, self.storage, self.job_id = config, conn, storage, job_id
        self.tmp = workspace.path(config, job_id)
        self.uploads = engines.UploadLog(conn, job_id)
        self.record: dict = {}
        self.usage = Usage()
        self.started = time.monotonic()
        self.done_before = 0
        self.done_now = 0
        self.in_flight = 0  # reservations of paid calls not settled yet
        self._settled: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._waiting_until: float | None = None

    @property
    def params(self) -> dict:
        """The job's parameters (target_language, engine, keep_running, style)."""
        return self.record.get("params") or {}

    def check(self) -> None:
        """Raise JobCancelled unless the job is still running: call before every engine call."""
        if record.should_stop(self.conn, self.job_id):
            raise JobCancelled(self.job_id)

    before_call = check

    @property
    def owner(self) -> str:
        """Whose job this is (whose budget pays)."""
        return self.record.get("owner", "")

    async def reserve(self, amount: int) -> ledger.Hold:
        """Reserve `amount` micro-dollars before a paid call. When the job's cap or a budget
        has no room, wait while this job's own calls in flight settle (they usually cost less
        than reserved); with none in flight, the job fails with `budget_exhausted`."""
        cap = ledger.micros(self.params.get("max_cost_usd"))
        while True:
            settled = self._settled_event()
            settled.clear()
            found = ledger.reserve(self.conn, self.config, self.job_id, self.owner, amount, cap)
            if isinstance(found, ledger.Hold):
                self.in_flight += 1
                return found
            if self.in_flight == 0:
                paid, _ = ledger.job_spent(self.conn, self.job_id)
                message = ledger.refusal_message(found, paid, amount)
                raise JobFailed(message, code=ledger.BudgetExhausted.code)
            await settled.wait()

    def billed(self, usage: Usage, hold: ledger.Hold | None = None) -> None:
        """Count what one engine request used, as soon as it is known (failed requests too),
        and settle its reservation to that cost."""
        self.usage += usage
        record.update_while_running(self.conn, self.job_id, {"usage": self.usage.as_dict()})
        cost = round(usage.cost_usd * 1e6)
        ledger.settle(self.conn, self.job_id, self.owner, hold, cost,
                     engine=self.params.get("engine", ""), usage=usage)  # fmt: skip
        if hold is not None:
            self.in_flight -= 1
            self._settled_event().set()

    def waiting(self, seconds: float | None) -> None:
        """Say on the record that the job waits for the engine's quota (None: no longer)."""
        if seconds is None:
            if self._waiting_until is not None:
                self._waiting_until = None
                record.update_while_running(self.conn, self.job_id, {"waiting": None})
            return
        until = time.time() + seconds
        if self._waiting_until is not None and abs(until - self._waiting_until) < 3:
            return  # said already, near enough
        self._waiting_until = until
        about = max(1, round(seconds))
        record.update_while_running(self.conn, self.job_id, {"waiting": {
            "reason": "engine_quota", "until": iso_in(seconds), "seconds": about,
            "message": f"waiting for Gemini quota, about {about} s"}})  # fmt: skip

    def _settled_event(self) -> asyncio.Event:
        """Set whenever one of this job's reservations settles (one event per event loop)."""
        loop = asyncio.get_running_loop()
        if self._settled is None or self._settled[0] is not loop:
            self._settled = (loop, asyncio.Event())
        return self._settled[1]

    def set_total(self, total: int, done: int) -> None:
        """Announce how much work there is (chunks, then text batches, or seconds to burn) and
        how much of it is done already; progress is counted from here."""
        self.done_before, self.done_now = done, 0
        self.started = time.monotonic()
        record.update_while_running(self.conn, self.job_id, {"total": total, "done": done})

    def progressed(self, done: int, total: int) -> None:
        """Report progress on work that is not chunks (a burn: seconds of video done)."""
        elapsed = time.monotonic() - self.started
        eta = round(elapsed / done * (total - done), 1) if done else ""  # "": not known yet
        record.update_while_running(self.conn, self.job_id, {"done": done, "eta_s": eta})

    def chunk_done(self, index: int, payload: dict, total: int) -> None:
        """Store a chunk's result as a checkpoint and report progress, in one write."""
        self.done_now += 1
        done = self.done_before + self.done_now
        rate = (time.monotonic() - self.started) / self.done_now
        eta = round(rate * (total - done), 1)
        record.update_while_running(
            self.conn, self.job_id, {"done": done, "eta_s": eta}, chunk=(index, payload)
        )
        log.info("job=%s event=chunk_done chunk=%d done=%d/%d", self.job_id, index, done, total)


async def watched(job: JobRun, work: Awaitable):
    """Await `work`, cancelling it (which aborts in-flight requests) once the flag is seen."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.create_task(_watch_cancel(job))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher in done:
            watcher.result()  # raises JobCancelled
        return task.result()
    finally:
        for pending in (watcher, task):
            pending.cancel()
        await asyncio.gather(watcher, task, return_exceptions=True)


async def _watch_cancel(job: JobRun) -> None:
    """Raise JobCancelled as soon as the flag is seen, even mid-call (a lost stop command)."""
    while True:
        await asyncio.sleep(CANCEL_WATCH_INTERVAL)
        job.check()


@contextmanager
def job_run(job_id: str, config: Config | None = None) -> Iterator[JobRun]:
    """Claim the job, give it a temp dir, and record how it ended; the temp dir never survives."""
    config = config or Config.from_env()
    conn = connect(config)
    run = JobRun(config, conn, open_storage(config.storage_url), job_id)
    claim = record.move(
        conn, job_id, status.CLAIM,
        started_at=now_iso(), worker=os.environ.get("RQ_WORKER_ID", ""), pid=os.getpid(),
    )  # fmt: skip
    if not claim.applied:
        log.info("job=%s event=not_started status=%s", job_id, claim.previous)
        raise JobCancelled(job_id)
    run.record = record.get(conn, job_id)
    run.usage = Usage.from_dict(run.record.get("usage"))
    log.info("job=%s event=started", job_id)
    failure = None
    try:
        run.tmp.mkdir(parents=True, exist_ok=True)
        yield run
    except JobCancelled:
        # The worker's failure hook marks it cancelled once RQ's bookkeeping is written, so a
        # delete that follows never sees RQ's job hash written back.
        raise
    except SubcueError as exc:
        failure = exc.to_dict()
        raise
    except Exception as exc:
        failure = {"code": "internal_error", "message": f"The job failed: {exc}"[:300]}
        raise
    finally:
        workspace.remove(config, job_id)  # gone before the record says how the job ended
        ledger.release_all(conn, job_id, run.owner)  # calls cut short by an error or a cancel
        if failure is not None:  # said to users: no path of this server in it
            _fail(conn, job_id, failure | {"message": without_paths(failure["message"])})


def settle(conn: redis.Redis, config: Config, job_id: str, was: str | None, *,
           requeue: bool = False) -> str | None:  # fmt: skip
    """End the record of a job whose work horse is gone (killed, crashed, or its whole worker
    died), given the status it had when the horse was found gone: cancelled if a cancel was
    pending, back on the queue if `requeue` (a worker shutting down), else failed as
    `worker_died`. The worker's failure hook and the sweeper both call this. Returns the new
    status, or None when the record had already ended (or changed meanwhile)."""
    _release(conn, job_id)
    if was in (Status.CANCELLING, Status.CANCELLED, None):
        return Status.CANCELLED if confirm_cancelled(conn, job_id) else None
    if was != Status.RUNNING:
        return None  # it ended by itself (finished or failed) before the horse went
    if requeue:
        if submit.requeue(conn, config, job_id, status.REQUEUE):
            log.info("job=%s event=requeued reason=worker_shutdown", job_id)
            return Status.QUEUED
        return None
    if record.move(conn, job_id, status.FAIL, error=WORKER_DIED, ended_at=now_iso()).applied:
        log.warning("job=%s event=worker_died", job_id)
        return Status.FAILED
    return None


def confirm_stopped(conn: redis.Redis, config: Config, job_id: str) -> bool:
    """A job's horse was SIGKILLed (none of its code runs again): remove its temp dir, then
    confirm a pending cancel. Returns whether the job is now cancelled by this call."""
    workspace.remove(config, job_id)
    _release(conn, job_id)
    return confirm_cancelled(conn, job_id)


def _release(conn: redis.Redis, job_id: str) -> None:
    """Release what a job's gone horse held reserved for calls that never got an answer."""
    owner = conn.hget(keys.job(job_id), "owner")
    if owner is not None and (count := ledger.release_all(conn, job_id, decoded(owner))):
        log.info("job=%s event=reservations_released count=%d", job_id, count)


def confirm_cancelled(conn: redis.Redis, job_id: str) -> bool:
    """Mark a job whose work has stopped as cancelled (its cancel reason is already stored)."""
    done = record.move(conn, job_id, status.CONFIRM_CANCELLED, ended_at=now_iso())
    if done.applied:
        log.info("job=%s event=cancelled", job_id)
    return done.applied


def _fail(conn: redis.Redis, job_id: str, error: dict) -> None:
    """Mark a running job failed; a job being cancelled ends as cancelled instead."""
    if not record.move(conn, job_id, status.FAIL, error=error, ended_at=now_iso()).applied:
        confirm_cancelled(conn, job_id)
    else:
        log.info("job=%s event=failed code=%s", job_id, error["code"])
