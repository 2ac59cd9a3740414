"""Accepting uploaded files: safe names, size limits, a probe, then storage."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from werkzeug.datastructures import FileStorage

from jobs.errors import BadRequest, MediaTooLong, NotMedia, TooLarge
from jobs.life import record, session
from jobs.media import probe
from jobs.storage import footprint
from jobs.storage.stores import upload_key
from jobs.subtitles.formats import reader

from . import context, filetypes
from .security import owner

MAX_NAME_CHARS = 120
"""Longer names are cut (keeping the extension), so keys and headers stay sane."""

MAX_FILES = 20
"""Files accepted in one request."""


def safe_name(raw: str | None) -> str:
    """A display-safe file name: no directories, control characters or leading dots."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    stem, ext = os.path.splitext(name)
    if not ext and stem.startswith("."):  # ".wav": nothing but an extension
        stem, ext = "", stem
    stem = stem.lstrip(". ").strip()
    ext = ext if re.fullmatch(r"\.\w{1,11}", ext) else ""
    return (stem[: MAX_NAME_CHARS - len(ext)].strip() or "upload") + ext


class Staged:
    """Uploads saved to local temp files and probed, not yet stored."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="subcue-upload-", dir=_temp_root()))
        self.files: list[dict] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)

    def add(self, upload: FileStorage, limit_mb: int | None = None) -> None:
        """Save one upload locally and probe it; refuse empty, oversized (over `limit_mb`,
        default MAX_UPLOAD_MB) or non-media files."""
        name = safe_name(upload.filename)
        path = self.dir / f"{len(self.files)}"
        upload.save(path)
        size = path.stat().st_size
        limit = limit_mb or context.config().max_upload_mb
        if size == 0:
            raise BadRequest(f"{name} is empty.", code="empty_file")
        if size > limit * 1024 * 1024:
            raise TooLarge(f"{name} is larger than {limit} MB.")
        fmt = reader.format_of(name)
        if fmt is not None:  # translated as text: read it now, so a broken one is refused
            reader.check_size(size, name)  # before reading: parsing is CPU the process shares
            parsed = reader.read(reader.decode(path.read_bytes(), name), fmt, name)
            self.files.append({"id": record.new_id(), "name": name, "size": size,
                               "duration_s": round(parsed.duration_s, 3), "has_video": False,
                               "kind": "subtitles", "format": fmt, "cues": len(parsed.cues),
                               "path": str(path)})  # fmt: skip
            return
        try:
            found = probe.probe(path, probe.ffmpeg_binary(context.config().ffmpeg_binary))
            probe.check_length(found.duration_s, context.config().max_media_minutes)
        except (NotMedia, MediaTooLong) as exc:
            raise type(exc)(f"{name}: {exc.message}") from exc
        self.files.append(
            {"id": record.new_id(), "name": name, "size": size,
             "duration_s": round(found.duration_s, 3), "has_video": found.has_video,
             "demuxer": found.demuxer, "path": str(path)}
        )  # fmt: skip


def stage(uploads: list[FileStorage]) -> Staged:
    """Stage every file of the request (all are checked before any is stored)."""
    uploads = [u for u in uploads if u and (u.filename or u.content_length)]
    if not uploads:
        raise BadRequest("Attach at least one audio, video or subtitle file as 'file'.",
                         code="no_file")  # fmt: skip
    if len(uploads) > MAX_FILES:
        raise BadRequest(f"At most {MAX_FILES} files per request.", code="too_many_files")
    staged = Staged()
    try:
        for upload in uploads:
            staged.add(upload)
    except BaseException:
        staged.__exit__(None, None, None)
        raise
    return staged


def store(staged: Staged, session_id: str) -> list[dict]:
    """Move staged files into storage and record them on the session; 413 `storage_quota`,
    before any is stored, when they would take the owner over OWNER_STORAGE_MB."""
    size = sum(file["size"] for file in staged.files)
    footprint.reserve(context.conn(), owner.current(), session_id, size,
                      context.config().owner_storage_mb)  # fmt: skip
    stored = []
    for file in staged.files:
        key = upload_key(session_id, file["id"], file["name"])
        context.storage().put_file(key, file["path"])
        entry = {k: v for k, v in file.items() if k != "path"} | {"key": key}
        # typed now, from the bytes on local disk: served by that, never by the name
        entry["mimetype"] = filetypes.of_upload(file, filetypes.read_head(file["path"]))
        session.add_file(context.conn(), session_id, entry)
        stored.append(entry)
    return stored


def _temp_root() -> str:
    """Staging lives under TEMP_DIR, next to the jobs' temp directories."""
    root = Path(context.config().temp_dir) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return str(root)
