"""One Gemini rate limit for the whole deployment, shared by every worker through Redis.

GEMINI_RPM (requests a minute) is counted with the `limits` library's moving window: every
call's time is kept, so no 61 s window (a minute and a margin, cost.RATE_WINDOW_S) ever holds
more calls than the limit. GEMINI_TPM (input tokens a minute) uses its sliding window counter:
two counters instead of one entry per token, an approximation as Google's own token quota is.
Each call counts the most input tokens it may be billed (cost.input_bound).

When Gemini answers 429 with a retry delay, `pause` makes every caller with the same key wait
that long, not only the one that was told. Waiting is an asyncio sleep, so a cancel ends it at
once; `on_wait` tells the job (and through it the page, the API and the CLI) how long.
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
    """Who shares a quota: the API key (a digest; the key itself is never stored) and model."""
    digest = hashlib.sha256(config.gemini_api_key.encode()).hexdigest()[:16]
    return f"{digest}:{config.gemini_model.removeprefix('models/')}"


class Quota:
    """The deployment's Gemini quota, as seen from one process."""

    def __init__(self, config: Config, conn: redis.Redis, window_s: int = RATE_WINDOW_S):
        """`window_s`: the span GEMINI_RPM is counted over (a test shortens it)."""
        self.conn, self.id = conn, key_id(config)
        rpm, tpm = config.gemini_rpm, config.gemini_tpm
        self.rpm = RateLimitItemPerSecond(rpm, window_s) if rpm else None
        self.tpm = RateLimitItemPerMinute(tpm) if tpm else None
        self.by_calls = self.by_tokens = None
        if self.rpm or self.tpm:
            storage = RedisStorage("redis://", connection_pool=conn.connection_pool,
                                   key_prefix=f"{keys.PREFIX}limits")  # fmt: skip
            self.by_calls = MovingWindowRateLimiter(storage)
            self.by_tokens = SlidingWindowCounterRateLimiter(storage)

    def pause(self, seconds: float) -> None:
        """Gemini asked to wait: every caller on this key waits `seconds` (the longer wait wins)."""
        key = keys.gemini_pause(self.id)
        if self.conn.pttl(key) < seconds * 1000:
            self.conn.set(key, "1", px=max(1, int(seconds * 1000)))

    def wait_needed(self, tokens: int) -> float:
        """Seconds until a call of `tokens` input tokens may go; 0 when it may go now."""
        paused = self.conn.pttl(keys.gemini_pause(self.id))
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
