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

from . import record, workspace
from .config import Config
from .connection import connect
from .errors import JobCancelled, SubcueError
from .storage import Storage, open_storage
from .timeutil import now_iso

log = logging.getLogger("subcue.job")

CANCEL_WATCH_INTERVAL = 0.1
"""Seconds between flag checks while engine calls are in flight (the lost-stop-command case)."""


class JobRun:
    """One execution of a job inside a work horse."""

    def __init__(self, config: Config, conn: redis.Redis, storage: Storage, job_id: str):
        self.config, self.conn, self.storage, self.job_id = config, conn, storage, job_id
        self.tmp = workspace.path(config, job_id)
        self.record: dict = {}
        self.usage = {"engine_calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
        self.started = time.monotonic()
        self.done_before = 0
        self.done_now = 0

    @property
    def params(self) -> dict:
        """The job's parameters (target_language, engine, keep_running)."""
        return self.record.get("params") or {}

    def check(self) -> None:
        """Raise JobCancelled unless the job is still running: call before every engine call."""
        if record.should_stop(self.conn, self.job_id):
            raise JobCancelled(self.job_id)

    def set_total(self, total: int, done: int) -> None:
        """Announce how many chunks there are and how many a previous run already did."""
        self.done_before = done
        self.started = time.monotonic()
        record.update_while_running(self.conn, self.job_id, {"total": total, "done": done})

    def add_usage(self, usage: dict) -> None:
        """Count engine calls, tokens and cost (not yet written)."""
        for name, value in usage.items():
            self.usage[name] = self.usage.get(name, 0) + value
        self.usage["cost_usd"] = round(self.usage["cost_usd"], 6)

    def record_usage(self, usage: dict) -> None:
        """Count and write usage of work that produced no checkpoint (e.g. a failed chunk)."""
        self.add_usage(usage)
        record.update_while_running(self.conn, self.job_id, {"usage": self.usage})

    def chunk_done(self, index: int, payload: dict, total: int, usage: dict) -> None:
        """Store a chunk's result as a checkpoint and report progress, in one write."""
        self.done_now += 1
        self.add_usage(usage)
        done = self.done_before + self.done_now
        rate = (time.monotonic() - self.started) / self.done_now
        eta = round(rate * (total - done), 1)
        record.update_while_running(
            self.conn,
            self.job_id,
            {"done": done, "eta_s": eta, "usage": self.usage},
            chunk=(index, payload),
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
    claim = record.transition(
        conn, job_id, {record.QUEUED}, record.RUNNING,
        started_at=now_iso(), worker=os.environ.get("RQ_WORKER_ID", ""), pid=os.getpid(),
    )  # fmt: skip
    if not claim.applied:
        log.info("job=%s event=not_started status=%s", job_id, claim.previous)
        raise JobCancelled(job_id)
    run.record = record.get(conn, job_id)
    run.usage.update(run.record.get("usage") or {})
    log.info("job=%s event=started", job_id)
    try:
        run.tmp.mkdir(parents=True, exist_ok=True)
        yield run
    except JobCancelled:
        # The worker's failure hook marks it cancelled once RQ's bookkeeping is written, so a
        # delete that follows never sees RQ's job hash written back.
        workspace.remove(config, job_id)
        raise
    except SubcueError as exc:
        workspace.remove(config, job_id)
        _fail(conn, job_id, exc.to_dict())
        raise
    except Exception as exc:
        workspace.remove(config, job_id)
        _fail(conn, job_id, {"code": "internal_error", "message": f"The job failed: {exc}"[:300]})
        raise
    finally:
        workspace.remove(config, job_id)


def confirm_cancelled(conn: redis.Redis, job_id: str) -> bool:
    """Mark a job whose work has stopped as cancelled (its cancel reason is already stored)."""
    done = record.transition(
        conn, job_id, {record.CANCELLING}, record.CANCELLED,
        ended_at=now_iso(),
    )  # fmt: skip
    if done.applied:
        log.info("job=%s event=cancelled", job_id)
    return done.applied


def _fail(conn: redis.Redis, job_id: str, error: dict) -> None:
    """Mark a running job failed; a job being cancelled ends as cancelled instead."""
    if not record.transition(
        conn, job_id, {record.RUNNING}, record.FAILED, error=error, ended_at=now_iso()
    ).applied:
        confirm_cancelled(conn, job_id)
    else:
        log.info("job=%s event=failed code=%s", job_id, error["code"])
