"""Watched folders: the watcher process (`python -m worker.watcher`) and a real worker turn a
file that was downloading as `.part` and then renamed into subtitles next to it, pick up what
was there at start, and leave a tree marked `.subcue-ignore` alone."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .helpers import DATA, ROOT, WorkerProcess, wait_for
from .test_translate import SPOKEN, in_order_ratio, words


@pytest.fixture
def folder(tmp_path):
    """A media root whose `incoming` folder is watched; one file there before the start and
    one in an ignored tree."""
    root = tmp_path / "media"
    (root / "incoming" / "old").mkdir(parents=True)
    (root / "incoming" / "skip").mkdir()
    shutil.copy(DATA / "speech.wav", root / "incoming" / "old" / "Before.wav")
    shutil.copy(DATA / "speech.wav", root / "incoming" / "skip" / "Private.wav")
    (root / "incoming" / "skip" / ".subcue-ignore").touch()
    return root


def test_a_renamed_download_gets_subtitles_next_to_it(folder, base_env, tmp_path):
    """`.part` is ignored while it grows; once renamed and quiet, `New.en.srt` appears."""
    env = {**base_env, "QUEUE_NAME": "subcue-library-watch", "ASR_TOKEN": "watch-token",
           "MEDIA_ROOTS": str(folder), "WATCH_DIRS": str(folder / "incoming"),
           "WATCH_STABLE_SECONDS": "1"}  # fmt: skip
    worker = WorkerProcess(env, tmp_path / "worker.log")
    log = tmp_path / "watcher.log"
    with open(log, "ab") as out:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "worker.watcher"],
            cwd=ROOT,
            env={**worker.env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "event=watching" in log.read_text(), timeout=30,
                 message="the watcher to start")  # fmt: skip
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
    finally:
        watcher.terminate()
        assert watcher.wait(10) == 0
        worker.stop()
