"""Where uploads and outputs live, behind one interface of keys (not paths).

Keys look like `sessions/<sid>/uploads/<file id>/<name>` and `jobs/<job id>/outputs/<name>`.
The local directory backend is the default (`STORAGE_URL=file:///...`); an S3-compatible
bucket (`STORAGE_URL=s3://bucket/prefix`, jobs/storage/s3.py) implements the same methods and
passes the same tests. Every write appears atomically or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse

COPY_BUFFER = 1024 * 1024
"""Bytes moved per read when streaming a file, so memory never grows with file size."""


PART_PREFIX = ".part-"
"""Name prefix of a local write in progress; such files are never listed."""


def check_key(key: str, prefix: bool = False) -> str:
    """Return `key` if every backend would read it the same way, else raise ValueError.

    A directory would resolve `a/../b`, `a/./b` and `a//b` while a bucket keeps them as
    distinct keys, so both refuse them, and a leading `/`. A prefix may end with `/`.
    """
    parts = key.split("/")
    if prefix and len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not key or "\0" in key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"bad storage key: {key!r}")
    return key


@dataclass(frozen=True)
class Entry:
    """One stored object."""

    key: str
    size: int


class Storage(Protocol):
    """What web and worker need from a storage backend."""

    def put(self, key: str, stream: BinaryIO) -> int:
        """Store `stream` under `key` atomically; return its size."""

    def put_file(self, key: str, path: str | os.PathLike) -> int:
        """Store a local file under `key` atomically; return its size."""

    def open(self, key: str) -> BinaryIO:
        """Open a stored object for reading (FileNotFoundError if absent)."""

    def download(self, key: str, path: str | os.PathLike) -> None:
        """Copy a stored object to a local file."""

    def size(self, key: str) -> int | None:
        """The object's size, or None if it does not exist."""

    def local_path(self, key: str) -> Path | None:
        """A path on this machine's disk if the backend has one (lets HTTP serve ranges)."""

    def direct_url(self, key: str, name: str, mimetype: str) -> str | None:
        """A URL a browser can fetch the object from directly (with ranges), or None."""

    def direct_origin(self) -> str | None:
        """The scheme://host[:port] that `direct_url`s point at, if the backend has one (the
        pages' Content-Security-Policy lets media load from it)."""

    def list(self, prefix: str) -> list[Entry]:
        """Every object whose key starts with `prefix`, sorted by key."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; return how many were deleted."""


class LocalStorage:
    """A directory on the local disk (web and worker must share it)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        """Map a key to a path under the root, refusing anything that escapes it."""
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:  # a symlink inside the root may still point out
            raise ValueError(f"bad storage key: {key!r}")
        return path

    def put(self, key: str, stream: BinaryIO) -> int:
        """Stream into a temp file beside the target, then rename it into place."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=PART_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, COPY_BUFFER)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path.stat().st_size

    def put_file(self, key: str, path: str | os.PathLike) -> int:
        """Copy a local file in (see put)."""
        with open(path, "rb") as stream:
            return self.put(key, stream)

    def open(self, key: str) -> BinaryIO:
        """Open for reading."""
        return open(self._path(key), "rb")

    def download(self, key: str, path: str | os.PathLike) -> None:
        """Copy out to a local path."""
        shutil.copyfile(self._path(key), path)

    def size(self, key: str) -> int | None:
        """Size in bytes, or None."""
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def local_path(self, key: str) -> Path | None:
        """The file itself (FileNotFoundError if absent)."""
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path

    def direct_url(self, key: str, name: str, mimetype: str) -> str | None:
        """None: the app serves local files itself."""
        return None

    def direct_origin(self) -> str | None:
        """None: no direct URLs."""
        return None

    def list(self, prefix: str) -> list[Entry]:
        """Walk the directory holding the prefix, keeping keys that start with it."""
        base = self._folder(prefix)
        if not base.is_dir():
            return []
        entries = []
        for path in base.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and path.is_file() and not path.name.startswith(PART_PREFIX):
                entries.append(Entry(key, path.stat().st_size))
        return sorted(entries, key=lambda e: e.key)

    def delete_prefix(self, prefix: str) -> int:
        """Remove what the prefix lists (a whole directory for a prefix ending in `/`)."""
        entries = self.list(prefix)
        if prefix.endswith("/"):
            # rmtree also takes writes still in progress and the emptied directories
            shutil.rmtree(self._folder(prefix), ignore_errors=True)
        for entry in entries:
            (self.root / entry.key).unlink(missing_ok=True)
        return len(entries)

    def _folder(self, prefix: str) -> Path:
        """The directory every key with this prefix lies under."""
        folder = check_key(prefix, prefix=True).rpartition("/")[0]
        return self._path(folder) if folder else self.root


def open_storage(url: str) -> Storage:
    """The backend that STORAGE_URL names: `file:///dir`, a plain path or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return LocalStorage(parsed.path if parsed.scheme else url)
    if parsed.scheme == "s3":
        from .s3 import S3Storage  # boto3 is only imported where a bucket is used

        return S3Storage(parsed.netloc, parsed.path)
    raise ValueError(f"unsupported STORAGE_URL scheme: {parsed.scheme!r}")


def upload_key(session_id: str, file_id: str, name: str) -> str:
    """Where an uploaded file is kept."""
    return f"sessions/{session_id}/uploads/{file_id}/{name}"


def output_key(job_id: str, name: str) -> str:
    """Where a job's output file is kept."""
    return f"jobs/{job_id}/outputs/{name}"


def session_prefix(session_id: str) -> str:
    """Everything stored for a session (its uploads)."""
    return f"sessions/{session_id}/"


def job_prefix(job_id: str) -> str:
    """Everything stored for a job (its outputs)."""
    return f"jobs/{job_id}/"
