"""`python -m worker`: run one Subcue worker until SIGTERM/SIGINT."""

import importlib
import sys

from jobs import logs
from jobs.config import Config, InsecureSecret
from jobs.connection import connect
from jobs.life.submit import JOB_FUNCTIONS, queues
from jobs.media import audio, probe

from .worker import SubcueWorker

WORKER_TTL = 60
"""Seconds a silent worker counts as alive (RQ's default is 420: too slow to notice a crash)."""

MONITOR_INTERVAL = 5
"""Seconds between heartbeats while a job runs; a busy worker's key lives this + 60 s."""


def preload_job_functions() -> None:
    """Import what jobs run (the pipeline, google-genai: about a second of CPU here) once, in
    the worker: every work horse is forked from it, so a job starts without paying for it."""
    for path in JOB_FUNCTIONS.values():
        importlib.import_module(path.rsplit(".", 1)[0])


def main() -> int:
    """Start a forking worker on Subcue's queues (people's jobs first, then the library's)."""
    logs.to_stdout()
    config = Config.from_env()
    try:
        config.check_secret()
    except InsecureSecret as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 2
    audio.use_ffmpeg(probe.ffmpeg_binary(config.ffmpeg_binary))
    preload_job_functions()
    conn = connect(config)
    worker = SubcueWorker(
        queues(conn, config),
        connection=conn,
        subcue_config=config,
        worker_ttl=WORKER_TTL,
        job_monitoring_interval=MONITOR_INTERVAL,
    )
    worker.work(with_scheduler=False, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
