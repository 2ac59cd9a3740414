"""The Content-Type a stored file is served with: from what it holds, never from its name.

An upload's name is the uploader's choice: `x.html` holding a WAV with a script appended was
served as text/html, and the script ran. Uploaded media is typed by its first bytes (the
container's signature; the probe already said whether it holds a picture), uploaded
subtitles by the format they were parsed as, and a job's outputs by the suffix Subcue gave
them. Only audio, video and subtitles are ever served inline.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

UNKNOWN = "application/octet-stream"
"""A type for what is not recognised: always downloaded, never shown."""

HEAD_BYTES = 64
"""Bytes of a file read to recognise its container."""

SUBTITLES = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa",
             "ssa": "text/x-ssa"}  # fmt: skip
"""Subtitle format (as jobs/subtitles/formats/reader.py names them) -> its type."""

OUTPUTS = {
    ".srt": SUBTITLES["srt"], ".vtt": SUBTITLES["vtt"], ".ass": SUBTITLES["ass"],
    ".json": "application/json", ".mkv": "video/x-matroska", ".mp4": "video/mp4",
}  # fmt: skip
"""A job output's suffix (always Subcue's own, whatever the upload was called) -> its type."""

INLINE = ("audio/", "video/", *SUBTITLES.values())
"""Types a browser may show or play in place; anything else is an attachment."""


def _av(has_video: bool, subtype: str) -> str:
    """video/<subtype> for a file with a picture, audio/<subtype> without one."""
    return f"{'video' if has_video else 'audio'}/{subtype}"


def of_media(head: bytes, has_video: bool) -> str:
    """The type of uploaded media from its first bytes (UNKNOWN when no known container)."""
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return "audio/wav" if head[8:12] == b"WAVE" else "video/x-msvideo"
    if head[4:8] == b"ftyp":
        return _av(has_video, "mp4")
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # QuickTime without an ftyp box
        return "video/quicktime"
    if head[:4] == b"\x1aE\xdf\xa3":  # EBML: Matroska, or WebM by its doctype
        return _av(has_video, "webm" if b"webm" in head else "x-matroska")
    if head[:4] == b"OggS":
        return _av(has_video, "ogg")
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:3] == b"ID3":
        return "audio/mpeg"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"  # layer 0: ADTS
    return UNKNOWN


def of_upload(file: dict, head: bytes) -> str:
    """The type of a session's file: subtitles by their parsed format, media by its bytes."""
    if file.get("kind") == "subtitles":
        return SUBTITLES.get(file.get("format") or "", UNKNOWN)
    return of_media(head, bool(file.get("has_video")))


def of_output(name: str) -> str:
    """The type of a job's output, by the suffix Subcue gave it."""
    return OUTPUTS.get(PurePosixPath(name).suffix.lower(), UNKNOWN)


def inline(mimetype: str) -> bool:
    """Whether a file of this type may be shown in place (audio, video, subtitles)."""
    return mimetype.startswith(INLINE)


def read_head(source) -> bytes:
    """The first HEAD_BYTES of a path or an open binary stream (which is closed)."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            return f.read(HEAD_BYTES)
    try:
        return source.read(HEAD_BYTES)
    finally:
        source.close()
