"""jobs/life/workspace.py and jobs/connection.py: where a job's temp files live, and which Redis."""

from jobs.config import Config
from jobs.connection import redis_url
from jobs.life.workspace import deployment, path


def test_temp_dirs_are_grouped_by_redis_without_its_password():
    """Host, port and db name the deployment; the password never appears."""
    config = Config.from_env({"REDIS_URL": "rediss://:pw-SECRET@redis.example.com:6380/2",
                              "TEMP_DIR": "/tmp/t"})  # fmt: skip
    assert deployment(config) == "redis.example.com_6380_2"
    assert str(path(config, "job-1")) == "/tmp/t/jobs/redis.example.com_6380_2/job-1"
    assert "SECRET" not in str(path(config, "x"))


def test_a_socket_url_names_its_path():
    """unix:// URLs name the socket."""
    config = Config.from_env({"REDIS_URL": "unix:///run/redis.sock?db=3"})
    assert deployment(config) == "run_redis.sock_3"


def test_tls_redis_skips_certificate_checks_unless_asked():
    """Heroku's self-signed certificates: off by default for rediss://, kept when the URL says."""
    config = Config.from_env({"REDIS_URL": "rediss://h:1/0"})
    assert "ssl_cert_reqs=none" in redis_url(config)
    strict = Config.from_env({"REDIS_URL": "rediss://h:1/0?ssl_cert_reqs=required"})
    assert "ssl_cert_reqs=required" in redis_url(strict)
    assert redis_url(Config.from_env({"REDIS_URL": "redis://h:1/0"})) == "redis://h:1/0"
