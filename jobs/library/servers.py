"""The media servers Subcue talks back to (Jellyfin, Plex): one small class per server, each
able to say which files an item of its library is and to make it look at the item again once
its subtitles are written. Their addresses and keys come from the Config only; a key is sent
in the header each server documents, never in a URL that might be logged."""

from __future__ import annotations

import re

import httpx

from ..config import Config

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""A media server that does not answer in this long is reported, not waited for."""


class ServerError(Exception):
    """A media server could not be asked (not configured, unreachable, or it said no)."""


class MediaServer:
    """What Subcue asks of a media server."""

    name = ""
    item_pattern = re.compile(r"\w{1,64}")
    """What an item id of this server looks like (it goes into a URL path)."""

    def item(self, value) -> str:
        """`value` as an item id; ServerError unless it looks like one."""
        text = str(value)
        if not self.item_pattern.fullmatch(text):
            raise ServerError(f"{text[:40]!r} is not a {self.name} item id.")
        return text

    def __init__(self, config: Config):
        self.config = config

    def files(self, item: str) -> list[str]:
        """The paths (as the server sees them) of an item's media files."""
        raise NotImplementedError

    def refresh(self, item: str) -> None:
        """Ask the server to look at the item again (its new subtitles)."""
        raise NotImplementedError

    def _call(self, method: str, url: str, headers: dict, **kwargs) -> httpx.Response:
        """One request; ServerError for a transport failure or a non-2xx answer."""
        try:
            response = httpx.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"{self.name} could not be reached: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise ServerError(f"{self.name} answered {response.status_code} to {method} "
                              f"{httpx.URL(url).path}")  # fmt: skip
        return response


class Jellyfin(MediaServer):
    """Jellyfin's API with JELLYFIN_URL and JELLYFIN_API_KEY (the MediaBrowser token header)."""

    name = "Jellyfin"
    item_pattern = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}")

    def _headers(self) -> dict:
        """Jellyfin's documented authorization header for an API key."""
        if not (self.config.jellyfin_url and self.config.jellyfin_api_key):
            raise ServerError("Jellyfin is not configured (JELLYFIN_URL, JELLYFIN_API_KEY).")
        return {"Authorization": f'MediaBrowser Token="{self.config.jellyfin_api_key}"',
                "Accept": "application/json"}  # fmt: skip

    def files(self, item: str) -> list[str]:
        """`GET /Items?ids=<id>&fields=Path`: the item's path."""
        headers, item = self._headers(), self.item(item)
        answer = self._call("GET", f"{self.config.jellyfin_url}/Items", headers,
                            params={"ids": item, "fields": "Path"})  # fmt: skip
        items = (answer.json() or {}).get("Items") or []
        return [i["Path"] for i in items if isinstance(i, dict) and isinstance(i.get("Path"), str)]

    def refresh(self, item: str) -> None:
        """`POST /Items/<id>/Refresh`: Jellyfin scans the item's folder again."""
        headers, item = self._headers(), self.item(item)
        self._call("POST", f"{self.config.jellyfin_url}/Items/{item}/Refresh", headers,
                   params={"metadataRefreshMode": "Default", "imageRefreshMode": "Default",
                           "replaceAllMetadata": "false", "replaceAllImages": "false"})  # fmt: skip


class Plex(MediaServer):
    """Plex Media Server's API with PLEX_URL and PLEX_TOKEN (the X-Plex-Token header)."""

    name = "Plex"
    item_pattern = re.compile(r"\d{1,12}")

    def _headers(self) -> dict:
        """Plex's token header, and JSON rather than its default XML."""
        if not (self.config.plex_url and self.config.plex_token):
            raise ServerError("Plex is not configured (PLEX_URL, PLEX_TOKEN).")
        return {"X-Plex-Token": self.config.plex_token, "Accept": "application/json"}

    def files(self, item: str) -> list[str]:
        """`GET /library/metadata/<ratingKey>`: the files of every part of every version."""
        headers, item = self._headers(), self.item(item)
        answer = self._call("GET", f"{self.config.plex_url}/library/metadata/{item}", headers)
        found = []
        for meta in ((answer.json() or {}).get("MediaContainer") or {}).get("Metadata") or []:
            for version in meta.get("Media") or []:
                found += [p["file"] for p in version.get("Part") or []
                          if isinstance(p.get("file"), str)]  # fmt: skip
        return found

    def refresh(self, item: str) -> None:
        """`PUT /library/metadata/<ratingKey>/refresh`."""
        headers, item = self._headers(), self.item(item)
        self._call("PUT", f"{self.config.plex_url}/library/metadata/{item}/refresh", headers)


SERVERS = {"jellyfin": Jellyfin, "plex": Plex}
"""Server name (as stored in a library job's `refresh`) -> its class."""


def server(config: Config, name: str) -> MediaServer:
    """The media server `name`, configured."""
    return SERVERS[name](config)


def refresh(config: Config, asked: dict) -> None:
    """Refresh what a library job's `refresh` names: `{"server", "item"}`."""
    server(config, asked["server"]).refresh(str(asked["item"]))
