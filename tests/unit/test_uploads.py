"""web/uploads.py: file names a user sent become safe to show and store."""

import pytest

from web.uploads import MAX_NAME_CHARS, safe_name


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("talk.mp4", "talk.mp4"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\video.mov", "video.mov"),
        ("bad\x00name\x1b.wav", "badname.wav"),
        (".hidden.mp3", "hidden.mp3"),
        (".wav", "upload.wav"),
        ("", "upload"),
        (None, "upload"),
        ("گفتگو.mp4", "گفتگو.mp4"),
        ("report.tar.gz?x=1", "report.tar"),
    ],
)
def test_names_lose_directories_and_control_characters_and_keep_their_letters(raw, safe):
    """No path, no control characters, no leading dots; any script's letters stay."""
    assert safe_name(raw) == safe


def test_long_names_are_cut_but_keep_their_extension():
    """A 300-character name becomes MAX_NAME_CHARS, extension included."""
    name = safe_name("x" * 300 + ".webm")
    assert len(name) == MAX_NAME_CHARS and name.endswith(".webm")
