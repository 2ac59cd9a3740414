"""`POST /hooks/<source>`: a program of the library says a media file arrived. Each source
(one module: sonarr, radarr, jellyfin, plex) turns its payload into a Notice; from there it
is one path: PATH_MAP and MEDIA_ROOTS (403 `outside_media_roots`), then a library job per
file, or the one already queued or running for it. Answers 202 `{"jobs": [{"id", "path"}]}`
(a file whose subtitles all exist is left out); a test event answers 200."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from flask import jsonify, request

from jobs.errors import BadRequest, NotFound, SubcueError
from jobs.library import intake, paths, servers

from .. import context
from . import bp, log

MAX_BODY_BYTES = 10 * 1024 * 1024
"""A webhook is a small JSON document (Plex's form may carry a thumbnail): more is refused."""

MAX_FILES = 100
"""Media files one webhook may name (a season pack)."""


@dataclass
class Notice:
    """What a webhook said: media paths as its program sees them, and what to refresh after."""

    paths: list[str] = field(default_factory=list)
    refresh: dict | None = None
    test: bool = False


class Source:
    """A program that sends webhooks: its name, and how its payload becomes a Notice."""

    name = ""

    def payload(self) -> dict:
        """The request's JSON object (a form's `payload` field for programs that post forms)."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest(f"{self.name} sends a JSON object; this was not one.",
                             code="bad_payload")  # fmt: skip
        return body

    def notice(self, payload: dict) -> Notice:
        """The payload's media paths (or a test, or nothing to do)."""
        raise NotImplementedError


def _sources() -> dict[str, Source]:
    """Every source by the name in its URL."""
    from .jellyfin import JellyfinSource
    from .plex import PlexSource
    from .radarr import RadarrSource
    from .sonarr import SonarrSource

    return {s.name: s for s in (SonarrSource(), RadarrSource(), JellyfinSource(), PlexSource())}


@bp.post("/hooks/<source>")
def hook(source: str):
    """Start (or find) the library job of every media file the webhook names."""
    request.max_content_length = MAX_BODY_BYTES
    found = _sources().get(source)
    if found is None:
        raise NotFound(f"There is no webhook for {source[:40]!r}; use sonarr, radarr, jellyfin "
                       "or plex.")  # fmt: skip
    told = found.notice(found.payload())
    if told.test:
        return jsonify({"ok": True, "message": f"Subcue hears {found.name}."}), 200
    if len(told.paths) > MAX_FILES:
        raise BadRequest(f"At most {MAX_FILES} media files in one webhook.", code="too_many_files")
    config, conn = context.config(), context.conn()
    media = [paths.media_file(config, p) for p in dict.fromkeys(told.paths)]  # all, then jobs
    jobs = []
    for path in media:
        job_id = intake.request_subtitles(conn, config, path, refresh=told.refresh)
        if job_id is not None:
            jobs.append({"id": job_id, "path": str(path)})
    log.info("event=webhook source=%s files=%d jobs=%d", found.name, len(media), len(jobs))
    return jsonify({"jobs": jobs}), 202


IMPORTED = frozenset({"Download"})
"""Sonarr's and Radarr's events that bring a new media file (an upgrade is one too)."""


class ArrSource(Source):
    """Sonarr and Radarr: `eventType` `Test` from the Test button, a new file on IMPORTED."""

    def notice(self, payload: dict) -> Notice:
        """The imported files (or a test, or nothing to do for other events)."""
        event = payload.get("eventType")
        if event == "Test":
            return Notice(test=True)
        return Notice(self.imported(payload) if event in IMPORTED else [])

    def imported(self, payload: dict) -> list[str]:
        """The paths of the files an import event names."""
        raise NotImplementedError


def file_path(file: dict, folder: str | None) -> str | None:
    """A Sonarr/Radarr file object's absolute path: its `path`, or its folder joined with
    its `relativePath` (older versions)."""
    if not isinstance(file, dict):
        return None
    if isinstance(file.get("path"), str) and file["path"]:
        return file["path"]
    relative = file.get("relativePath")
    if isinstance(relative, str) and relative and isinstance(folder, str) and folder:
        return posixpath.join(folder, relative)
    return None


class ServerUnreachable(SubcueError):
    """The media server that sent the webhook could not tell us the file."""

    status, code = 502, "media_server_error"


def look_up(name: str, item) -> tuple[list[str], str]:
    """The item's files from the media server `name` (jobs/library/servers), and its id."""
    server = servers.server(context.config(), name)
    try:
        item = server.item(item)
        return server.files(item), item
    except servers.ServerError as exc:
        raise ServerUnreachable(str(exc)) from exc


def form_payload() -> dict:
    """A JSON object sent as the multipart field `payload` (as Plex does)."""
    try:
        body = json.loads(request.form.get("payload") or "")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadRequest("Expected a JSON object in the form field 'payload'.",
                         code="bad_payload")  # fmt: skip
    return body
