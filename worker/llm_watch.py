"""The LLM server as the workers see it: a bad LLM_* setting is said at start, not by a job
that fails late.

A worker with LLM_* set checks the server (jobs/work/engines/llm_client.check: it answers, it
serves LLM_MODEL) as it starts, then every CHECK_SECONDS, or every sweep while the check fails
(a fix is noticed within seconds). It logs one line for the first verdict and one for each change,
and keeps the verdict in Redis (keys.llm_health) for the web process, which never imports the
`openai` client: /healthz shows the verdict, and translator=llm jobs are refused while it fails.
The checks run in a thread of their own, so a server that never answers cannot delay a sweep.

No work horse is forked while a check runs: the `openai` client imports some of its modules on
first use, and a horse forked in the middle of such an import inherits the module half made and
hangs on its own import of it (seen: a job stuck at its first LLM call). A fork waits for a
check at most llm_client.CHECK_TIMEOUT_S (a server that does not answer); a check takes a few
milliseconds otherwise, and a slow one is not repeated before CHECK_SECONDS.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import redis

from jobs import keys
from jobs.config import Config
from jobs.connection import connect
from jobs.work.engines import llm_client

from .sweeper import interval

log = logging.getLogger("subcue.llm")

CHECK_SECONDS = 60.0
"""Seconds between checks while the server is fine (or a failing check was slow)."""

SLOW_CHECK_S = 1.0
"""A check that took longer held forks that long: the next one waits CHECK_SECONDS."""


def describe(verdict: dict) -> str:
    """The one line a person reads in the worker's log."""
    if verdict["ok"]:
        note = f" ({verdict['note']})" if verdict.get("note") else ""
        return f"LLM ok: model {verdict['model']} at {verdict['base_url']}{note}"
    return (f"LLM misconfigured: {verdict['error']} — jobs with translator=llm will be refused "
            "until this is fixed")  # fmt: skip


def store(conn: redis.Redis, config: Config, verdict: dict) -> None:
    """Keep the verdict where the web reads it, for LLM_HEALTH_TTL."""
    key = keys.llm_health(config.llm_id)
    conn.set(key, json.dumps(verdict), ex=keys.LLM_HEALTH_TTL)


def changed(before: dict | None, now: dict) -> bool:
    """Whether a verdict says something new (the log says each thing once)."""
    said = ("ok", "error", "note")
    return before is None or any(before.get(k) != now.get(k) for k in said)


class LlmWatch:
    """Checks the LLM server now and then in a daemon thread with its own Redis connection."""

    def __init__(self, config: Config):
        self.config = config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="subcue-llm-watch", daemon=True)
        self._checking = threading.Lock()  # held by a check, and by a fork (module docstring)

    def start(self) -> None:
        """Check now, then periodically; from now on a fork waits for a check in progress."""
        os.register_at_fork(before=self._checking.acquire,
                            after_in_parent=self._checking.release,
                            after_in_child=self._checking.release)  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current check."""
        self._stop.set()

    def _loop(self) -> None:
        """Check until stopped; a Redis outage only skips storing one verdict."""
        conn = connect(self.config)
        said: dict | None = None
        while not self._stop.is_set():
            verdict, began = {"ok": False}, time.monotonic()
            try:
                with self._checking:
                    verdict = llm_client.check(self.config)
                if changed(said, verdict):
                    log.log(logging.INFO if verdict["ok"] else logging.ERROR, describe(verdict))
                    said = verdict
                store(conn, self.config, verdict)
            except redis.RedisError as exc:
                log.warning("event=llm_health_not_stored reason=%s", exc)
            except Exception:  # a bug in one check must not end the checking
                log.exception("event=llm_check_failed")
            slow = time.monotonic() - began > SLOW_CHECK_S
            self._stop.wait(CHECK_SECONDS if verdict["ok"] or slow else interval(self.config))
