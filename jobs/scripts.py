"""Lua scripts run in Redis: the files of jobs/lua/, each registered once per process and run
by its SHA (rq's `scripts.py` idiom). A script is what no sequence of Redis calls could do
safely while other processes write the same keys: a compare-and-set, or a change made all at
once. Each file starts with its KEYS/ARGV header."""

from __future__ import annotations

from importlib.resources import files

import redis
from redis.commands.core import Script

_LUA = files(__package__) / "lua"
_scripts: dict[str, Script] = {}


def script(conn: redis.Redis, name: str) -> Script:
    """The Lua script `jobs/lua/<name>.lua`, registered once per process; every module that
    writes with Lua gets its scripts here."""
    if name not in _scripts:
        _scripts[name] = conn.register_script((_LUA / f"{name}.lua").read_text())
    return _scripts[name]
