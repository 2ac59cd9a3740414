"""Watched folders: the watcher process (`python -m worker.watcher`) and a real worker turn a
file that was downloading as `.part` and then renamed into subtitles next to it, pick up what
was there at start, and leave a tree marked `.subcue-ignore` alone."""

from __future__ import annotations

import shutil

import pytest

from .helpers import DATA, wait_for
from .library import watcher
from .test_translate import SPOKEN, in_order_ratio, words


@pytest.fixture
def folder(library_root, short_speech):
    """The media root, whose `incoming` folder is watched; one file there before the start and
    one in an ignored tree."""
    root = library_root
    (root / "incoming" / "old").mkdir(parents=True)
    (root / "incoming" / "skip").mkdir()
    shutil.copy(short_speech, root / "incoming" / "old" / "Before.mp4")
    shutil.copy(DATA / "speech.wav", root / "incoming" / "skip" / "Private.wav")
    (root / "incoming" / "skip" / ".subcue-ignore").touch()
    return root


def test_a_renamed_download_gets_subtitles_next_to_it(folder, library_env, library_worker,
                                                      tmp_path):  # fmt: skip
    """`.part` is ignored while it grows; once renamed and quiet, `New.en.srt` appears."""
    env = {**library_env, "WATCH_DIRS": str(folder / "incoming"), "WATCH_STABLE_SECONDS": "1"}
    log = tmp_path / "watcher.log"
    with watcher(env, log):
        incoming = folder / "incoming"
        partial = incoming / "New.wav.part"
        audio = (DATA / "speech.wav").read_bytes()
        partial.write_bytes(audio[: len(audio) // 2])
        with open(partial, "ab") as f:
            f.write(audio[len(audio) // 2 :])
        partial.rename(incoming / "New.wav")

        made = wait_for(lambda: (p := incoming / "New.en.srt").exists() and p, timeout=90,
                        interval=0.2, message=lambda: log.read_text())  # fmt: skip
        assert in_order_ratio(words(SPOKEN), words(made.read_text())) >= 0.6
        wait_for(lambda: (incoming / "old" / "Before.en.srt").exists(), timeout=90,
                 interval=0.2, message="the file there at start to get subtitles")  # fmt: skip
        assert sorted(p.name for p in incoming.iterdir()) == ["New.en.srt", "New.wav", "old",
                                                             "skip"]  # fmt: skip
        assert sorted(p.name for p in (incoming / "skip").iterdir()) == [".subcue-ignore",
                                                                         "Private.wav"]  # fmt: skip
