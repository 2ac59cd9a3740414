"""Sonarr's "Webhook" connection: `eventType` `Test` when its Test button is pressed,
`Download` when an episode file was imported (also for an upgrade), naming it in
`episodeFile.path` (`episodeFiles[].path` for several; older versions give only
`relativePath`, under `series.path`)."""

from __future__ import annotations

from .hooks import ArrSource, file_path


class SonarrSource(ArrSource):
    """Sonarr: episodes."""

    name = "sonarr"

    def imported(self, payload: dict) -> list[str]:
        """The imported episode files."""
        folder = (payload.get("series") or {}).get("path")
        files = [payload.get("episodeFile"), *(payload.get("episodeFiles") or [])]
        return [p for f in files if (p := file_path(f, folder))]
