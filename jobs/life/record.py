"""Job records in Redis: the one place that reads and writes a job's status and progress.

A record is the hash `keys.job(id)`. Status changes go through `move()`: one of the moves that
`jobs/life/status.py` names, made as a compare-and-set in Lua (`lua/move.lua`), so a cancel and a
worker's claim can never both win. Writes from a job (progress, checkpoints, usage) only land
while the job is running (`lua/write_while.lua`), so a deleted or cancelled job's record is
never recreated by a horse that has not noticed yet.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass

import redis

from .. import keys
from ..connection import decoded
from ..errors import NotFound
from ..scripts import script
from ..timeutil import now_iso
from .status import Move, Status


@dataclass(frozen=True)
class Transition:
    """The outcome of a compare-and-set: whether it applied, and the status before it."""

    applied: bool
    previous: str


def new_id() -> str:
    """A random UUID for jobs, sessions and files."""
    return str(uuid.uuid4())


def create(
    conn: redis.Redis,
    *,
    job_id: str,
    owner: str,
    session_id: str,
    kind: str,
    params: dict,
    description: str,
    ttl: int = keys.RECORD_TTL,
) -> None:
    """Store a new queued job and index it under its owner, its session and the active set."""
    created = time.time()
    with conn.pipeline() as pipe:
        pipe.hset(
            keys.job(job_id),
            mapping={
                "id": job_id,
                "owner": owner,
                "session_id": session_id,
                "kind": kind,
                "status": Status.QUEUED.value,
                "params": json.dumps(params),
                "description": description,
                "created_at": now_iso(),
                "created_ts": created,
                "ttl": ttl,
            },
        )
        pipe.zadd(keys.owner_jobs(owner), {job_id: created})
        pipe.expire(keys.owner_jobs(owner), ttl)
        pipe.zadd(keys.session_jobs(session_id), {job_id: created})
        pipe.zadd(keys.active(), {job_id: created})
        pipe.publish(keys.changes(), job_id)
        pipe.execute()


def move(conn: redis.Redis, job_id: str, to: Move, **fields) -> Transition:
    """Make the move `to` (writing `fields` with it) if the job's status allows it."""
    effect = "ends" if to.target.terminal else ""
    if to.target.active and any(s.terminal for s in to.sources):
        effect = "enters"  # back among the live jobs (a retry)
    argv = [job_id, ",".join(sorted(to.sources)), to.target.value, effect, keys.changes()]
    for name, value in fields.items():
        argv += [name, _encode(value)]
    found = script(conn, "move")(
        keys=[keys.job(job_id), keys.active(), keys.chunks(job_id)], args=argv, client=conn
    )
    applied, previous = found
    return Transition(bool(applied), decoded(previous))


def update_while_running(
    conn: redis.Redis, job_id: str, fields: dict, chunk: tuple[int, dict] | None = None
) -> bool:
    """Write `fields` (and a chunk checkpoint) only while the job is running."""
    return update_while(conn, job_id, Status.RUNNING, fields, chunk)


def update_while(
    conn: redis.Redis, job_id: str, required: Status, fields: dict,
    chunk: tuple[int, dict] | None = None,
) -> bool:  # fmt: skip
    """Write `fields` (and a chunk checkpoint) only while the job's status is `required`."""
    argv: list = [job_id, keys.changes(), required.value]
    argv += [str(chunk[0]), json.dumps(chunk[1])] if chunk is not None else ["", ""]
    for name, value in fields.items():
        argv += [name, _encode(value)]
    written = script(conn, "write_while")(
        keys=[keys.job(job_id), keys.chunks(job_id)], args=argv, client=conn
    )
    return bool(written)


def get(conn: redis.Redis, job_id: str, owner: str | None = None) -> dict:
    """The decoded record; NotFound if it does not exist or belongs to another owner."""
    raw = conn.hgetall(keys.job(job_id)) if is_valid_id(job_id) else {}
    record = _decode(raw)
    if not record or (owner is not None and record.get("owner") != owner):
        raise NotFound("No such job.")
    return record


def status(conn: redis.Redis, job_id: str) -> str | None:
    """The job's status, or None once its record is gone (deleted or expired)."""
    value = conn.hget(keys.job(job_id), "status")
    return decoded(value) if value is not None else None


def should_stop(conn: redis.Redis, job_id: str) -> bool:
    """True when the job must not go on: cancel requested, already ended, or deleted."""
    return status(conn, job_id) != Status.RUNNING


def checkpoints(conn: redis.Redis, job_id: str) -> dict[int, dict]:
    """The validated results of chunks already done, by chunk index."""
    raw = conn.hgetall(keys.chunks(job_id))
    return {int(k): json.loads(v) for k, v in raw.items()}


def list_for_owner(conn: redis.Redis, owner: str, limit: int = 100) -> list[dict]:
    """The owner's jobs, newest first."""
    ids = [decoded(i) for i in conn.zrevrange(keys.owner_jobs(owner), 0, limit - 1)]
    return _fetch_many(conn, ids, keys.owner_jobs(owner))


def list_for_session(conn: redis.Redis, session_id: str) -> list[dict]:
    """The session's jobs, newest first."""
    ids = [decoded(i) for i in conn.zrevrange(keys.session_jobs(session_id), 0, -1)]
    return _fetch_many(conn, ids, keys.session_jobs(session_id))


def count_active(conn: redis.Redis, owner: str) -> int:
    """How many of the owner's jobs are queued, running or cancelling.

    Read from the active set (every owner's live jobs, a short list) rather than the owner's
    history, which may be long and is listed newest first with a limit.
    """
    with conn.pipeline(transaction=False) as pipe:
        for job_id in active_ids(conn):
            pipe.hmget(keys.job(job_id), "owner", "status")
        found = pipe.execute()
    return sum(1 for who, what in found if who and decoded(who) == owner
               and Status(decoded(what)).active)  # fmt: skip


def active_ids(conn: redis.Redis) -> list[str]:
    """Ids of every job that is queued, running or cancelling, oldest first."""
    return [decoded(i) for i in conn.zrange(keys.active(), 0, -1)]


def forget_active(conn: redis.Redis, job_id: str) -> None:
    """Drop an id from the active set (its record is gone)."""
    conn.zrem(keys.active(), job_id)


def _fetch_many(conn: redis.Redis, ids: list[str], index_key: str) -> list[dict]:
    """Fetch records in order, pruning ids whose record has expired from `index_key`."""
    with conn.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hgetall(keys.job(job_id))
        raws = pipe.execute()
    records, gone = [], []
    for job_id, raw in zip(ids, raws, strict=True):
        record = _decode(raw)
        if record:
            records.append(record)
        else:
            gone.append(job_id)
    if gone:
        conn.zrem(index_key, *gone)
    return records


_JSON_FIELDS = (
    "params",
    "error",
    "outputs",
    "usage",
    "files",
    "quality",
    "warnings",
    "notes",
    "waiting",
    "written",
)
_FLOAT_FIELDS = ("eta_s", "created_ts")
_INT_FIELDS = ("done", "total", "ttl")


def _decode(raw: dict) -> dict:
    """Turn a Redis hash into Python values."""
    record = {decoded(k): decoded(v) for k, v in raw.items()}
    for name in _JSON_FIELDS:
        if name in record:
            record[name] = json.loads(record[name]) if record[name] else None
    for name in _FLOAT_FIELDS:
        if record.get(name):
            record[name] = float(record[name])
    for name in _INT_FIELDS:
        if record.get(name):
            record[name] = int(record[name])
    return record


def _encode(value) -> str:
    """Encode a field value for Redis: JSON for containers, text otherwise."""
    if isinstance(value, dict | list) or value is None:
        return json.dumps(value)
    return str(value)


def token_owner(token: str) -> str:
    """The owner an API token (API_TOKENS, ASR_TOKEN) stands for: a hash, never the token."""
    return "token-" + hashlib.sha256(token.encode()).hexdigest()[:24]


def is_valid_id(value: str) -> bool:
    """Reject ids that cannot be ours before they reach a key name."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
