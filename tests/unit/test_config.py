"""jobs/config.py: one Config, read from the environment."""

import pytest

from jobs.config import DEFAULT_SECRET_KEY, Config, InsecureSecret


def test_defaults_need_no_environment():
    """Nothing set: Redis on localhost, the local engine, the documented defaults."""
    config = Config.from_env({})
    assert config.redis_url == "redis://localhost:6379/0"
    assert config.default_engine == "local" and not config.gemini_configured
    assert config.chunk_seconds == 30.0 and config.gemini_concurrency == 4
    assert config.lease_seconds == 60 and config.max_active_jobs_per_owner == 3


def test_variables_are_read_and_empty_ones_mean_the_default():
    """Numbers are parsed; an empty value is the same as unset; tokens are split and trimmed."""
    config = Config.from_env({"GEMINI_API_KEY": "k", "GEMINI_CONCURRENCY": "8",
                              "CHUNK_SECONDS": "", "API_TOKENS": " a, ,b ",
                              "LEASE_SECONDS": "4"})  # fmt: skip
    assert config.gemini_configured and config.default_engine == "gemini"
    assert config.gemini_concurrency == 8 and config.chunk_seconds == 30.0
    assert config.api_tokens == ("a", "b") and config.lease_seconds == 4


def test_input_and_storage_limits_are_read_and_a_bad_rate_stops_the_start():
    import pytest

    config = Config.from_env({"OWNER_STORAGE_MB": "10", "MAX_REVISIONS": "0",
                              "NEW_OWNERS_PER_ADDRESS": "5/minute; 50/day",
                              "ORPHAN_SWEEP_SECONDS": "1"})  # fmt: skip
    assert config.owner_storage_mb == 10 and config.max_revisions == 1
    assert config.new_owners_per_address == "5/minute; 50/day"
    assert config.jobs_per_address == "60 per hour" and config.orphan_sweep_seconds == 60
    with pytest.raises(ValueError, match="JOBS_PER_ADDRESS"):
        Config.from_env({"JOBS_PER_ADDRESS": "plenty"})


def test_silly_values_are_bounded():
    """Concurrency at least 1, chunks at least 2 s."""
    config = Config.from_env({"GEMINI_CONCURRENCY": "0", "CHUNK_SECONDS": "0.5"})
    assert config.gemini_concurrency == 1 and config.chunk_seconds == 2.0


def test_secrets_never_show_in_its_repr():
    """A logged Config does not leak the key, the tokens or the dashboard password."""
    config = Config.from_env({"GEMINI_API_KEY": "sk-SECRET", "API_TOKENS": "tok-SECRET",
                              "DASHBOARD_PASSWORD": "pw-SECRET"})  # fmt: skip
    assert "SECRET" not in repr(config)


def test_overrides_win_and_unknown_ones_are_ignored():
    """Tests and scripts may override fields by name."""
    config = Config.from_env({}, queue_name="q", no_such_field=1)
    assert config.queue_name == "q"


def test_the_public_default_secret_is_refused_outside_development():
    """No SECRET_KEY: refused with a message saying how to set one, unless in development."""
    with pytest.raises(InsecureSecret, match="SECRET_KEY=") as refused:
        Config.from_env({}).check_secret()
    assert "scripts/run" in str(refused.value)
    with pytest.raises(InsecureSecret):
        Config.from_env({"SECRET_KEY": DEFAULT_SECRET_KEY, "FLASK_DEBUG": "0"}).check_secret()
    Config.from_env({"SECRET_KEY": "long-and-random"}).check_secret()
    Config.from_env({"FLASK_DEBUG": "1"}).check_secret()
    Config.from_env({"FLASK_ENV": "development"}).check_secret()
    assert DEFAULT_SECRET_KEY not in repr(Config.from_env({}))


def test_media_and_temp_limits_have_defaults_and_a_floor():
    """MAX_MEDIA_MINUTES 240 and JOB_TEMP_MB 4096 by default; never below 1."""
    assert (Config.from_env({}).max_media_minutes, Config.from_env({}).job_temp_mb) == (240, 4096)
    config = Config.from_env({"MAX_MEDIA_MINUTES": "0", "JOB_TEMP_MB": "-5"})
    assert (config.max_media_minutes, config.job_temp_mb) == (1, 1)


def test_library_settings_are_off_by_default_and_parsed():
    """No ASR_TOKEN: the library is off; lists split on ':', PATH_MAP pairs on ',' and '='."""
    assert not Config.from_env({}).library_enabled
    config = Config.from_env(
        {
            "ASR_TOKEN": " t ",
            "MEDIA_ROOTS": "/mnt/tv::/mnt/films/",
            "PATH_MAP": "/tv=/mnt/tv, /movies/=/mnt/films",
            "LIBRARY_LANGUAGES": "en, DE,en",
            "LIBRARY_OVERWRITE": "yes",
        }
    )
    assert config.library_enabled and config.asr_token == "t"
    assert config.media_roots == ("/mnt/tv", "/mnt/films/")
    assert config.path_map == (("/tv", "/mnt/tv"), ("/movies", "/mnt/films"))
    assert config.library_languages == ("en", "de") and config.library_overwrite
    assert "asr_token" not in repr(config)  # a secret, like the other tokens


def test_bad_library_settings_stop_the_process():
    """A PATH_MAP without '=' or with a relative side, or a flag that is not a flag."""
    for env in ({"PATH_MAP": "/tv"}, {"PATH_MAP": "tv=/mnt/tv"}, {"LIBRARY_OVERWRITE": "maybe"}):
        with pytest.raises(ValueError):
            Config.from_env(env)
