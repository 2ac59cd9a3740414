"""An S3-compatible bucket as storage (AWS S3, MinIO, Cloudflare R2, ...).

`STORAGE_URL=s3://bucket/optional/prefix`. boto3 finds everything else the usual way:
credentials through its default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile,
an instance role), the endpoint from AWS_ENDPOINT_URL and the region from AWS_DEFAULT_REGION.
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from .stores import COPY_BUFFER, Entry, check_key

PART_SIZE = 8 * 1024 * 1024
"""Bytes per multipart part; also the size above which uploads go multipart."""

PARTS_IN_MEMORY = 2
"""Parts of a stream buffered at once, so a `put` holds about (this + 1) x PART_SIZE."""

DELETE_BATCH = 1000
"""The most keys one DeleteObjects request accepts."""

MISSING = {"NoSuchKey", "NotFound", "404"}
"""Error codes S3 answers for an absent key (HEAD has no body, so only the status)."""


def _transfer_config() -> TransferConfig:
    """Multipart settings that keep memory bounded whatever the object's size."""
    config = TransferConfig(
        multipart_threshold=PART_SIZE,
        multipart_chunksize=PART_SIZE,
        max_concurrency=4,
        preferred_transfer_client="classic",  # the CRT client has its own memory rules
    )
    # Unseekable streams are read into memory part by part; the default allows 10 parts.
    config.max_in_memory_upload_chunks = PARTS_IN_MEMORY
    return config


DIRECT_URL_SECONDS = 3600
"""How long a presigned media URL stays valid (a player keeps using it while it plays)."""


class S3Storage:
    """Objects in a bucket, under an optional key prefix that callers never see."""

    def __init__(self, bucket: str, prefix: str = ""):
        if not bucket:
            raise ValueError("STORAGE_URL needs a bucket: s3://bucket/optional/prefix")
        prefix = prefix.strip("/")
        self.bucket = bucket
        self.prefix = check_key(prefix + "/", prefix=True) if prefix else ""
        # AWS_ENDPOINT_URL and AWS_DEFAULT_REGION are read by botocore itself.
        self.client = boto3.session.Session().client("s3")
        self.transfer = _transfer_config()

    def _key(self, key: str, prefix: bool = False) -> str:
        """The object's key in the bucket."""
        return self.prefix + check_key(key, prefix)

    def put(self, key: str, stream: BinaryIO) -> int:
        """Upload in parts; S3 shows an object only once its upload completes."""
        counted = _Counted(stream)
        self.client.upload_fileobj(counted, self.bucket, self._key(key), Config=self.transfer)
        return counted.size

    def put_file(self, key: str, path: str | os.PathLike) -> int:
        """Upload a local file in parts read straight from disk."""
        size = os.path.getsize(path)
        self.client.upload_file(os.fspath(path), self.bucket, self._key(key), Config=self.transfer)
        return size

    def open(self, key: str) -> BinaryIO:
        """Stream the object's body (FileNotFoundError if absent)."""
        with _missing_raises(key):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        return io.BufferedReader(_Body(body), COPY_BUFFER)

    def download(self, key: str, path: str | os.PathLike) -> None:
        """Download to a local file (s3transfer writes a temp file and renames it)."""
        with _missing_raises(key):
            self.client.download_file(
                self.bucket, self._key(key), os.fspath(path), Config=self.transfer
            )

    def size(self, key: str) -> int | None:
        """Size in bytes from a HEAD request, or None."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise
        return head["ContentLength"]

    def local_path(self, key: str) -> Path | None:
        """None: a bucket has no path on this machine (check_key still applies)."""
        self._key(key)
        return None

    def direct_url(self, key: str, name: str, mimetype: str) -> str | None:
        """A presigned GET URL, valid for DIRECT_URL_SECONDS, that serves byte ranges."""
        if self.size(key) is None:
            raise FileNotFoundError(key)
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": mimetype,
                    "ResponseContentDisposition": f"inline; filename*=UTF-8''{quote(name)}"},
            ExpiresIn=DIRECT_URL_SECONDS,
        )  # fmt: skip

    def direct_origin(self) -> str | None:
        """The endpoint's origin (a custom AWS_ENDPOINT_URL, e.g. MinIO over plain HTTP); AWS
        itself answers on https://<bucket>.s3..., which the pages allow anyway."""
        parts = urlsplit(self.client.meta.endpoint_url or "")
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

    def list(self, prefix: str) -> list[Entry]:
        """Every object under the prefix, page by page."""
        strip = len(self.prefix)
        entries = [Entry(obj["Key"][strip:], obj["Size"]) for obj in self._objects(prefix)]
        return sorted(entries, key=lambda e: e.key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under the prefix, a thousand per request."""
        count, batch = 0, []
        for obj in self._objects(prefix):
            batch.append({"Key": obj["Key"]})
            if len(batch) == DELETE_BATCH:
                count += self._delete(batch)
                batch = []
        return count + (self._delete(batch) if batch else 0)

    def _objects(self, prefix: str):
        """The listing of the prefix as S3 returns it (dicts with Key and Size)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix, prefix=True)
        )
        for page in pages:
            yield from page.get("Contents", [])

    def _delete(self, batch: list[dict]) -> int:
        """One DeleteObjects request; a key it could not delete is an error."""
        answer = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise OSError(f"could not delete {first.get('Key')}: {first.get('Message')}")
        return len(batch)


class _Counted:
    """A stream seen through `read` only (s3transfer treats it as unseekable), counting bytes.

    s3transfer assumes `read(n)` returns n bytes until the end: a short first read makes it
    read all the rest into memory for one PUT, and a short later one becomes a part under
    S3's 5 MB minimum. So short reads are topped up here.
    """

    def __init__(self, stream: BinaryIO):
        self.stream, self.size = stream, 0

    def read(self, amount: int = -1) -> bytes:
        """Read `amount` bytes, fewer only at the end of the stream."""
        data = self.stream.read(amount)
        if amount is not None and 0 < len(data) < amount:
            whole = io.BytesIO()  # getvalue() hands over its buffer: no second copy of a part
            whole.write(data)
            while whole.tell() < amount and (piece := self.stream.read(amount - whole.tell())):
                whole.write(piece)
            data = whole.getvalue()
        self.size += len(data)
        return data


class _Body(io.RawIOBase):
    """A get_object body as a raw binary file, so io.BufferedReader can wrap it."""

    def __init__(self, body):
        self.body = body

    def readable(self) -> bool:
        """Always: this is a read-only stream."""
        return True

    def readinto(self, buffer) -> int:
        """Fill `buffer` with the next bytes of the body."""
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        """The rest of the body in one read."""
        return self.body.read()

    def close(self) -> None:
        """Release the HTTP connection."""
        if not self.closed:
            self.body.close()
        super().close()


def _code(exc: ClientError) -> str:
    """The S3 error code of a failed request."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _missing_raises(key: str):
    """Turn S3's answer for an absent key into FileNotFoundError, as a local file would."""
    try:
        yield
    except ClientError as exc:
        if _code(exc) in MISSING:
            raise FileNotFoundError(key) from exc
        raise
