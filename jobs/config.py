"""One Config object, read from the environment once and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .cost import parse_override

ROOT = Path(__file__).resolve().parent.parent
"""The checkout's root; default storage lives under its `var/`."""


def _int(env: dict, name: str, default: int) -> int:
    """Read an integer variable, falling back to `default` when unset or empty."""
    value = env.get(name, "")
    return int(value) if value.strip() else default


def _float(env: dict, name: str, default: float) -> float:
    """Read a float variable, falling back to `default` when unset or empty."""
    value = env.get(name, "")
    return float(value) if value.strip() else default


def _budget(env: dict, name: str) -> float | None:
    """A budget in USD: None when unset or empty (no budget); ValueError if not a number >= 0."""
    value = env.get(name, "").strip()
    if not value:
        return None
    amount = float(value)
    if not amount >= 0:
        raise ValueError(f"{name} must be an amount in USD of 0 or more, not {value!r}")
    return amount


OFF = frozenset({"0", "off", "false", "no"})
"""Values that turn a switch off."""


@dataclass(frozen=True)
class Config:
    """Every setting of Subcue; the names match the environment variables in API.md."""

    secret_key: str = "dev-only-not-secret"
    redis_url: str = "redis://localhost:6379/0"
    storage_url: str = f"file://{ROOT / 'var' / 'storage'}"
    temp_dir: str = str(ROOT / "var" / "tmp")
    queue_name: str = "subcue"
    gemini_api_key: str = field(default="", repr=False)
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str = ""
    gemini_api_version: str = "v1beta"
    gemini_concurrency: int = 4
    gemini_prices: str = ""
    gemini_rpm: int = 0
    gemini_tpm: int = 0
    owner_daily_budget_usd: float | None = None
    daily_budget_usd: float | None = None
    # WAVs above this go through the Files API: the real limit is 20 MB per request, and
    # base64 makes inline audio a third bigger. GEMINI_INLINE_LIMIT_BYTES (tests set it low).
    gemini_inline_limit_bytes: int = 14 * 1024 * 1024
    # Subtitle cues translated in one text call at most (fewer: less to ask again when an
    # answer goes wrong, more calls).
    gemini_cues_per_call: int = 100
    whisper_model: str = ""
    chunk_seconds: float = 30.0
    max_upload_mb: int = 500
    max_active_jobs_per_owner: int = 3
    lease_seconds: int = 60
    max_streams_per_owner: int = 20
    api_tokens: tuple[str, ...] = field(default=(), repr=False)
    dashboard_password: str = field(default="", repr=False)
    dashboard_username: str = "admin"
    ffmpeg_binary: str = ""
    cancel_wait_seconds: float = 2.0
    delete_wait_seconds: float = 5.0
    sweep_interval_seconds: float = 10.0
    # Cues timed to the speech a voice-activity detector finds (jobs/speech.py, jobs/retime.py);
    # SPEECH_TIMING=off gives the engines' own times (the timing benchmark's "before").
    speech_timing: bool = True

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> Config:
        """Build the configuration from `env` (default: os.environ), then `overrides`."""
        env = dict(os.environ if env is None else env)
        base = cls()
        tokens = tuple(t.strip() for t in env.get("API_TOKENS", "").split(",") if t.strip())
        config = cls(
            secret_key=env.get("SECRET_KEY") or base.secret_key,
            redis_url=env.get("REDIS_URL") or base.redis_url,
            storage_url=env.get("STORAGE_URL") or base.storage_url,
            temp_dir=env.get("TEMP_DIR") or base.temp_dir,
            queue_name=env.get("QUEUE_NAME") or base.queue_name,
            gemini_api_key=env.get("GEMINI_API_KEY", ""),
            gemini_model=env.get("GEMINI_MODEL") or base.gemini_model,
            gemini_base_url=env.get("GEMINI_BASE_URL", ""),
            gemini_api_version=env.get("GEMINI_API_VERSION") or base.gemini_api_version,
            gemini_concurrency=max(1, _int(env, "GEMINI_CONCURRENCY", base.gemini_concurrency)),
            gemini_prices=env.get("GEMINI_PRICES", "").strip(),
            gemini_rpm=max(0, _int(env, "GEMINI_RPM", 0)),
            gemini_tpm=max(0, _int(env, "GEMINI_TPM", 0)),
            owner_daily_budget_usd=_budget(env, "OWNER_DAILY_BUDGET_USD"),
            daily_budget_usd=_budget(env, "DAILY_BUDGET_USD"),
            gemini_inline_limit_bytes=_int(
                env, "GEMINI_INLINE_LIMIT_BYTES", base.gemini_inline_limit_bytes
            ),
            gemini_cues_per_call=max(
                1, _int(env, "GEMINI_CUES_PER_CALL", base.gemini_cues_per_call)
            ),
            whisper_model=env.get("WHISPER_MODEL", ""),
            chunk_seconds=max(2.0, _float(env, "CHUNK_SECONDS", base.chunk_seconds)),
            max_upload_mb=_int(env, "MAX_UPLOAD_MB", base.max_upload_mb),
            max_active_jobs_per_owner=_int(
                env, "MAX_ACTIVE_JOBS_PER_OWNER", base.max_active_jobs_per_owner
            ),
            lease_seconds=_int(env, "LEASE_SECONDS", base.lease_seconds),
            max_streams_per_owner=max(
                1, _int(env, "MAX_STREAMS_PER_OWNER", base.max_streams_per_owner)
            ),
            api_tokens=tokens,
            dashboard_password=env.get("DASHBOARD_PASSWORD", ""),
            dashboard_username=env.get("DASHBOARD_USERNAME", "").strip() or base.dashboard_username,
            ffmpeg_binary=env.get("FFMPEG_BINARY", ""),
            speech_timing=env.get("SPEECH_TIMING", "").strip().lower() not in OFF,
        )
        if config.gemini_prices:
            parse_override(config.gemini_prices)  # a bad value stops the process at start
        known = {f.name for f in fields(cls)}
        return replace(config, **{k: v for k, v in overrides.items() if k in known})

    @property
    def gemini_configured(self) -> bool:
        """True when the paid engine can be used."""
        return bool(self.gemini_api_key)

    @property
    def default_engine(self) -> str:
        """Gemini when a key is configured, otherwise the local Whisper engine."""
        return "gemini" if self.gemini_configured else "local"
