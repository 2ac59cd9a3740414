"""Library jobs translated by the LLM (LIBRARY_TRANSLATOR, by default the LLM when one is
configured and the engine is local): LIBRARY_ENGINE=local with LIBRARY_LANGUAGES=en,de hears
English and has the LLM (the chat-completions stand-in) write German; without an LLM such a
library cannot make German at all; a paid LLM whose worst case would pass the budget is
refused before any call."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from jobs import keys
from jobs.config import Config
from jobs.life import delete, record
from jobs.storage.stores import open_storage

from .helpers import WorkerProcess, make_app, wait_for
from .library import TOKEN, radarr, radarr_job, two_films, watcher
from .llm_stub import LlmStub

MODEL = "stub-model"


@pytest.fixture(scope="module")
def llm():
    """The chat-completions stand-in, serving MODEL."""
    with LlmStub(models=[MODEL]) as stub:
        yield stub


@pytest.fixture(scope="module")
def films(tmp_path_factory, short_speech, two_hour_silence):
    """A media root with a 4 s film and a two-hour one."""
    return two_films(tmp_path_factory.mktemp("llm-library"), short_speech, two_hour_silence)


@pytest.fixture(scope="module")
def env(base_env, llm, films) -> dict:
    """The local engine for library jobs into English and German, the LLM at the stand-in at
    a high price (USD 50 per million tokens each way), with a $1 daily budget per owner."""
    return {**base_env, "QUEUE_NAME": "subcue-library-llm", "ASR_TOKEN": TOKEN,
            "MEDIA_ROOTS": str(films), "LIBRARY_ENGINE": "local", "LIBRARY_LANGUAGES": "en,de",
            "LLM_BASE_URL": llm.base_url, "LLM_MODEL": MODEL, "LLM_PRICES": "50,50",
            "OWNER_DAILY_BUDGET_USD": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def llm_worker(env, tmp_path_factory):
    """A real worker with those settings."""
    proc = WorkerProcess(env, tmp_path_factory.mktemp("library-llm") / "worker.log")
    yield proc
    proc.stop()


def test_the_job_names_the_llm_as_who_translates(env, films, conn):
    """The library job's params carry translator=llm, and its line says who does what."""
    client = make_app({**env, "QUEUE_NAME": "subcue-library-llm-idle"}).test_client()
    answer = radarr(client, str(films / "Short" / "Short.mp4"))
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["jobs"][0]["id"]
    rec = record.get(conn, job_id)
    assert rec["params"]["translator"] == "llm" and rec["params"]["engine"] == "local"
    assert rec["params"]["target_languages"] == ["en", "de"]
    assert rec["description"].endswith("→ en, de (local + llm)")
    config = Config.from_env(env)
    delete.delete_job(conn, config, open_storage(config.storage_url), job_id)


@pytest.mark.parametrize(
    ("settings", "code"),
    [({"LLM_BASE_URL": "", "LLM_MODEL": ""}, "engine_unsupported"),
     ({"LIBRARY_TRANSLATOR": "gemini"}, "engine_not_configured")],
)  # fmt: skip
def test_without_a_translator_a_local_library_cannot_make_german(env, films, conn, settings,
                                                                 code):  # fmt: skip
    """No LLM (or a translator that is not configured): the webhook is refused, nothing queued."""
    client = make_app({**env, **settings, "QUEUE_NAME": "subcue-library-llm-idle"}).test_client()
    before = set(record.active_ids(conn))
    answer = radarr(client, str(films / "Short" / "Short.mp4"))
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["code"] == code
    assert set(record.active_ids(conn)) == before


def test_a_paid_translator_that_could_pass_the_budget_is_refused_before_any_call(
    env, llm_worker, films, llm, conn
):
    """Two hours heard for free, but translated into German at USD 50 per million tokens, may
    cost more than $1: failed budget_exhausted before any call, pointing at a free translator."""
    llm.reset()
    rec = radarr_job(env, conn, str(films / "Long" / "Long.flac"), timeout=90)
    assert rec["status"] == "failed" and rec["error"]["code"] == "budget_exhausted"
    assert "nothing was spent" in rec["error"]["message"]
    assert "LIBRARY_TRANSLATOR=llm" in rec["error"]["message"]
    assert llm.calls_snapshot() == []
    assert sorted(p.name for p in (films / "Long").iterdir()) == ["Long.flac"]


def test_english_is_heard_and_german_written_by_the_llm(env, llm_worker, films, llm, conn):
    """`Short.en.srt` from the local engine, `Short.de.srt` its cues translated by the LLM,
    cue for cue at the same times; the LLM's calls are billed under "llm"."""
    llm.reset()
    rec = radarr_job(env, conn, str(films / "Short" / "Short.mp4"), timeout=90)
    assert rec["status"] == "finished", rec.get("error")
    english = (films / "Short" / "Short.en.srt").read_text().strip().split("\n\n")
    german = (films / "Short" / "Short.de.srt").read_text().strip().split("\n\n")
    assert len(german) == len(english) > 0
    for en, de in zip(english, german, strict=True):
        en_lines, de_lines = en.splitlines(), de.splitlines()
        assert de_lines[:2] == en_lines[:2]  # number and times
        assert " ".join(de_lines[2:]).startswith("[de] ")
    assert llm.calls_snapshot() and all(c["lang"] == "de" for c in llm.calls_snapshot())


def test_a_failing_llm_refuses_the_webhook_and_queues_nothing(env, films, conn):
    """While the workers' last check of the LLM failed, a webhook that would need it is
    answered 503 llm_unreachable with the reason, and nothing is queued; once the check
    passes, the same webhook makes its job."""
    config = Config.from_env(env)
    verdict = keys.llm_health(config.llm_id)
    # LIBRARY_OVERWRITE: the German is wanted whatever an earlier test left next to the film.
    client = make_app({**env, "QUEUE_NAME": "subcue-library-llm-idle",
                       "LIBRARY_OVERWRITE": "1"}).test_client()  # fmt: skip
    before = set(record.active_ids(conn))
    conn.set(verdict, json.dumps({"ok": False, "error": "cannot reach LLM_BASE_URL",
                                  "checked_at": "2026-12-06T23:00:00Z"}), ex=60)  # fmt: skip
    try:
        answer = radarr(client, str(films / "Short" / "Short.mp4"))
        assert answer.status_code == 503, answer.get_json()
        assert answer.get_json()["error"]["code"] == "llm_unreachable"
        assert "cannot reach LLM_BASE_URL" in answer.get_json()["error"]["message"]
        assert set(record.active_ids(conn)) == before
        conn.set(verdict, json.dumps({"ok": True, "checked_at": "2026-12-06T23:01:00Z"}), ex=60)
        answer = radarr(client, str(films / "Short" / "Short.mp4"))
        assert answer.status_code == 202, answer.get_json()
        delete.delete_job(conn, config, open_storage(config.storage_url),
                          answer.get_json()["jobs"][0]["id"])  # fmt: skip
    finally:
        conn.delete(verdict)


def test_a_watched_file_refused_while_the_llm_fails_is_taken_once_it_passes(env, films, conn,
                                                                            tmp_path):  # fmt: skip
    """A new film in a watched folder while the workers' last check of the LLM failed: the
    watcher logs the refusal once, tries again every sweep, and queues the job as soon as the
    check passes, without the file being touched again."""
    watched = films / "Watched"
    watched.mkdir()
    # A model of its own: no worker checks it, so only this test writes its verdict.
    env = {**env, "QUEUE_NAME": "subcue-library-llm-idle", "LLM_MODEL": "watched-model",
           "WATCH_DIRS": str(watched), "WATCH_STABLE_SECONDS": "0.5",
           "LEASE_SECONDS": "3"}  # fmt: skip
    verdict = keys.llm_health(Config.from_env(env).llm_id)
    conn.set(verdict, json.dumps({"ok": False, "error": "cannot reach LLM_BASE_URL",
                                  "checked_at": "2026-12-07T01:00:00Z"}), ex=120)  # fmt: skip
    log = tmp_path / "watcher.log"
    try:
        with watcher(env, log):
            shutil.copy(films / "Short" / "Short.mp4", watched / "New.mp4")
            wait_for(lambda: "code=llm_unreachable" in log.read_text(), timeout=30,
                     message=lambda: log.read_text())  # fmt: skip
            assert "cannot reach LLM_BASE_URL (checked at" in log.read_text()
            assert "event=watch_file_queued" not in log.read_text()
            conn.set(verdict, json.dumps({"ok": True, "checked_at": "2026-12-07T01:01:00Z"}),
                     ex=60)  # fmt: skip
            queued = wait_for(lambda: re.search(r"job=(\S+) event=watch_file_queued",
                                                log.read_text()), timeout=15,
                              message=lambda: log.read_text())  # fmt: skip
        assert log.read_text().count("event=watch_file_refused") == 1
        rec = record.get(conn, queued.group(1))
        assert rec["params"]["path"] == str(watched / "New.mp4")
        assert rec["params"]["translator"] == "llm"
        config = Config.from_env(env)
        delete.delete_job(conn, config, open_storage(config.storage_url), rec["id"])
    finally:
        conn.delete(verdict)
