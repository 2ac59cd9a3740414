"""The `openai` client Subcue makes for the text engine (jobs/work/engines/llm.py) and for
checking the configured server (reachable, model known) from the processes that run no job."""

from __future__ import annotations

import logging

from openai import AsyncOpenAI

from ...config import Config

log = logging.getLogger("subcue.llm")

NO_KEY = "none"
"""What the client sends as the key when LLM_API_KEY is empty (local servers ignore it; the
client refuses to start without one)."""


def make_client(config: Config, timeout_s: float | None = None) -> AsyncOpenAI:
    """An async client for LLM_BASE_URL. Retries are Subcue's, not the client's (each attempt
    is a request that may be paid, so it is counted, capped and checked for a cancel first)."""
    return AsyncOpenAI(
        base_url=config.llm_base_url,
        api_key=config.llm_api_key or NO_KEY,
        timeout=timeout_s or config.llm_timeout_seconds,
        max_retries=0,
    )
