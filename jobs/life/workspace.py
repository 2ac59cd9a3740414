"""A job's temp directory on the machine that runs it (never shared between machines).

Temp directories are grouped by the Redis they belong to. Two Subcue deployments on one machine
(say staging and production, or a test run next to a dev server) often share TEMP_DIR, and each
one's sweeper removes the temp directories of jobs its own Redis does not know as running. So a
sweeper only ever looks at its own deployment's directories.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from redis.connection import parse_url

from ..config import Config
from ..errors import JobFailed


def deployment(config: Config) -> str:
    """A readable name for the Redis this deployment keeps its jobs in: `host_port_db`.

    The password is left out, so rotating it does not orphan temp directories.
    """
    where = parse_url(config.redis_url)
    place = where.get("path") or f"{where.get('host', 'localhost')}_{where.get('port', 6379)}"
    return re.sub(r"[^A-Za-z0-9.-]+", "_", f"{place}_{where.get('db', 0)}").strip("_")


def root(config: Config) -> Path:
    """The directory holding this deployment's job temp directories on this machine."""
    return Path(config.temp_dir) / "jobs" / deployment(config)


def path(config: Config, job_id: str) -> Path:
    """The job's temp directory."""
    return root(config) / job_id


def remove(config: Config, job_id: str) -> bool:
    """Delete the job's temp directory; True if there was one."""
    target = path(config, job_id)
    existed = target.exists()
    shutil.rmtree(target, ignore_errors=True)
    return existed


def present(config: Config) -> list[str]:
    """Job ids that have a temp directory here."""
    base = root(config)
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def room(directory: Path, limit_mb: int) -> int:
    """Bytes the job may still write under `directory` within its JOB_TEMP_MB."""
    used = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    return limit_mb * 1024 * 1024 - used


def make_room(directory: Path, limit_mb: int, need: int, what: str) -> None:
    """JobFailed (`temp_budget`) unless `need` more bytes, for `what`, fit in JOB_TEMP_MB."""
    if need > room(directory, limit_mb):
        raise JobFailed(f"{what} would take this job past its {limit_mb} MB of temporary "
                        "space (JOB_TEMP_MB).", code="temp_budget")  # fmt: skip
