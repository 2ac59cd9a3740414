"""jobs/library/paths.py: PATH_MAP, then MEDIA_ROOTS after `..` and symlinks are resolved."""

import pytest

from jobs.config import Config
from jobs.errors import BadRequest, NotFound
from jobs.library.paths import (
    OutsideMediaRoots,
    has_subtitles,
    inside_roots,
    mapped,
    media_file,
    subtitle_path,
)


@pytest.fixture
def root(tmp_path):
    """A media root with one episode, and a secret outside it reachable by a symlink."""
    media = tmp_path / "media"
    (media / "tv").mkdir(parents=True)
    (media / "tv" / "ep.mkv").write_bytes(b"x")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.mkv").write_bytes(b"x")
    (media / "tv" / "out").symlink_to(tmp_path / "secret")
    return media


def config(root, path_map: str = "") -> Config:
    """Settings with `root` as the one media root."""
    return Config.from_env({"MEDIA_ROOTS": str(root), "PATH_MAP": path_map})


def test_the_longest_map_wins_and_only_on_whole_parts():
    """`/tv` maps `/tv/x` but not `/tvshows/x`; a longer prefix beats a shorter one."""
    c = Config.from_env({"PATH_MAP": "/data=/mnt,/data/tv=/srv/tv"})
    assert mapped(c, "/data/tv/a.mkv") == "/srv/tv/a.mkv"
    assert mapped(c, "/data/films/a.mkv") == "/mnt/films/a.mkv"
    assert mapped(c, "/database/a.mkv") == "/database/a.mkv"


def test_a_file_inside_the_root_is_found(root):
    """Mapped from another program's view to the real file."""
    assert media_file(config(root, f"/tv={root}/tv"), "/tv/ep.mkv") == root / "tv" / "ep.mkv"


@pytest.mark.parametrize("raw", ["{root}/tv/../../secret/key.mkv", "{root}/tv/out/key.mkv",
                                 "/etc/passwd", "{root}/../media-other/x.mkv"])  # fmt: skip
def test_dot_dot_and_symlinks_out_of_the_root_are_refused(root, raw):
    """Resolved first, then checked: 403 outside_media_roots."""
    with pytest.raises(OutsideMediaRoots) as caught:
        inside_roots(config(root), raw.format(root=root))
    assert caught.value.status == 403 and caught.value.code == "outside_media_roots"


def test_no_roots_means_nothing_is_inside():
    """MEDIA_ROOTS unset: every path is refused, and the message says why."""
    with pytest.raises(OutsideMediaRoots, match="MEDIA_ROOTS is not set"):
        inside_roots(Config.from_env({}), "/tmp/a.mkv")


def test_relative_and_missing_paths_are_refused(root):
    """A relative path is a bad request; a missing file inside the root is not found."""
    with pytest.raises(BadRequest):
        inside_roots(config(root), "tv/ep.mkv")
    with pytest.raises(NotFound):
        media_file(config(root), f"{root}/tv/none.mkv")


def test_any_subtitle_format_or_a_dangling_link_counts_as_existing(root):
    """`ep.en.ass` means English exists; a broken `ep.de.srt` link is not overwritten."""
    ep = root / "tv" / "ep.mkv"
    assert subtitle_path(ep, "en") == root / "tv" / "ep.en.srt"
    assert not has_subtitles(ep, "en")
    (root / "tv" / "ep.en.ass").write_text("x")
    (root / "tv" / "ep.de.srt").symlink_to(root / "nowhere")
    assert has_subtitles(ep, "en") and has_subtitles(ep, "de") and not has_subtitles(ep, "fr")


def test_a_path_already_in_subcues_view_is_not_mapped_twice(root):
    """A job re-checks the real path it stored: PATH_MAP must not apply to it again."""
    c = config(root, f"{root}={root}/tv")
    assert inside_roots(c, f"{root}/tv/ep.mkv", theirs=False) == root / "tv" / "ep.mkv"
    assert mapped(c, f"{root}/tv/ep.mkv") == f"{root}/tv/tv/ep.mkv"
