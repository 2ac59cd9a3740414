"""One rate limit per engine and account for the whole deployment, shared by every worker
through Redis: Gemini's (GEMINI_RPM, GEMINI_TPM, per API key and model) and the LLM's (LLM_RPM,
LLM_TPM, per server, key and model).

Requests a minute are counted with the `limits` library's moving window: every call's time is
kept, so no 61 s window (a minute and a margin, pricing.RATE_WINDOW_S) ever holds more calls
than the limit. Input tokens a minute use its sliding window counter: two counters instead of
one entry per token, an approximation as the providers' own token quotas are. Each call counts
the most input tokens it may be billed (pricing.input_bound).

When the provider answers 429 with a retry delay, `pause` makes every caller of the same quota
wait that long, not only the one that was told. Waiting is an asyncio sleep, so a cancel ends
it at once; `on_wait` tells the job (and through it the page, the API and the CLI) how long.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Callable

import redis
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from .. import keys
from ..config import Config
from .pricing import RATE_WINDOW_S

RECHECK_S = 5.0
"""The longest single sleep while waiting, so a changed window or pause is seen."""


def key_id(config: Config) -> str:
    """Who shares Gemini's quota: the API key (a digest; the key itself is never stored) and
    the model."""
    digest = hashlib.sha256(config.gemini_api_key.encode()).hexdigest()[:16]
    return f"{digest}:{config.gemini_model.removeprefix('models/')}"


class Quota:
    """One engine's shared quota (`engine` names its pause key), as seen from one process."""

    def __init__(self, conn: redis.Redis, engine: str, quota_id: str, rpm: int, tpm: int,
                 window_s: int = RATE_WINDOW_S):  # fmt: skip
        """`quota_id`: who shares it (never a key in clear); `rpm`, `tpm`: requests and input tokens
        a minute (0: no limit); `window_s`: the span `rpm` is counted over (a test shortens
        it)."""
        self.conn, self.engine, self.id = conn, engine, quota_id
        self.rpm = RateLimitItemPerSecond(rpm, window_s) if rpm else None
        self.tpm = RateLimitItemPerMinute(tpm) if tpm else None
        self.by_calls = self.by_tokens = None
        if self.rpm or self.tpm:
            storage = RedisStorage("redis://", connection_pool=conn.connection_pool,
                                   key_prefix=f"{keys.PREFIX}limits")  # fmt: skip
            self.by_calls = MovingWindowRateLimiter(storage)
            self.by_tokens = SlidingWindowCounterRateLimiter(storage)

    def pause(self, seconds: float) -> None:
        """The provider asked to wait: every caller of this quota waits `seconds` (the longer
        wait wins)."""
        key = keys.engine_pause(self.engine, self.id)
        if self.conn.pttl(key) < seconds * 1000:
            self.conn.set(key, "1", px=max(1, int(seconds * 1000)))

    def wait_needed(self, tokens: int) -> float:
        """Seconds until a call of `tokens` input tokens may go; 0 when it may go now."""
        paused = self.conn.pttl(keys.engine_pause(self.engine, self.id))
        if paused > 0:
            return paused / 1000
        waits = [0.0]
        for limiter, item, cost in ((self.by_calls, self.rpm, 1),
                                    (self.by_tokens, self.tpm, self._tokens(tokens))):  # fmt: skip
            if item is not None and not limiter.test(item, self.id, cost=cost):
                waits.append(max(0.05, limiter.get_window_stats(item, self.id).reset_time
                                 - time.time()))  # fmt: skip
        return max(waits)

    def take(self, tokens: int) -> bool:
        """Count one call of `tokens` input tokens, if the limits have room for it now."""
        if self.tpm is not None and not self.by_tokens.hit(self.tpm, self.id,
                                                           cost=self._tokens(tokens)):  # fmt: skip
            return False
        return self.rpm is None or self.by_calls.hit(self.rpm, self.id)

    def _tokens(self, tokens: int) -> int:
        """A call larger than the whole per-minute limit still goes, alone in its minute."""
        return max(1, min(tokens, self.tpm.amount)) if self.tpm is not None else 1

    async def acquire(self, tokens: int, on_wait: Callable[[float | None], None]) -> None:
        """Wait until the deployment's quota lets one call of `tokens` input tokens go."""
        waited = False
        while True:
            wait = self.wait_needed(tokens)
            if wait <= 0 and self.take(tokens):
                break
            waited = True
            on_wait(max(wait, 0.05))
            await asyncio.sleep(min(RECHECK_S, max(wait, 0.05)) + random.uniform(0, 0.05))
        if waited:
            on_wait(None)


def gemini_quota(config: Config, conn: redis.Redis, window_s: int = RATE_WINDOW_S) -> Quota:
    """The deployment's Gemini quota: GEMINI_RPM and GEMINI_TPM per API key and model."""
    return Quota(conn, "gemini", key_id(config), config.gemini_rpm, config.gemini_tpm, window_s)


def llm_quota(config: Config, conn: redis.Redis, window_s: int = RATE_WINDOW_S) -> Quota:
    """The deployment's LLM quota: LLM_RPM and LLM_TPM per server, key and model."""
    return Quota(conn, "llm", config.llm_id, config.llm_rpm, config.llm_tpm, window_s)
