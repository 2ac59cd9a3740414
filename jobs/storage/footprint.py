"""What each owner keeps in storage, and the per-owner storage quota (OWNER_STORAGE_MB).

An owner's uploads are counted per session in `keys.owner_stored(owner)` (session id -> bytes).
A session whose record is gone (deleted, or expired) no longer counts: its entry is dropped the
next time the owner uploads, and the sweeper removes its files (worker/sweeper.py). Outputs and
editor revisions are not counted: they are bounded by the uploads they come from.
"""

from __future__ import annotations

import redis

from .. import keys
from ..errors import SubcueError

MB = 1024 * 1024


class StorageQuota(SubcueError):
    """The upload would take the owner over OWNER_STORAGE_MB."""

    status, code = 413, "storage_quota"


_RESERVE = """
-- KEYS: the owner's stored hash; ARGV: session id, bytes, limit in bytes, ttl.
-- Adds the bytes to the session's entry if the owner's total stays within the limit and
-- returns -1; otherwise changes nothing and returns the total already kept.
local total = 0
for _, size in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(size) end
if total + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return total end
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return -1
"""

TTL = 2 * keys.RECORD_TTL
"""The count outlives every session it counts unless the owner stops uploading for this long."""


def kept(conn: redis.Redis, owner: str) -> int:
    """Bytes of uploads the owner keeps in sessions that still exist (dropping the others)."""
    entries = conn.hgetall(keys.owner_stored(owner))
    if not entries:
        return 0
    with conn.pipeline(transaction=False) as pipe:
        for session_id in entries:
            pipe.exists(keys.session(session_id.decode()))
        alive = pipe.execute()
    gone = [sid for sid, exists in zip(entries, alive, strict=True) if not exists]
    if gone:
        conn.hdel(keys.owner_stored(owner), *gone)
    return sum(int(size) for sid, size in entries.items() if sid not in gone)


def reserve(conn: redis.Redis, owner: str, session_id: str, size: int, limit_mb: int) -> None:
    """Count `size` more bytes of uploads in the owner's session, or StorageQuota (nothing
    counted) when that would pass `limit_mb`. Atomic: two uploads at once cannot both pass."""
    kept(conn, owner)  # drop deleted and expired sessions first
    limit = limit_mb * MB
    total = conn.eval(_RESERVE, 1, keys.owner_stored(owner), session_id, size, limit, TTL)
    if total == -1:
        return
    raise StorageQuota(f"These files take {_mb(size)}; you keep {_mb(total)} of uploads and may "
                       f"keep {limit_mb} MB. Delete sessions you no longer need, then upload "
                       "again.")  # fmt: skip


def _mb(size: int) -> str:
    """Bytes as a person reads them: '12.3 MB'."""
    return f"{size / MB:.1f} MB"
