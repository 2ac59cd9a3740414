"""Library jobs with the Gemini engine (against its stand-in): subtitles in every one of
LIBRARY_LANGUAGES next to the media, and a job whose worst case would pass the owner's daily
budget refused before any call."""

from __future__ import annotations

import pytest

from .helpers import WorkerProcess, gemini_env
from .library import TOKEN, radarr_job, two_films


@pytest.fixture(scope="module")
def films(tmp_path_factory, short_speech, two_hour_silence):
    """A media root with a 4 s film and a two-hour one."""
    return two_films(tmp_path_factory.mktemp("gemini-library"), short_speech, two_hour_silence)


@pytest.fixture(scope="module")
def env(base_env, stub, films) -> dict:
    """Gemini for library jobs, into English and German, with a $1 daily budget per owner."""
    return gemini_env(base_env, stub.url, "subcue-library-gemini", ASR_TOKEN=TOKEN,
                      MEDIA_ROOTS=str(films), LIBRARY_ENGINE="gemini",
                      LIBRARY_LANGUAGES="en,de", OWNER_DAILY_BUDGET_USD="1")  # fmt: skip


@pytest.fixture(scope="module")
def gemini_worker(env, tmp_path_factory):
    """A real worker with those settings."""
    proc = WorkerProcess(env, tmp_path_factory.mktemp("library-gemini") / "worker.log")
    yield proc
    proc.stop()


def test_every_library_language_is_written(env, gemini_worker, films, stub, conn):
    """`Short.en.srt` heard from the audio and `Short.de.srt` translated from it."""
    stub.reset()
    rec = radarr_job(env, conn, str(films / "Short" / "Short.mp4"), timeout=60)
    assert rec["status"] == "finished", rec.get("error")
    assert sorted(p.name for p in (films / "Short").iterdir()) == [
        "Short.de.srt", "Short.en.srt", "Short.mp4"]  # fmt: skip
    assert "-->" in (films / "Short" / "Short.de.srt").read_text()
    assert rec["usage"]["cost_usd"] > 0


def test_a_job_that_could_pass_the_budget_is_refused_before_any_call(
    env, gemini_worker, films, stub, conn
):
    """Two hours into two languages may cost more than $1: failed budget_exhausted, the job
    list says why, the stand-in got no call, nothing written."""
    stub.reset()
    rec = radarr_job(env, conn, str(films / "Long" / "Long.flac"), timeout=60)
    assert rec["status"] == "failed" and rec["error"]["code"] == "budget_exhausted"
    assert "nothing was spent" in rec["error"]["message"]
    assert stub.calls_snapshot() == []
    assert sorted(p.name for p in (films / "Long").iterdir()) == ["Long.flac"]
