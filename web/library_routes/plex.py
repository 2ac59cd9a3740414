"""Plex Media Server's webhooks: a multipart form whose `payload` field is JSON; `event`
`library.new` names the new item by `Metadata.ratingKey`, so its files are looked up with
Plex's API (PLEX_URL, PLEX_TOKEN) and Plex is asked to refresh it once the subtitles are
written. Plex cannot send credentials of its own: put `?token=` in the webhook URL."""

from __future__ import annotations

from .hooks import Notice, Source, form_payload, look_up

MEDIA_TYPES = frozenset({"episode", "movie", "clip", "track"})
"""Item types that are media files (a show or season is a folder)."""


class PlexSource(Source):
    """Plex."""

    name = "plex"

    def payload(self) -> dict:
        """Plex posts a form; the JSON is its `payload` field."""
        return form_payload()

    def notice(self, payload: dict) -> Notice:
        """The new item's files, and the item to refresh."""
        if payload.get("event") != "library.new":
            return Notice()
        meta = payload.get("Metadata") or {}
        if meta.get("type") not in (None, *MEDIA_TYPES):
            return Notice()
        found, item = look_up("plex", meta.get("ratingKey"))
        return Notice(found, refresh={"server": "plex", "item": item})
