"""Sessions: a set of uploaded media files that jobs run over."""

from __future__ import annotations

import json
import time

import redis

from .. import keys
from ..connection import decoded
from ..errors import BadRequest, NotFound
from ..timeutil import now_iso
from .record import is_valid_id, new_id


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
    record["glossary"] = json.loads(record.get("glossary") or "[]")
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
    """Delete the session's records and its share of its owner's storage count (not its jobs'
    records, nor stored files)."""
    owner = conn.hget(keys.session(session_id), "owner")
    conn.delete(keys.session(session_id), keys.session_files(session_id),
                keys.session_jobs(session_id))  # fmt: skip
    if owner:
        conn.hdel(keys.owner_stored(owner.decode()), session_id)


GLOSSARY_ENTRIES = 200
GLOSSARY_LIMITS = {"term": 100, "translation": 100, "note": 200}
"""A glossary's size: entries, and characters per field (every call of the session's jobs
carries it, so it is paid for again and again)."""


def checked_glossary(raw) -> list[dict]:
    """A glossary as given (a list of {term, translation, note}), validated and trimmed;
    BadRequest `bad_glossary` saying which entry is wrong."""
    if isinstance(raw, dict):
        raw = raw.get("glossary")
    if not isinstance(raw, list):
        raise BadRequest('Send the glossary as {"glossary": [{"term": …, "translation": …, '
                         '"note": …}]}.', code="bad_glossary")  # fmt: skip
    if len(raw) > GLOSSARY_ENTRIES:
        raise BadRequest(f"A glossary holds at most {GLOSSARY_ENTRIES} entries, not {len(raw)}.",
                         code="bad_glossary")  # fmt: skip
    entries, terms = [], set()
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - set(GLOSSARY_LIMITS):
            raise BadRequest(f"Glossary entry {number}: give term, translation and note only.",
                             code="bad_glossary")  # fmt: skip
        entry = {}
        for field, limit in GLOSSARY_LIMITS.items():
            value = item.get(field) or ""
            if not isinstance(value, str):
                raise BadRequest(f"Glossary entry {number}: {field} must be text.",
                                 code="bad_glossary")  # fmt: skip
            value = " ".join(value.split())
            if len(value) > limit:
                raise BadRequest(f"Glossary entry {number}: {field} is longer than {limit} "
                                 "characters.", code="bad_glossary")  # fmt: skip
            entry[field] = value
        if not entry["term"]:
            raise BadRequest(f"Glossary entry {number} has no term.", code="bad_glossary")
        if entry["term"].casefold() in terms:
            raise BadRequest(f"Glossary entry {number}: {entry['term']!r} is already in the "
                             "glossary.", code="bad_glossary")  # fmt: skip
        terms.add(entry["term"].casefold())
        entries.append(entry)
    return entries


def set_glossary(conn: redis.Redis, session_id: str, entries: list[dict]) -> None:
    """Keep the session's (validated) glossary; every later call of its jobs carries it."""
    conn.hset(keys.session(session_id), "glossary", json.dumps(entries, ensure_ascii=False))


def glossary(conn: redis.Redis, session_id: str) -> list[dict]:
    """The session's glossary (empty when it has none)."""
    return json.loads(conn.hget(keys.session(session_id), "glossary") or "[]")


def glossary_lines(glossary: list[dict]) -> list[str]:
    """A session's glossary as the lines every call's instruction carries (empty when there is
    none); also what the estimate counts."""
    if not glossary:
        return []
    lines = ["Glossary: always use these translations, so that names and terms are spelled "
             "the same way everywhere:"]  # fmt: skip
    for entry in glossary:
        note = f" ({entry['note']})" if entry.get("note") else ""
        lines.append(f"- {entry['term']} → {entry.get('translation') or entry['term']}{note}")
    return lines
