"""Jellyfin's webhook plugin (a "Generic Destination" with "Send All Properties"): on
`NotificationType` `ItemAdded` it names the item by `ItemId` only, so its file is looked up
with Jellyfin's API (JELLYFIN_URL, JELLYFIN_API_KEY) and Jellyfin is asked to refresh the item
once its subtitles are written."""

from __future__ import annotations

from .hooks import Notice, Source, look_up

MEDIA_TYPES = frozenset({"Episode", "Movie", "Video", "MusicVideo", "Audio", "AudioBook"})
"""Item types that are one media file (a Series or Season is a folder)."""


class JellyfinSource(Source):
    """Jellyfin."""

    name = "jellyfin"

    def notice(self, payload: dict) -> Notice:
        """The added item's file, and the item to refresh."""
        if payload.get("NotificationType") != "ItemAdded":
            return Notice()
        if payload.get("ItemType") not in (None, *MEDIA_TYPES):
            return Notice()
        found, item = look_up("jellyfin", payload.get("ItemId"))
        return Notice(found, refresh={"server": "jellyfin", "item": item})
