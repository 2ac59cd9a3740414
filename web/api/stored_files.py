"""Sending a stored file (an upload or an output) to the browser: served as what it holds,
from local storage or a bucket's presigned URL."""

from __future__ import annotations

from flask import redirect, send_file

from jobs.errors import NotFound

from .. import context, filetypes
from ..security import headers


def upload_type(file: dict) -> str:
    """The type a session's file is served with, from what it holds (see web/filetypes.py):
    found when it was uploaded, or (a file uploaded before Subcue kept it) from its bytes now."""
    if file.get("mimetype") or file.get("kind") == "subtitles":
        return file.get("mimetype") or filetypes.of_upload(file, b"")
    store = context.storage()
    try:
        path = store.local_path(file["key"])
        head = filetypes.read_head(path if path is not None else store.open(file["key"]))
    except FileNotFoundError as exc:
        raise NotFound("That file is no longer stored.") from exc
    return filetypes.of_upload(file, head)


def send_stored(key: str, name: str, mimetype: str, inline: bool = False, direct: bool = False):
    """Serve a stored object as `mimetype`: in place when `inline` is asked and it is audio,
    video or subtitles, else as an attachment; never as anything a browser would run (nosniff,
    and a sandboxing policy). From disk when the backend has one (ranges work); media shown
    from a bucket is a redirect to a presigned URL (the player needs ranges to seek); else
    streamed."""
    store = context.storage()
    as_attachment = not (inline and filetypes.inline(mimetype))
    try:
        url = store.direct_url(key, name, mimetype) if direct and not as_attachment else None
        if url:
            return redirect(url)
        path = store.local_path(key)
        source = path if path is not None else store.open(key)
    except FileNotFoundError as exc:
        raise NotFound("That file is no longer stored.") from exc
    response = send_file(source, as_attachment=as_attachment, download_name=name,
                         mimetype=mimetype, conditional=True)  # fmt: skip
    response.headers["Content-Security-Policy"] = headers.STORED
    return response
