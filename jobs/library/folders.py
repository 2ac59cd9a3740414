"""Watched folders' rules: which files are media to subtitle, which are downloads still in
progress or trees to leave alone, and when a file has stopped growing. Pure (the file system
is only read), so the watcher process (worker/watcher.py) stays a thin loop."""

from __future__ import annotations

import os
import time
from pathlib import Path

MEDIA_SUFFIXES = frozenset({
    ".mkv", ".mp4", ".m4v", ".mov", ".avi", ".wmv", ".webm", ".ts", ".m2ts", ".mpg", ".mpeg",
    ".flv", ".ogv", ".mp3", ".m4a", ".m4b", ".flac", ".wav", ".ogg", ".opus", ".aac", ".wma",
})  # fmt: skip
"""Files a watched folder turns into subtitles (by name; the probe decides what they are)."""

PARTIAL_SUFFIXES = (".part", ".!qb", ".tmp", ".crdownload", ".partial", ".!ut", ".download")
"""Downloads still being written (Firefox/wget, qBittorrent, many tools, Chrome, µTorrent)."""

IGNORE_FILE = ".subcue-ignore"
"""A folder holding this file is skipped with everything under it."""


def is_candidate(path: Path) -> bool:
    """A media file by its name, not hidden, not a partial download."""
    name = path.name.lower()
    if name.startswith(".") or name.endswith(PARTIAL_SUFFIXES):
        return False
    return path.suffix.lower() in MEDIA_SUFFIXES


def ignored(path: Path, top: Path) -> bool:
    """True when a folder from `path`'s up to `top` holds IGNORE_FILE."""
    folder = path.parent
    while True:
        if (folder / IGNORE_FILE).exists():
            return True
        if folder == top or top not in folder.parents:
            return False
        folder = folder.parent


def scan(top: Path) -> list[Path]:
    """Every candidate under `top`, skipping ignored trees (their folders are not entered)."""
    found = []
    for folder, dirs, files in os.walk(top):
        if IGNORE_FILE in files:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, f) for f in sorted(files) if is_candidate(Path(folder, f))]
    return found


class Settling:
    """Files seen but maybe still being written: one is ready once its size and modification
    time have not changed for `quiet` seconds."""

    def __init__(self, quiet: float, clock=time.monotonic):
        self.quiet, self.clock = quiet, clock
        self.seen: dict[Path, tuple[tuple[int, int], float]] = {}

    def add(self, path: Path) -> None:
        """Watch `path` (again: a change restarts its quiet time)."""
        self.seen.pop(path, None)
        self._look(path)

    def _look(self, path: Path) -> bool:
        """Record the file's state; True when it has stayed the same for `quiet` seconds."""
        try:
            st = path.stat()
        except FileNotFoundError:
            self.seen.pop(path, None)  # renamed or deleted: its new name is reported apart
            return False
        state, now = (st.st_size, st.st_mtime_ns), self.clock()
        before = self.seen.get(path)
        if before is None or before[0] != state:
            self.seen[path] = (state, now)
            return False
        return st.st_size > 0 and now - before[1] >= self.quiet

    def ready(self) -> list[Path]:
        """The files that have settled (and are no longer watched)."""
        done = [p for p in list(self.seen) if self._look(p)]
        for path in done:
            del self.seen[path]
        return done
