"""Whether the servers a job needs can take it now: the LLM server as the workers last found
it (worker/llm_watch.py keeps the verdict in Redis). /healthz shows it, and a job the LLM
would translate is refused while it fails, by the API and by the library's intake alike."""

from __future__ import annotations

import json

import redis

from .. import keys
from ..config import Config
from ..errors import SubcueError


def llm_status(conn: redis.Redis, config: Config) -> dict:
    """The LLM server as the workers' last check found it: `ok` is None until a worker has
    checked (and again when none has for a few minutes)."""
    if not config.llm_configured:
        return {"configured": False}
    found = conn.get(keys.llm_health(config.llm_id))
    verdict = json.loads(found) if found else {}
    return {"configured": True, "model": config.llm_model, "base_url": config.llm_url_shown,
            "ok": verdict.get("ok"), "error": verdict.get("error"),
            "note": verdict.get("note"), "checked_at": verdict.get("checked_at")}  # fmt: skip


def check_llm(conn: redis.Redis, config: Config) -> None:
    """503 llm_unreachable when the last check of the LLM failed (none yet: let it through)."""
    found = llm_status(conn, config)
    if found.get("ok") is False:
        raise SubcueError(f"The LLM server cannot translate now: {found['error']} (checked at "
                          f"{found['checked_at']}). Try again once it is fixed, or choose "
                          "another translator.", code="llm_unreachable", status=503)  # fmt: skip
