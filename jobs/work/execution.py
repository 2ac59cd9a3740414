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

from ..config import Config
from ..connection import connect
from ..errors import JobCancelled, JobFailed, SubcueError, without_paths
from ..life import ending, record, status, workspace
from ..spend import ledger
from ..spend.usage import Usage
from ..storage.stores import Storage, open_storage
from ..timeutil import iso_in, now_iso
from . import engines

log = logging.getLogger("subcue.job")

CANCEL_WATCH_INTERVAL = 0.1
"""Seconds between flag checks while engine calls are in flight (the lost-stop-command case)."""


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

    def billed(self, usage: Usage, hold: ledger.Hold | None = None,
               engine: str | None = None) -> None:  # fmt: skip
        """Count what one engine request used, as soon as it is known (failed requests too),
        and settle its reservation to that cost, under `engine` (default: the job's engine; a
        translator names itself)."""
        self.usage += usage
        record.update_while_running(self.conn, self.job_id, {"usage": self.usage.as_dict()})
        cost = round(usage.cost_usd * 1e6)
        ledger.settle_reservation(self.conn, self.job_id, self.owner, hold, cost,
                     engine=engine or self.params.get("engine", ""), usage=usage)  # fmt: skip
        if hold is not None:
            self.in_flight -= 1
            self._settled_event().set()

    def waiting(self, seconds: float | None, who: str = "Gemini") -> None:
        """Say on the record that the job waits for `who`'s quota (None: no longer)."""
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
            "message": f"waiting for {who} quota, about {about} s"}})  # fmt: skip

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
        if failure is None:  # finished (finish() ended it) or cancelled (the worker's hook ends it)
            ending.end(conn, config, job_id, owner=run.owner)
        else:  # said to users: no path of this server in it
            failure |= {"message": without_paths(failure["message"])}
            ending.end_failed(conn, config, job_id, failure, owner=run.owner)
