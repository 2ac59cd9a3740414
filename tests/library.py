"""What the library tests share: the token, Radarr's webhook and waiting for the library job
it makes to end, a media root of two films, the watcher process, and stand-ins for the
Jellyfin and Plex HTTP APIs that library jobs call (their real paths and auth headers,
answering JSON as the real servers do, keeping every request they got). conftest.py builds one
library worker on them."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from jobs.life import record

from .helpers import ROOT, make_app, wait_for

TOKEN = "library-test-token-5f1c"
"""ASR_TOKEN of the library tests."""

RADARR_AUTH = {"Authorization": "Basic " + base64.b64encode(f"radarr:{TOKEN}".encode()).decode()}
"""The Basic auth Radarr's webhook is set up with."""

JELLYFIN_KEY, PLEX_TOKEN = "jf-key-SECRET-1", "plex-SECRET-2"
"""What the stand-ins accept."""


def library_env(base_env: dict, root, servers: MediaServerStub) -> dict:
    """The library on, with `root` as the media root (Sonarr's `/tv` and the servers' `/data`
    mapped onto it), the stand-ins as Jellyfin and Plex, on a queue of its own."""
    return {**base_env, "QUEUE_NAME": "subcue-library", "ASR_TOKEN": TOKEN,
            "ASR_REJOIN_SECONDS": "0.5", "MEDIA_ROOTS": str(root),
            "PATH_MAP": f"/tv={root}/tv,/data={root}",
            "JELLYFIN_URL": servers.url, "JELLYFIN_API_KEY": JELLYFIN_KEY,
            "PLEX_URL": servers.url, "PLEX_TOKEN": PLEX_TOKEN}  # fmt: skip


def radarr(client, path: str):
    """Radarr's Download webhook for `path`."""
    payload = {"eventType": "Download", "movie": {"id": 1, "title": "X"},
               "movieFile": {"id": 1, "path": path}}  # fmt: skip
    return client.post("/hooks/radarr", json=payload, headers=RADARR_AUTH)


@contextlib.contextmanager
def watcher(env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """`python -m worker.watcher` with `env`, logging to `log`, in a session of its own; yields
    once it watches, and stops it afterwards (SIGTERM: it must leave with 0)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "worker.watcher"], cwd=ROOT,
                                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: "event=watching" in log.read_text(), timeout=30,
                 message="the watcher to start")  # fmt: skip
        yield proc
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def two_films(root: Path, short: Path, long: Path) -> Path:
    """`root` as a media root with the clip `short` as Short/Short.mp4 and `long` as
    Long/Long.flac; returns it."""
    for name, clip in (("Short/Short.mp4", short), ("Long/Long.flac", long)):
        (root / name).parent.mkdir()
        shutil.copy(clip, root / name)
    return root


def ended(conn, job_id: str, timeout: float) -> dict:
    """The library job's record once it has ended."""
    return wait_for(lambda: (r := record.get(conn, job_id))["status"] in
                    ("finished", "failed", "cancelled") and r, timeout=timeout, interval=0.1,
                    message="the library job to end")  # fmt: skip


def radarr_job(env: dict, conn, path: str, timeout: float) -> dict:
    """Radarr's Download webhook for `path`, through an app with `env`: accepted, and its one
    library job's record once the job has ended."""
    answer = radarr(make_app(env).test_client(), path)
    assert answer.status_code == 202, answer.get_json()
    return ended(conn, answer.get_json()["jobs"][0]["id"], timeout)


class MediaServerStub:
    """One HTTP server playing Jellyfin (`/Items`, `/Items/<id>/Refresh`, with the
    `Authorization: MediaBrowser Token="<key>"` header) and Plex (`/library/metadata/<key>`
    and `.../refresh`, with `X-Plex-Token`). `items` maps an item id to its file path."""

    def __init__(self, jellyfin_key: str, plex_token: str):
        self.jellyfin_key, self.plex_token = jellyfin_key, plex_token
        self.items: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            """One request to the stand-in."""

            def log_message(self, *args):  # quiet
                """No access log on stderr."""

            def _answer(self, status: int, body: dict | None = None) -> None:
                """Send `body` as JSON (or nothing)."""
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self) -> None:
                """Answer as Jellyfin or Plex would, refusing a missing or wrong key."""
                url = urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                stub.calls.append((self.command, url.path))
                if parts[0] == "Items":
                    want = f'MediaBrowser Token="{stub.jellyfin_key}"'
                    if self.headers.get("Authorization") != want:
                        return self._answer(401)
                    if self.command == "GET" and len(parts) == 1:
                        ids = parse_qs(url.query).get("ids", [""])[0].split(",")
                        found = [{"Id": i, "Path": stub.items[i]} for i in ids if i in stub.items]
                        return self._answer(200, {"Items": found, "TotalRecordCount": len(found)})
                    if self.command == "POST" and parts[2:] == ["Refresh"]:
                        return self._answer(204)
                if parts[:2] == ["library", "metadata"]:
                    if self.headers.get("X-Plex-Token") != stub.plex_token:
                        return self._answer(401)
                    key = parts[2]
                    if self.command == "GET" and len(parts) == 3 and key in stub.items:
                        part = {"id": 1, "file": stub.items[key]}
                        meta = {"ratingKey": key, "Media": [{"Part": [part]}]}
                        return self._answer(
                            200, {"MediaContainer": {"size": 1, "Metadata": [meta]}}
                        )
                    if self.command == "PUT" and parts[3:] == ["refresh"]:
                        return self._answer(200)
                return self._answer(404)

            do_GET = do_POST = do_PUT = _route

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MediaServerStub:
        """Start serving."""
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
