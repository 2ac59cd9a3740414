"""Sonarr's "Webhook" connection: `eventType` `Test` when its Test button is pressed,
`Download` when an episode file was imported (also for an upgrade), naming it in
`episodeFile.path` (`episodeFiles[].path` for several; older versions give only
`relativePath`, under `series.path`)."""

from __future__ import annotations

from .hooks import IMPORTED, Notice, Source, file_path


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
        return Notice([p for f in files if (p := file_path(f, folder))])
