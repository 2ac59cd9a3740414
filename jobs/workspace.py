"""A job's temp directory on the machine that runs it (never shared between machines)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .config import Config


def root(config: Config) -> Path:
    """The directory holding every job's temp directory on this machine."""
    return Path(config.temp_dir) / "jobs"


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
