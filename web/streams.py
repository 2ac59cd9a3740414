"""One Redis subscription per web process, fanned out to every event stream watching a job.

Job records announce each change on `subcue:changes` (jobs/keys.py). A web process subscribes
once, in a background thread (a greenlet under gunicorn's gevent workers), and wakes the
streams watching that job; an idle stream waits on its own event and costs memory only: no
Redis command and no thread of its own. If the subscription drops, every stream is woken (so
each reads its job once) and the subscription is made again.

Streams are also counted per owner: an owner may hold at most MAX_STREAMS_PER_OWNER at once
in one web process, and /healthz reports how many are open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from jobs import keys
from jobs.errors import SubcueError

log = logging.getLogger("subcue.streams")

RESUBSCRIBE_SECONDS = 1.0
"""Pause before subscribing again after the subscription broke (Redis restarting, say)."""


class TooManyStreams(SubcueError):
    """429: the owner already holds as many event streams as one web process allows."""

    status, code = 429, "too_many_streams"


class Hub:
    """The process's subscription to job changes, and the streams waiting on them."""

    def __init__(self, conn: redis.Redis, max_per_owner: int):
        self.conn = conn
        self.max_per_owner = max_per_owner
        self._lock = threading.Lock()
        self._waiting: dict[str, set[threading.Event]] = defaultdict(set)
        self._per_owner: dict[str, int] = defaultdict(int)
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def open_streams(self) -> int:
        """How many event streams this process holds open."""
        with self._lock:
            return sum(self._per_owner.values())

    @contextmanager
    def watch(self, job_id: str, owner: str) -> Iterator[threading.Event]:
        """An event that is set whenever the job's record changes (clear it after reading);
        TooManyStreams if the owner holds too many streams already."""
        self._start()
        changed = threading.Event()
        with self._lock:
            if self._per_owner[owner] >= self.max_per_owner:
                raise TooManyStreams(
                    f"You have {self.max_per_owner} live job pages open already; this one "
                    "will refresh itself every few seconds instead."
                )
            self._per_owner[owner] += 1
            self._waiting[job_id].add(changed)
            total = sum(self._per_owner.values())
        log.info("event=stream_opened job=%s streams=%d", job_id, total)
        try:
            yield changed
        finally:
            with self._lock:
                self._per_owner[owner] -= 1
                if not self._per_owner[owner]:
                    del self._per_owner[owner]
                self._waiting[job_id].discard(changed)
                if not self._waiting[job_id]:
                    del self._waiting[job_id]
                total = sum(self._per_owner.values())
            log.info("event=stream_closed job=%s streams=%d", job_id, total)

    def wait_until_listening(self, timeout: float) -> bool:
        """True once the subscription is in place (so no change can be missed from then on)."""
        self._start()
        return self._listening.wait(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen, name="subcue-changes",
                                                daemon=True)  # fmt: skip
                self._thread.start()

    def _listen(self) -> None:
        """Forever: subscribe, then wake the watchers of every job announced. An outage is
        logged when it starts and when it ends, not at every attempt in between."""
        lost = False
        while True:
            pubsub = self.conn.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(keys.changes())
                self._listening.set()
                if lost:
                    log.info("event=changes_subscription_restored")
                    lost = False
                self._wake_all()  # anything that changed while we were not listening
                for message in pubsub.listen():
                    if message["type"] == "message":
                        self._wake(message["data"].decode())
            except redis.RedisError as exc:
                if not lost:
                    log.warning("event=changes_subscription_lost error=%s", exc)
                lost = True
            finally:
                self._listening.clear()
                try:
                    pubsub.close()
                except redis.RedisError:
                    pass
            self._wake_all()  # each stream reads its job (and finds Redis down, or not)
            time.sleep(RESUBSCRIBE_SECONDS)

    def _wake(self, job_id: str) -> None:
        with self._lock:
            waiting = list(self._waiting.get(job_id, ()))
        for event in waiting:
            event.set()

    def _wake_all(self) -> None:
        with self._lock:
            waiting = [e for events in self._waiting.values() for e in events]
        for event in waiting:
            event.set()
