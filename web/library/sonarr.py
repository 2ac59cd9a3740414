"""Sonarr's and Radarr's "Webhook" connection: `eventType` `Test` when its Test button is
pressed, `Download` when a file was imported (also for an upgrade). Sonarr names the file in
`episodeFile.path` (`episodeFiles[].path` for several); Radarr in `movieFile.path`. Older
versions give only `relativePath`, under `series.path` or `movie.folderPath`."""

from __future__ import annotations

import posixpath

from .hooks import Notice, Source

IMPORTED = frozenset({"Download"})
"""The events that bring a new media file."""


def _file_path(file: dict, folder: str | None) -> str | None:
    """A file object's absolute path, from `path` or from its folder and `relativePath`."""
    if not isinstance(file, dict):
        return None
    if isinstance(file.get("path"), str) and file["path"]:
        return file["path"]
    relative = file.get("relativePath")
    if isinstance(relative, str) and relative and isinstance(folder, str) and folder:
        return posixpath.join(folder, relative)
    return None


class SonarrSource(Source):
    """Sonarr: episodes."""

    name = "sonarr"

    def notice(self, payload: dict) -> Notice:
        """The imported episode files."""
        event = payload.get("eventType")
        if event == "Test":
            return Notice(test=True)
        if event not in IMPORTED:
            return Notice()
        folder = (payload.get("series") or {}).get("path")
        files = [payload.get("episodeFile"), *(payload.get("episodeFiles") or [])]
        return Notice([p for f in files if (p := _file_path(f, folder))])


class RadarrSource(Source):
    """Radarr: movies."""

    name = "radarr"

    def notice(self, payload: dict) -> Notice:
        """The imported movie file."""
        event = payload.get("eventType")
        if event == "Test":
            return Notice(test=True)
        if event not in IMPORTED:
            return Notice()
        folder = (payload.get("movie") or {}).get("folderPath")
        path = _file_path(payload.get("movieFile"), folder)
        return Notice([path] if path else [])
