"""jobs/library/folders.py: what a watched folder turns into jobs, and when."""

from pathlib import Path

from jobs.library.folders import Settling, ignored, is_candidate, scan


def test_media_names_are_candidates_and_downloads_in_progress_are_not():
    """By suffix, case-insensitively; partial downloads and hidden files never."""
    assert is_candidate(Path("/m/Show S01E01.MKV")) and is_candidate(Path("/m/talk.mp3"))
    for name in ("a.mkv.part", "a.mkv.!qB", "a.mkv.tmp", ".a.mkv", "a.en.srt", "a.nfo"):
        assert not is_candidate(Path("/m") / name), name


def test_an_ignore_file_skips_its_whole_tree(tmp_path):
    """`.subcue-ignore` in a folder hides it and every folder under it, not its siblings."""
    (tmp_path / "skip" / "deep").mkdir(parents=True)
    (tmp_path / "keep").mkdir()
    (tmp_path / "skip" / ".subcue-ignore").touch()
    for name in ("skip/deep/a.mkv", "skip/b.mkv", "keep/c.mkv", "keep/c.mkv.part"):
        (tmp_path / name).write_bytes(b"x")
    assert scan(tmp_path) == [tmp_path / "keep" / "c.mkv"]
    assert ignored(tmp_path / "skip" / "deep" / "a.mkv", tmp_path)
    assert not ignored(tmp_path / "keep" / "c.mkv", tmp_path)


def test_a_file_is_ready_once_it_stops_changing(tmp_path):
    """Quiet for the whole period after its last change; a growing file waits again."""
    now = [0.0]
    settling = Settling(quiet=5, clock=lambda: now[0])
    film = tmp_path / "film.mkv"
    film.write_bytes(b"a")
    settling.add(film)
    now[0] = 4
    assert settling.ready() == []
    with open(film, "ab") as f:
        f.write(b"more")
    now[0] = 6
    assert settling.ready() == []  # it changed: the quiet time starts again
    now[0] = 11.5
    assert settling.ready() == [film] and settling.seen == {}


def test_a_file_renamed_away_is_forgotten(tmp_path):
    """A `.part` renamed is reported under its new name; the old one drops out."""
    settling = Settling(quiet=0)
    partial = tmp_path / "a.mkv.part"
    partial.write_bytes(b"x")
    settling.add(partial)
    partial.rename(tmp_path / "a.mkv")
    assert settling.ready() == [] and settling.seen == {}
