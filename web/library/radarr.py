"""Radarr's "Webhook" connection: `eventType` `Test` when its Test button is pressed,
`Download` when a movie file was imported (also for an upgrade), naming it in
`movieFile.path` (older versions give only `relativePath`, under `movie.folderPath`)."""

from __future__ import annotations

from .hooks import IMPORTED, Notice, Source, file_path


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
        path = file_path(payload.get("movieFile"), folder)
        return Notice([path] if path else [])
