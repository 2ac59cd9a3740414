"""Access to the app's shared parts (config, Redis, storage) from request code."""

import redis
from flask import current_app

from jobs.config import Config
from jobs.storage.stores import Storage

from .streams import Hub


def config() -> Config:
    """The app's Config."""
    return current_app.extensions["subcue"]["config"]


def conn() -> redis.Redis:
    """The app's Redis client (one pool per app, not a connection per request)."""
    return current_app.extensions["subcue"]["redis"]


def hub() -> Hub:
    """The process's fan-out of job changes to event streams."""
    return current_app.extensions["subcue"]["hub"]


def storage() -> Storage:
    """The app's storage backend."""
    return current_app.extensions["subcue"]["storage"]
