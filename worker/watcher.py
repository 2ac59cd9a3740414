"""`python -m worker.watcher`: watch WATCH_DIRS and give every new media file a library job
(the Procfile's `watcher` process). At start it scans the folders; then it follows changes
with `watchfiles` (inotify on Linux) and submits a file once it has stopped changing for
WATCH_STABLE_SECONDS. Folders outside MEDIA_ROOTS are refused; with no WATCH_DIRS (or no
ASR_TOKEN) it only waits for SIGTERM, so that honcho keeps the other processes running."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import watchfiles

from jobs.config import Config
from jobs.connection import connect
from jobs.errors import SubcueError
from jobs.library import folders, intake, paths

log = logging.getLogger("subcue.watcher")

TICK_MS = 500
"""How often, at most, settling files are looked at again while nothing happens."""


def watched_dirs(config: Config) -> list[Path]:
    """WATCH_DIRS that exist and lie inside MEDIA_ROOTS (the others are logged and left)."""
    found = []
    for raw in config.watch_dirs:
        try:
            real = paths.inside_roots(config, raw, theirs=False)
        except SubcueError as exc:
            log.error("event=watch_dir_refused dir=%s reason=%s", raw, exc.message)
            continue
        if real.is_dir():
            found.append(real)
        else:
            log.error("event=watch_dir_missing dir=%s", raw)
    return found


def submit(conn, config: Config, path: Path, tops: list[Path]) -> None:
    """Give a settled file its library job, unless an ignore file or MEDIA_ROOTS says no."""
    top = next((t for t in tops if t == path or t in path.parents), None)
    if top is None or folders.ignored(path, top):
        return
    try:
        job_id = intake.request_subtitles(
            conn, config, paths.media_file(config, str(path), theirs=False)
        )
    except SubcueError as exc:
        log.warning("event=watch_file_refused code=%s reason=%s", exc.code, exc.message)
        return
    if job_id is not None:
        log.info("job=%s event=watch_file_queued", job_id)


def run(config: Config, stop: threading.Event) -> None:
    """Scan, then watch until `stop` is set."""
    tops = watched_dirs(config) if config.library_enabled else []
    if not tops:
        log.info("event=watcher_idle reason=%s", "no WATCH_DIRS" if config.library_enabled
                 else "no ASR_TOKEN")  # fmt: skip
        stop.wait()
        return
    conn = connect(config)
    settling = folders.Settling(config.watch_stable_seconds)
    for top in tops:
        for path in folders.scan(top):
            settling.add(path)
    log.info("event=watching dirs=%d files_at_start=%d", len(tops), len(settling.seen))
    for changes in watchfiles.watch(*tops, stop_event=stop, yield_on_timeout=True,
                                    rust_timeout=TICK_MS, debounce=TICK_MS,
                                    raise_interrupt=False):  # fmt: skip
        for change, raw in changes:
            path = Path(raw)
            if change != watchfiles.Change.deleted and folders.is_candidate(path):
                settling.add(path)
        for path in settling.ready():
            submit(conn, config, path, tops)


def main() -> int:
    """Run until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(message)s"
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(Config.from_env(), stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
