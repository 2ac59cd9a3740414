"""The Redis connection, built from REDIS_URL and passed explicitly everywhere."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from .config import Config

SOCKET_TIMEOUT = 5
"""Seconds before a Redis call gives up, so an outage surfaces as an error instead of a hang."""


def redis_url(config: Config) -> str:
    """REDIS_URL, with certificate checks off for `rediss://` unless the URL says otherwise.

    Heroku Redis serves TLS with a self-signed certificate, so a verifying client cannot connect;
    add `?ssl_cert_reqs=required` to the URL to verify against a proper certificate.
    """
    parts = urlsplit(config.redis_url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "rediss" and "ssl_cert_reqs" not in query:
        query["ssl_cert_reqs"] = "none"
        parts = parts._replace(query=urlencode(query))
    return urlunsplit(parts)


def decoded(value) -> str:
    """A str from what Redis answers (bytes, or already str)."""
    return value.decode() if isinstance(value, bytes) else value


SHARED_POOL_SIZE = 50
"""Connections a web process opens at most; its requests and streams take turns on them."""


def connect(config: Config, shared: bool = False) -> redis.Redis:
    """A client for REDIS_URL (connections are pooled inside it).

    `shared`: for a web process, where a thousand event streams may all read at once when
    their jobs change. Its pool is bounded and blocking: a request waits (at most
    SOCKET_TIMEOUT) for a free connection instead of failing with "Too many connections"
    (redis-py's default pool refuses past 100) or opening one per stream.
    """
    options = {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT,
               "health_check_interval": 30}  # fmt: skip
    if shared:
        pool = redis.BlockingConnectionPool.from_url(
            redis_url(config), max_connections=SHARED_POOL_SIZE, timeout=SOCKET_TIMEOUT,
            **options,
        )  # fmt: skip
        return redis.Redis(connection_pool=pool)
    return redis.Redis.from_url(redis_url(config), **options)
