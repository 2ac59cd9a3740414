"""One Config object, read from the environment once and passed down."""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from limits import parse_many

ROOT = Path(__file__).resolve().parent.parent
"""The checkout's root; default storage lives under its `var/`."""


DEFAULT_SECRET_KEY = "dev-only-not-secret"
"""The SECRET_KEY used when none is set: public, so only a development server may run with it."""


class InsecureSecret(ValueError):
    """SECRET_KEY is unset (or the public default) outside development."""


def _truthy(value: str | None) -> bool:
    """A yes/no variable: 1, true, yes or on (any case) is yes."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


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


def _rate(env: dict, name: str, default: str) -> str:
    """A rate limit such as "60 per hour" or "10/minute; 100/day" (the `limits` library's
    notation); ValueError at start for one it cannot read."""
    value = env.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a rate such as '60 per hour', not {value!r}") from exc
    return value


def _paths(value: str) -> tuple[str, ...]:
    """A `:`-separated list of directories (MEDIA_ROOTS, WATCH_DIRS), blanks dropped."""
    return tuple(p.strip() for p in value.split(":") if p.strip())


def _path_map(value: str) -> tuple[tuple[str, str], ...]:
    """PATH_MAP: `from=to` pairs separated by `,` (paths as another program sees them -> as
    Subcue sees them); ValueError for a pair without `=` or with a relative side."""
    pairs = []
    for item in (i.strip() for i in value.split(",")):
        if not item:
            continue
        source, sep, target = item.partition("=")
        source, target = source.strip().rstrip("/") or "/", target.strip().rstrip("/") or "/"
        if not sep or not source.startswith("/") or not target.startswith("/"):
            raise ValueError(f"PATH_MAP entries are /their/path=/our/path, not {item!r}")
        pairs.append((source, target))
    return tuple(pairs)


def _flag(env: dict, name: str, default: bool) -> bool:
    """A true/false variable; ValueError for anything else."""
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _library(env: dict, base: Config) -> dict:
    """The settings of the library integrations (whisper API, webhooks, watched folders)."""
    languages = tuple(dict.fromkeys(
        c.strip().lower() for c in env.get("LIBRARY_LANGUAGES", "").split(",") if c.strip()
    ))  # fmt: skip
    return {
        "asr_token": env.get("ASR_TOKEN", "").strip(),
        "asr_engine": env.get("ASR_ENGINE", "").strip().lower() or base.asr_engine,
        "asr_max_upload_mb": _int(env, "ASR_MAX_UPLOAD_MB", base.asr_max_upload_mb),
        "asr_rejoin_seconds": max(0.0, _float(env, "ASR_REJOIN_SECONDS", base.asr_rejoin_seconds)),
        "media_roots": _paths(env.get("MEDIA_ROOTS", "")),
        "path_map": _path_map(env.get("PATH_MAP", "")),
        "library_languages": languages or base.library_languages,
        "library_engine": env.get("LIBRARY_ENGINE", "").strip().lower() or base.library_engine,
        "library_overwrite": _flag(env, "LIBRARY_OVERWRITE", base.library_overwrite),
        "jellyfin_url": env.get("JELLYFIN_URL", "").strip().rstrip("/"),
        "jellyfin_api_key": env.get("JELLYFIN_API_KEY", "").strip(),
        "plex_url": env.get("PLEX_URL", "").strip().rstrip("/"),
        "plex_token": env.get("PLEX_TOKEN", "").strip(),
        "watch_dirs": _paths(env.get("WATCH_DIRS", "")),
        "watch_stable_seconds": max(
            0.5, _float(env, "WATCH_STABLE_SECONDS", base.watch_stable_seconds)
        ),
    }


LLM_RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "prompt")
"""How the text engine asks for JSON (LLM_RESPONSE_FORMAT)."""


def _llm(env: dict, base: Config) -> dict:
    """The settings of the OpenAI-compatible text engine (LLM_*)."""
    return {
        "llm_base_url": env.get("LLM_BASE_URL", "").strip().rstrip("/"),
        "llm_model": env.get("LLM_MODEL", "").strip(),
        "llm_api_key": env.get("LLM_API_KEY", "").strip(),
        "llm_concurrency": max(1, _int(env, "LLM_CONCURRENCY", base.llm_concurrency)),
        "llm_prices": env.get("LLM_PRICES", "").strip(),
        "llm_rpm": max(0, _int(env, "LLM_RPM", 0)),
        "llm_tpm": max(0, _int(env, "LLM_TPM", 0)),
        "llm_response_format": env.get("LLM_RESPONSE_FORMAT", "").strip().lower()
        or base.llm_response_format,
        "llm_stream": _flag(env, "LLM_STREAM", base.llm_stream),
        "llm_timeout_seconds": max(
            1.0, _float(env, "LLM_TIMEOUT_SECONDS", base.llm_timeout_seconds)
        ),
        "llm_cues_per_call": max(1, _int(env, "LLM_CUES_PER_CALL", base.llm_cues_per_call)),
        "library_translator": env.get("LIBRARY_TRANSLATOR", "").strip().lower(),
    }


OFF = frozenset({"0", "off", "false", "no"})
"""Values that turn a switch off."""


def parse_override(text: str, name: str = "GEMINI_PRICES") -> tuple[float, float]:
    """`"1.00,2.50"` -> (1.0, 2.5); ValueError with a reason (naming the variable `name`)
    otherwise."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"{name} must be two prices in USD per million tokens, input "
                         f"then output, such as 1.00,2.50; not {text!r}")  # fmt: skip
    return values  # type: ignore[return-value]


@dataclass(frozen=True)
class Config:
    """Every setting of Subcue; the names match the environment variables in API.md."""

    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)
    development: bool = False
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
    max_media_minutes: int = 240
    job_temp_mb: int = 4096
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
    # Storage and abuse bounds (README "Security"): uploads an owner may keep at once, cue
    # editor revisions kept per file and language, and per client address (a client without
    # the owner cookie is a new owner) new owners and jobs sent without an API token, as
    # Flask-Limiter strings ("30 per minute; 200 per day").
    owner_storage_mb: int = 2000
    max_revisions: int = 50
    new_owners_per_address: str = "60 per hour"
    jobs_per_address: str = "60 per hour"
    # How often one worker looks for stored files whose records are gone.
    orphan_sweep_seconds: float = 3600.0

    # The text engine `llm` (jobs/work/engines/llm.py): any OpenAI-compatible chat-completions
    # server, which translates text only. Off while LLM_BASE_URL or LLM_MODEL is empty.
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_concurrency: int = 2
    llm_prices: str = ""
    llm_rpm: int = 0
    llm_tpm: int = 0
    # auto (json_schema, then json_object, then a strict prompt, as the server allows),
    # json_schema, json_object or prompt.
    llm_response_format: str = "auto"
    llm_stream: bool = False
    llm_timeout_seconds: float = 300.0
    llm_cues_per_call: int = 40
    # Who translates a library job's languages: "" (Gemini when LIBRARY_ENGINE is gemini,
    # else the LLM when configured), gemini or llm.
    library_translator: str = ""

    # Where the media lives (jobs/library): all of it is off while ASR_TOKEN is empty.
    asr_token: str = field(default="", repr=False)
    asr_engine: str = "local"
    asr_max_upload_mb: int = 4096
    asr_rejoin_seconds: float = 15.0
    media_roots: tuple[str, ...] = ()
    path_map: tuple[tuple[str, str], ...] = ()
    library_languages: tuple[str, ...] = ("en",)
    library_engine: str = "local"
    library_overwrite: bool = False
    jellyfin_url: str = ""
    jellyfin_api_key: str = field(default="", repr=False)
    plex_url: str = ""
    plex_token: str = field(default="", repr=False)
    watch_dirs: tuple[str, ...] = ()
    watch_stable_seconds: float = 10.0

    # Cues timed to the speech a voice-activity detector finds (jobs/media/speech.py,
    # jobs/media/retime.py);
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
            development=_truthy(env.get("FLASK_DEBUG")) or env.get("FLASK_ENV") == "development",
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
            max_media_minutes=max(1, _int(env, "MAX_MEDIA_MINUTES", base.max_media_minutes)),
            job_temp_mb=max(1, _int(env, "JOB_TEMP_MB", base.job_temp_mb)),
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
            owner_storage_mb=max(1, _int(env, "OWNER_STORAGE_MB", base.owner_storage_mb)),
            max_revisions=max(1, _int(env, "MAX_REVISIONS", base.max_revisions)),
            new_owners_per_address=_rate(
                env, "NEW_OWNERS_PER_ADDRESS", base.new_owners_per_address
            ),
            jobs_per_address=_rate(env, "JOBS_PER_ADDRESS", base.jobs_per_address),
            orphan_sweep_seconds=max(
                60.0, _float(env, "ORPHAN_SWEEP_SECONDS", base.orphan_sweep_seconds)
            ),
            **_llm(env, base),
            **_library(env, base),
            speech_timing=env.get("SPEECH_TIMING", "").strip().lower() not in OFF,
        )
        if config.gemini_prices:
            parse_override(config.gemini_prices)  # a bad value stops the process at start
        if config.llm_prices:
            parse_override(config.llm_prices, "LLM_PRICES")
        if config.llm_response_format not in LLM_RESPONSE_FORMATS:
            raise ValueError(f"LLM_RESPONSE_FORMAT must be one of "
                             f"{', '.join(LLM_RESPONSE_FORMATS)}; not "
                             f"{config.llm_response_format!r}")  # fmt: skip
        known = {f.name for f in fields(cls)}
        return replace(config, **{k: v for k, v in overrides.items() if k in known})

    def check_secret(self) -> None:
        """InsecureSecret when the cookie-signing key is the public default outside development
        (FLASK_DEBUG=1 or FLASK_ENV=development): anyone could forge any owner's cookie."""
        if self.secret_key == DEFAULT_SECRET_KEY and not self.development:
            raise InsecureSecret(
                "SECRET_KEY is not set, and the built-in one is public: anyone could sign an "
                "owner cookie with it. Set SECRET_KEY to a long random value, e.g. "
                "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))') "
                "(scripts/run makes one in var/secret_key), or FLASK_DEBUG=1 for development."
            )

    @property
    def library_enabled(self) -> bool:
        """The whisper API, webhooks and watched folders answer only once ASR_TOKEN is set."""
        return bool(self.asr_token)

    @property
    def gemini_configured(self) -> bool:
        """True when the paid engine can be used."""
        return bool(self.gemini_api_key)

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI-compatible server is set to translate text (LLM_BASE_URL and
        LLM_MODEL)."""
        return bool(self.llm_base_url and self.llm_model)

    @property
    def llm_id(self) -> str:
        """Who the LLM settings name, as a digest of the server, the model and the key (never
        the key itself): the name of its shared quota and of its last check in Redis."""
        named = "\n".join((self.llm_base_url, self.llm_model, self.llm_api_key))
        return hashlib.sha256(named.encode()).hexdigest()[:24]

    @property
    def llm_url_shown(self) -> str:
        """LLM_BASE_URL without any `user:password@` in it: what logs, /healthz and messages
        may show."""
        parts = urlsplit(self.llm_base_url)
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    @property
    def default_engine(self) -> str:
        """Gemini when a key is configured, otherwise the local Whisper engine."""
        return "gemini" if self.gemini_configured else "local"
