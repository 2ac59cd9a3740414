"""`python -m worker.watcher`: watch WATCH_DIRS and give every new media file a library job
(the Procfile's `watcher` process). It follows changes with `watchfiles` (inotify on Linux)
and, once that watch is in place, scans the folders for what was there before; a file is
submitted once it has stopped changing for WATCH_STABLE_SECONDS. A file refused for now (the
LLM failing its checks, a spent budget) is tried again every sweep interval until it passes,
with one log line. Folders outside MEDIA_ROOTS are refused; with no WATCH_DIRS (or no
ASR_TOKEN) it only waits for SIGTERM, so that honcho keeps the other processes running."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path

import watchfiles

from jobs import logs
from jobs.config import Config
from jobs.connection import connect
from jobs.errors import SubcueError
from jobs.library import folders, intake, paths

from .sweeper import interval

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


def submit(
    conn, config: Config, path: Path, tops: list[Path], said: str | None = None
) -> str | None:
    """Give a settled file its library job, unless an ignore file or MEDIA_ROOTS says no.
    Returns the code of a refusal that may pass (429/503: the LLM failing its checks, a spent
    budget), for the file to be tried again; `said`: such a code already logged for it."""
    top = next((t for t in tops if t == path or t in path.parents), None)
    if top is None or folders.ignored(path, top):
        return None
    try:
        job_id = intake.request_subtitles(
            conn, config, paths.media_file(config, str(path), theirs=False)
        )
    except SubcueError as exc:
        passing = exc.status in (429, 503)
        if exc.code != said:
            log.warning("event=watch_file_refused code=%s reason=%s%s", exc.code, exc.message,
                        " (tried again until it passes)" if passing else "")  # fmt: skip
        return exc.code if passing else None
    if job_id is not None:
        log.info("job=%s event=watch_file_queued", job_id)
    return None


def offer(conn, config: Config, path: Path, tops: list[Path],
          waiting: dict[Path, tuple[str, float]]) -> None:  # fmt: skip
    """Submit `path`; refused for now, it waits in `waiting` (code, when) a sweep interval."""
    said = waiting.pop(path, (None, 0.0))[0]
    if code := submit(conn, config, path, tops, said):
        waiting[path] = (code, time.monotonic() + interval(config))


def again(conn, config: Config, waiting: dict[Path, tuple[str, float]],
          tops: list[Path]) -> None:  # fmt: skip
    """Offer again the files refused for now whose time has come, while they are there."""
    now = time.monotonic()
    for path in [p for p, (_, due) in waiting.items() if due <= now]:
        if path.is_file():
            offer(conn, config, path, tops, waiting)
        else:
            del waiting[path]


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
    waiting: dict[Path, tuple[str, float]] = {}  # refused for now: (code, when to try again)
    scanned = False
    for changes in watchfiles.watch(*tops, stop_event=stop, yield_on_timeout=True,
                                    rust_timeout=TICK_MS, debounce=TICK_MS,
                                    raise_interrupt=False):  # fmt: skip
        if not scanned:  # the watch is in place by its first answer: what the scan does not
            scanned = True  # find, the watch reports (a file may come in between the two)
            for top in tops:
                for path in folders.scan(top):
                    settling.add(path)
            log.info("event=watching dirs=%d files_at_start=%d", len(tops), len(settling.seen))
        for change, raw in changes:
            path = Path(raw)
            if change != watchfiles.Change.deleted and folders.is_candidate(path):
                settling.add(path)
        for path in settling.ready():
            offer(conn, config, path, tops, waiting)
        again(conn, config, waiting, tops)


def main() -> int:
    """Run until SIGTERM or SIGINT."""
    logs.to_stdout()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(Config.from_env(), stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
