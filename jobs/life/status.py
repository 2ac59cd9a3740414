"""A job's statuses and the moves between them: the one place either is spelled out.

    queued ──claim──▶ running ──finish──▶ finished
      │  ▲              │ │
      │  └──requeue─────┘ └──fail──▶ failed ──retry──▶ queued
      │                 │
      │          request_cancel
      │                 ▼
      │             cancelling ──confirm_cancelled──▶ cancelled ──retry──▶ queued
      └───────────cancel_queued──────────────────────▲

Adding a status is one member here and the moves that enter and leave it. Everything else
(the record's Lua, the API's schema, the pages' badges and words) is derived from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a job is; the value is what the API and the record say."""

    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """A status the job never leaves by itself (only an explicit retry requeues it)."""
        return self in TERMINAL

    @property
    def active(self) -> bool:
        """A status that counts against the owner's limit and that the sweeper watches."""
        return self not in TERMINAL

    @property
    def word(self) -> str:
        """How a page shows it."""
        return WORDS[self]


TERMINAL = frozenset({Status.CANCELLED, Status.FINISHED, Status.FAILED})
ACTIVE = frozenset(Status) - TERMINAL
WORDS = {
    Status.QUEUED: "queued",
    Status.RUNNING: "running",
    Status.CANCELLING: "cancelling…",
    Status.CANCELLED: "cancelled",
    Status.FINISHED: "finished",
    Status.FAILED: "failed",
}


@dataclass(frozen=True)
class Move:
    """A named transition: from any of `sources` to `target`, or not at all."""

    name: str
    sources: frozenset[Status]
    target: Status


def _move(name: str, sources: set[Status], target: Status) -> Move:
    return Move(name, frozenset(sources), target)


CLAIM = _move("claim", {Status.QUEUED}, Status.RUNNING)
FINISH = _move("finish", {Status.RUNNING}, Status.FINISHED)
FAIL = _move("fail", {Status.RUNNING}, Status.FAILED)
CANCEL_QUEUED = _move("cancel_queued", {Status.QUEUED}, Status.CANCELLED)
REQUEST_CANCEL = _move("request_cancel", {Status.RUNNING}, Status.CANCELLING)
CONFIRM_CANCELLED = _move("confirm_cancelled", {Status.CANCELLING}, Status.CANCELLED)
REQUEUE = _move("requeue", {Status.RUNNING}, Status.QUEUED)
"""A worker shutting down puts its running job back on the queue."""
RETRY = _move("retry", {Status.FAILED, Status.CANCELLED}, Status.QUEUED)
MOVES = (CLAIM, FINISH, FAIL, CANCEL_QUEUED, REQUEST_CANCEL, CONFIRM_CANCELLED, REQUEUE, RETRY)


def for_pages() -> dict[str, dict]:
    """Every status with its word and kind, as the pages read them."""
    return {s.value: {"word": s.word, "active": s.active, "terminal": s.terminal} for s in Status}
