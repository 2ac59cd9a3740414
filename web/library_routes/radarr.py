"""Radarr's "Webhook" connection: `eventType` `Test` when its Test button is pressed,
`Download` when a movie file was imported (also for an upgrade), naming it in
`movieFile.path` (older versions give only `relativePath`, under `movie.folderPath`)."""

from __future__ import annotations

from .hooks import ArrSource, file_path


class RadarrSource(ArrSource):
    """Radarr: movies."""

    name = "radarr"

    def imported(self, payload: dict) -> list[str]:
        """The imported movie file."""
        folder = (payload.get("movie") or {}).get("folderPath")
        path = file_path(payload.get("movieFile"), folder)
        return [path] if path else []
