"""The audio of a whisper-API request, read at once (Bazarr gives up when its body is not
read within its connect timeout) and spooled to disk under TEMP_DIR, never into memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import request
from werkzeug.datastructures import FileStorage

from jobs.errors import BadRequest, NotMedia, TooLarge
from jobs.library.asr import MAX_WAV_DATA, wrap_pcm
from jobs.subtitles.formats import reader

from .. import context, uploads

MB = 1024 * 1024
FIELD = "audio_file"
"""The multipart field whisper-asr-webservice reads (Bazarr names the part and its file so)."""


def allow_large_body() -> None:
    """Let this request's body reach ASR_MAX_UPLOAD_MB (an hour of PCM is 115 MB; a film
    sent with `encode=true` is larger than the form's MAX_UPLOAD_MB)."""
    request.max_content_length = context.config().asr_max_upload_mb * MB + MB


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MB):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def received(encode: bool, stem: str) -> Iterator[tuple[uploads.Staged, str]]:
    """The request's audio staged as one probed file named `<stem>.<ext>` (raw PCM wrapped
    as `<stem>.wav` first), through the same checks as any upload, with its SHA-256; the
    staging dir is gone when the block ends."""
    upload = request.files.get(FIELD)
    if upload is None:
        raise BadRequest(f"Send the audio as the multipart field '{FIELD}'.", code="no_file")
    limit = context.config().asr_max_upload_mb
    staged = uploads.Staged()
    try:
        if encode:
            ext = Path(uploads.safe_name(upload.filename)).suffix
            if reader.format_of("audio" + ext) is not None:
                raise NotMedia("Send audio or video; a subtitle file has nothing to hear.")
            upload.stream.seek(0)
            staged.add(FileStorage(upload.stream, filename=stem + ext), limit_mb=limit)
        else:
            wav = _wrapped(upload, staged.dir / "pcm.wav")
            with open(wav, "rb") as f:
                staged.add(FileStorage(f, filename=stem + ".wav"), limit_mb=limit)
            wav.unlink()
        yield staged, sha256_of(Path(staged.files[0]["path"]))
    finally:
        staged.__exit__(None, None, None)


def _wrapped(upload: FileStorage, dest: Path) -> Path:
    """Bazarr's raw 16 kHz mono s16le PCM as a WAV file at `dest`."""
    upload.stream.seek(0, 2)
    size = upload.stream.tell()
    upload.stream.seek(0)
    if size < 2:
        raise BadRequest("The audio is empty.", code="empty_file")
    if size - size % 2 > MAX_WAV_DATA:
        raise TooLarge("Raw PCM that long does not fit in one WAV file; send it encoded.")
    try:
        wrap_pcm(upload.stream, dest, size)
    except ValueError as exc:  # the spooled upload ended early
        raise BadRequest(f"The audio could not be read: {exc}.", code="bad_audio") from exc
    return dest
