"""What a job used of its engine: calls, tokens and their cost. One type, from the engine's
answer to the job record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Usage:
    """Engine calls (every attempt, retries and failures included), tokens billed, and their
    estimated cost in USD."""

    engine_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        """Both together."""
        return Usage(
            self.engine_calls + other.engine_calls,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            round(self.cost_usd + other.cost_usd, 6),
        )

    def as_dict(self) -> dict:
        """The Job's `usage` object."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Usage:
        """Read a stored `usage` object (unknown keys ignored, missing ones zero)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})
