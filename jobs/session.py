"""Sessions: a set of uploaded media files that jobs run over."""

from __future__ import annotations

import json
import time

import redis

from . import keys
from .errors import NotFound
from .record import decoded, is_valid_id, new_id
from .timeutil import now_iso


def create(conn: redis.Redis, owner: str, ttl: int = keys.RECORD_TTL) -> str:
    """A new empty session owned by `owner`; returns its id."""
    session_id = new_id()
    with conn.pipeline() as pipe:
        pipe.hset(
            keys.session(session_id),
            mapping={"id": session_id, "owner": owner, "created_at": now_iso(), "ttl": ttl},
        )
        pipe.expire(keys.session(session_id), ttl)
        pipe.execute()
    return session_id


_ADD_FILE = """
-- KEYS: session hash, files hash; ARGV: file id, file JSON. Nothing for a deleted session.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl'))
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
"""


def add_file(conn: redis.Redis, session_id: str, file: dict) -> None:
    """Record an uploaded file (already stored under `file["key"]`); NotFound if deleted."""
    file = {**file, "added_ts": time.time()}
    added = conn.eval(
        _ADD_FILE, 2, keys.session(session_id), keys.session_files(session_id), file["id"],
        json.dumps(file),
    )  # fmt: skip
    if not added:
        raise NotFound("No such session.")


def get(conn: redis.Redis, session_id: str, owner: str | None = None) -> dict:
    """The session with its files; NotFound if unknown or another owner's."""
    raw = conn.hgetall(keys.session(session_id)) if is_valid_id(session_id) else {}
    record = {decoded(k): decoded(v) for k, v in raw.items()}
    if not record or (owner is not None and record.get("owner") != owner):
        raise NotFound("No such session.")
    record["files"] = files(conn, session_id)
    return record


def files(conn: redis.Redis, session_id: str) -> list[dict]:
    """The session's files in upload order."""
    found = [json.loads(v) for v in conn.hvals(keys.session_files(session_id))]
    return sorted(found, key=lambda f: f["added_ts"])


def touch(conn: redis.Redis, session_id: str) -> None:
    """Keep an in-use session (and its files) from expiring before its jobs."""
    ttl = int(conn.hget(keys.session(session_id), "ttl") or keys.RECORD_TTL)
    for key in (keys.session(session_id), keys.session_files(session_id),
                keys.session_jobs(session_id)):  # fmt: skip
        conn.expire(key, ttl)


def purge(conn: redis.Redis, session_id: str) -> None:
    """Delete the session's records (not its jobs' records, nor stored files)."""
    conn.delete(keys.session(session_id), keys.session_files(session_id),
                keys.session_jobs(session_id))  # fmt: skip
