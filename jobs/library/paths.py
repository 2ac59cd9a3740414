"""Paths as another program names them, made paths Subcue may use: PATH_MAP first (Sonarr's
`/tv` may be Subcue's `/mnt/media/tv`), then `..` and symlinks resolved, then the result must
lie inside one of MEDIA_ROOTS. Nothing outside them is read or written."""

from __future__ import annotations

import os
from pathlib import Path

from ..config import Config
from ..errors import BadRequest, NotFound, SubcueError

SUBTITLE_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa", ".sub")
"""Files next to the media that are subtitles already."""


class OutsideMediaRoots(SubcueError):
    """A path that resolves outside every MEDIA_ROOTS directory."""

    status, code = 403, "outside_media_roots"


def mapped(config: Config, raw: str) -> str:
    """`raw` with the longest matching PATH_MAP prefix replaced (whole path parts only)."""
    for source, target in sorted(config.path_map, key=lambda p: len(p[0]), reverse=True):
        if source == "/":
            return target.rstrip("/") + raw
        if raw == source or raw.startswith(source + "/"):
            return target + raw[len(source) :]
    return raw


def inside_roots(config: Config, raw: str, *, theirs: bool = True) -> Path:
    """The real path (mapped if it is `theirs`, another program's view; `..` and symlinks
    resolved) of `raw`; OutsideMediaRoots unless it lies inside one of MEDIA_ROOTS (themselves
    resolved)."""
    if not isinstance(raw, str) or not raw.startswith("/") or "\0" in raw or len(raw) > 4096:
        raise BadRequest("A media path must be an absolute path.", code="bad_path")
    real = Path(os.path.realpath(mapped(config, raw) if theirs else raw))
    roots = [Path(os.path.realpath(r)) for r in config.media_roots]
    if not any(real == root or root in real.parents for root in roots):
        where = ", ".join(config.media_roots) or "nowhere: MEDIA_ROOTS is not set"
        raise OutsideMediaRoots(f"{raw} is outside the media folders Subcue may use ({where}).")
    return real


def media_file(config: Config, raw: str, *, theirs: bool = True) -> Path:
    """`inside_roots`, and an existing regular file (NotFound otherwise)."""
    real = inside_roots(config, raw, theirs=theirs)
    if not real.is_file():
        raise NotFound(f"There is no media file at {raw}.")
    return real


def subtitle_path(media: Path, language: str) -> Path:
    """Where a language's subtitles go: `<stem>.<lang>.srt` next to the media."""
    return media.with_name(f"{media.stem}.{language}.srt")


def has_subtitles(media: Path, language: str) -> bool:
    """True when a subtitle file for `language` sits next to the media in any format
    (`Show.en.srt`, `Show.en.ass`); a symlink counts, even a broken one."""
    return any(os.path.lexists(media.with_name(f"{media.stem}.{language}{suffix}"))
               for suffix in SUBTITLE_SUFFIXES)  # fmt: skip
