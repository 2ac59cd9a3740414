"""Job records in Redis: the one place that reads and writes a job's status and progress.

A record is the hash `keys.job(id)`. Status changes go through `transition()`, a compare-and-set
in Lua, so a cancel and a worker's claim can never both win. Writes from a job (progress,
checkpoints, usage) only land while the job is running, so a deleted or cancelled job's record
is never recreated by a horse that has not noticed yet.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import redis

from . import keys
from .errors import NotFound
from .timeutil import now_iso

QUEUED, RUNNING, CANCELLING = "queued", "running", "cancelling"
CANCELLED, FINISHED, FAILED = "cancelled", "finished", "failed"
TERMINAL = frozenset({CANCELLED, FINISHED, FAILED})
"""Statuses a job never leaves (except failed/cancelled -> queued on an explicit retry)."""
ACTIVE = frozenset({QUEUED, RUNNING, CANCELLING})
"""Statuses that count against an owner's limit and that the sweeper watches."""

_TRANSITION = """
-- KEYS: job hash, active zset, chunks hash
-- ARGV: allowed statuses (comma list), new status, then field/value pairs
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'missing'} end
local current = redis.call('HGET', KEYS[1], 'status')
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == current then allowed = true end end
if not allowed then return {0, current} end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[2] == 'cancelled' or ARGV[2] == 'finished' or ARGV[2] == 'failed' then
  redis.call('ZREM', KEYS[2], string.match(KEYS[1], '[^:]+$'))
  redis.call('EXPIRE', KEYS[1], tonumber(redis.call('HGET', KEYS[1], 'ttl')))
  redis.call('EXPIRE', KEYS[3], tonumber(redis.call('HGET', KEYS[1], 'ttl')))
elseif ARGV[2] == 'queued' then
  redis.call('ZADD', KEYS[2], redis.call('TIME')[1], string.match(KEYS[1], '[^:]+$'))
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[3])
end
return {1, current}
"""

_UPDATE_WHILE_RUNNING = """
-- KEYS: job hash, chunks hash; ARGV: chunk index or '', chunk JSON or '', then field/value
-- pairs for the job. Writes nothing unless the job is running.
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


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
                "status": QUEUED,
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
        pipe.execute()


def transition(
    conn: redis.Redis, job_id: str, allowed: set[str] | frozenset[str], new: str, **fields
) -> Transition:
    """Set status `new` (and `fields`) only if the current status is in `allowed`."""
    argv = [",".join(sorted(allowed)), new]
    for name, value in fields.items():
        argv += [name, _encode(value)]
    applied, previous = conn.eval(
        _TRANSITION, 3, keys.job(job_id), keys.active(), keys.chunks(job_id), *argv
    )
    return Transition(bool(applied), decoded(previous))


def update_while_running(
    conn: redis.Redis, job_id: str, fields: dict, chunk: tuple[int, dict] | None = None
) -> bool:
    """Write `fields` (and a chunk checkpoint) only while the job is running."""
    argv: list = [str(chunk[0]), json.dumps(chunk[1])] if chunk is not None else ["", ""]
    for name, value in fields.items():
        argv += [name, _encode(value)]
    return bool(conn.eval(_UPDATE_WHILE_RUNNING, 2, keys.job(job_id), keys.chunks(job_id), *argv))


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
    return status(conn, job_id) != RUNNING


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
               and decoded(what) in ACTIVE)  # fmt: skip


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


_JSON_FIELDS = ("params", "error", "outputs", "usage", "files", "quality", "warnings")
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


def decoded(value) -> str:
    """Decode bytes from Redis."""
    return value.decode() if isinstance(value, bytes) else value


def is_valid_id(value: str) -> bool:
    """Reject ids that cannot be ours before they reach a key name."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
