"""The Gemini engine end to end: real worker, real google-genai client, the local stand-in."""

from __future__ import annotations

import base64
import json
import os
import signal
from contextlib import contextmanager

import pytest
import srt
from rq.registry import FailedJobRegistry

from jobs import keys
from jobs.config import Config
from jobs.life import record
from jobs.media import probe
from jobs.media.audio import plan_chunks
from jobs.subtitles.languages import LANGUAGES
from jobs.work.engines.gemini import MAX_ATTEMPTS
from worker.sweeper import sweep

from .gemini_stub import GeminiStub
from .helpers import (
    DATA,
    GEMINI_KEY,
    WorkerProcess,
    gemini_env,
    make_app,
    scan_redis,
    stays,
    upload,
    wait_for,
    wait_for_status,
)

REQUIRED_LANGUAGES = ("en", "fa", "ar", "es", "fr", "de", "ru", "zh", "ja", "hi", "tr", "pt")
DURATION = 17.574
"""tests/data/speech.wav, in seconds."""

END = {"finished", "failed", "cancelled"}


@pytest.fixture(autouse=True)
def clean_stub(stub):
    """Forget the previous test's calls, faults and latency."""
    stub.reset()


@pytest.fixture(scope="module")
def workers(base_env, stub, tmp_path_factory):
    """Two workers on their own queues: one chunk at a time, and four at a time."""
    logs = tmp_path_factory.mktemp("gemini-logs")
    started = {}
    for name, concurrency in (("sequential", "1"), ("parallel", "4")):
        queue = f"subcue-gemini-{name}"
        env = gemini_env(base_env, stub.url, queue, GEMINI_CONCURRENCY=concurrency)
        started[name] = (env, WorkerProcess(env, logs / f"{name}.log"))
    yield started
    for _, proc in started.values():
        proc.stop()


@pytest.fixture
def sequential(workers):
    """(env, test client) for the GEMINI_CONCURRENCY=1 worker."""
    env = workers["sequential"][0]
    return env, make_app(env).test_client()


@pytest.fixture
def parallel(workers):
    """(env, test client) for the GEMINI_CONCURRENCY=4 worker."""
    env = workers["parallel"][0]
    return env, make_app(env).test_client()


def run_job(client, path, language="fa", timeout=120.0) -> dict:
    """Submit a Gemini job and wait for its end."""
    response = upload(client, path, engine="gemini", target_language=language)
    assert response.status_code == 202, response.get_json()
    return wait_for_status(client, response.get_json()["id"], END, timeout=timeout)


def document(client, job: dict) -> dict:
    """The job's `<stem>.json` output."""
    output = next(o for o in job["outputs"] if o["name"].endswith(".json"))
    return json.loads(client.get(output["url"]).get_data(as_text=True))


def chunk_bounds(calls: list[dict]) -> list[float]:
    """Absolute chunk edges, from the audio each sequential call carried."""
    bounds = [0.0]
    for call in calls:
        bounds.append(bounds[-1] + call["audio_seconds"])
    return bounds


def assert_well_placed(segments: list[dict], bounds: list[float]) -> None:
    """Ordered, non-overlapping, inside the media, and each starting inside a chunk (cues may
    run on into the next chunk: a too-short last segment is joined to the one before it, so
    that it can be read)."""
    previous_end = 0.0
    for s in segments:
        assert previous_end - 1e-6 <= s["start"] < s["end"] <= bounds[-1] + 0.01, s
        assert any(a - 0.01 <= s["start"] < b
                   for a, b in zip(bounds, bounds[1:], strict=False)), (s, bounds)  # fmt: skip
        previous_end = s["end"]


def assert_every_chunk_shown(segments: list[dict], calls: list[dict]) -> None:
    """Each answered chunk's words (the stand-in's "… of chunk <call number>.") are on screen
    during that chunk's stretch of the media: shifted by the chunk's offset, none lost."""
    answered = [(n, c) for n, c in enumerate(calls, start=1) if c["fault"] is None]
    bounds = chunk_bounds([c for _, c in answered])
    for (n, _), a, b in zip(answered, bounds, bounds[1:], strict=False):
        assert any(f"of chunk {n}." in s["text"] and s["start"] < b and s["end"] > a
                   for s in segments), (n, a, b, segments)  # fmt: skip


def test_multi_chunk_job_gives_translated_subtitles_with_absolute_times(sequential, stub):
    """speech.wav in three chunks -> Persian subtitles, times absolute, context carried."""
    _, client = sequential
    job = run_job(client, DATA / "speech.wav", "fa")
    assert job["status"] == "finished", job["error"]
    total = job["progress"]["total"]
    assert total == job["progress"]["done"] >= 3
    calls = stub.calls_snapshot()
    assert len(calls) == total
    assert all(c["lang"] == "fa" and c["status"] == 200 for c in calls)
    assert all(c["model"] == "gemini-2.5-flash" and c["api_version"] == "v1beta" for c in calls)
    assert [c["had_context"] for c in calls] == [False] + [True] * (total - 1)
    assert sum(c["audio_seconds"] for c in calls) == pytest.approx(DURATION, abs=0.05)

    doc = document(client, job)
    assert doc["language"] == "fa"
    segments = doc["segments"]
    assert segments and all(s["text"].startswith("[fa] ") for s in segments)
    assert_well_placed(segments, chunk_bounds(calls))
    assert_every_chunk_shown(segments, calls)
    assert segments[-1]["end"] == pytest.approx(DURATION, abs=0.05)

    output = next(o for o in job["outputs"] if o["name"].endswith(".srt"))
    subtitles = list(srt.parse(client.get(output["url"]).get_data(as_text=True)))
    assert [s.content for s in subtitles] == [s["text"] for s in segments]
    usage = job["usage"]
    assert usage["engine_calls"] == total
    assert usage["input_tokens"] > 32 * DURATION and usage["output_tokens"] > 0
    assert 0 < usage["cost_usd"] < 0.01


def test_rate_limited_call_is_retried_after_the_stated_delay(sequential, stub):
    """429 with RetryInfo 1.5 s, then success: the retry waits and is counted as a call."""
    _, client = sequential
    stub.faults.append(("429", {"retry_delay": 1.5}))
    job = run_job(client, DATA / "speech.wav")
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    assert calls[0]["status"] == 429 and calls[1]["status"] == 200
    assert calls[1]["arrived"] - calls[0]["finished"] >= 1.5
    assert job["usage"]["engine_calls"] == job["progress"]["total"] + 1 == len(calls)


def test_persistent_server_error_fails_the_job_clearly_after_bounded_attempts(sequential, stub):
    """Every call answers 500: the job fails with a sentence, after MAX_ATTEMPTS calls."""
    _, client = sequential
    stub.always = "500"
    job = run_job(client, DATA / "speech.wav")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "gemini_unavailable"
    message = job["error"]["message"]
    assert "Gemini" in message and "500" in message and "retry" in message
    assert "Traceback" not in message and GEMINI_KEY not in message
    calls = stub.calls_snapshot()
    assert [c["audio_seconds"] for c in calls] == [calls[0]["audio_seconds"]] * MAX_ATTEMPTS
    stays(lambda: len(stub.calls_snapshot()) == MAX_ATTEMPTS, seconds=1)
    assert job["usage"]["engine_calls"] == MAX_ATTEMPTS  # failed attempts are counted too


def test_daily_quota_fails_at_once_with_a_message_about_the_quota(sequential, stub):
    """A daily quota 429 is not retried: waiting seconds would not help."""
    _, client = sequential
    stub.faults.append(("quota", {}))
    job = run_job(client, DATA / "speech.wav")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "quota_exhausted"
    assert "quota" in job["error"]["message"] and GEMINI_KEY not in job["error"]["message"]
    assert len(stub.calls_snapshot()) == 1


def test_garbage_and_empty_answers_are_asked_again(sequential, stub):
    """Cut-off JSON, then an empty answer for speech: both retried, the job finishes."""
    _, client = sequential
    stub.faults.extend([("malformed", {}), ("empty", {})])
    job = run_job(client, DATA / "speech.wav")
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    assert [c["fault"] for c in calls[:3]] == ["malformed", "empty", None]
    assert job["usage"]["engine_calls"] == job["progress"]["total"] + 2 == len(calls)
    assert_every_chunk_shown(document(client, job)["segments"], calls)


def test_an_empty_answer_for_a_silent_chunk_is_believed(sequential, stub):
    """Near-silence answered with no segments: no retry, empty subtitles, not an error."""
    _, client = sequential
    stub.always = "empty"
    job = run_job(client, DATA / "silence.wav")
    assert job["status"] == "finished", job["error"]
    assert document(client, job)["segments"] == []
    assert len(stub.calls_snapshot()) == job["progress"]["total"]


def test_hallucinated_times_are_clamped_to_each_chunk(sequential, stub):
    """Segments before 0, past the chunk, overlapping and reversed come out in place (and on
    the speech: the clip's first second is silence)."""
    _, client = sequential
    stub.always = "out_of_range"
    job = run_job(client, DATA / "speech.wav")
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    segments = document(client, job)["segments"]
    assert len(segments) >= len(calls)
    assert_well_placed(segments, chunk_bounds(calls))
    assert segments[0]["start"] == pytest.approx(1.0, abs=0.15)
    assert segments[-1]["end"] <= DURATION


def test_chunk_calls_overlap_up_to_the_concurrency(parallel, stub, long_speech):
    """GEMINI_CONCURRENCY=4 with 0.5 s latency: exactly four calls in flight at the peak."""
    _, client = parallel
    stub.latency = 0.5
    job = run_job(client, long_speech, "de")
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    n = job["progress"]["total"]
    assert len(calls) == n >= 8
    assert stub.max_in_flight() == 4
    wall = max(c["finished"] for c in calls) - min(c["arrived"] for c in calls)
    assert wall < 0.6 * n * stub.latency  # sequential would take n * latency
    segments = document(client, job)["segments"]
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)


@contextmanager
def uploading_job(base_env: dict, stub: GeminiStub, tmp_path, queue: str, latency: float):
    """A worker with a tiny inline limit (every chunk goes through the Files API) and a job of
    speech.wav whose first call is in flight, its uploads made: yields (worker, client, job id).
    """
    env = gemini_env(base_env, stub.url, queue, GEMINI_INLINE_LIMIT_BYTES="1000")
    proc = WorkerProcess(env, tmp_path / f"{queue}.log")
    try:
        client = make_app(env).test_client()
        stub.latency = latency
        job_id = upload(client, DATA / "speech.wav", engine="gemini").get_json()["id"]
        stub.wait_for_calls(1, timeout=30)
        assert stub.files  # one per chunk in flight
        yield proc, client, job_id
    finally:
        proc.stop()


def test_audio_above_the_inline_limit_goes_through_the_files_api_and_is_deleted(
    base_env, stub, tmp_path
):
    """With a tiny inline limit every chunk is uploaded, used, then deleted."""
    with uploading_job(base_env, stub, tmp_path, "subcue-gemini-files", 0.5) as started:
        _, client, job_id = started
        job = wait_for_status(client, job_id, END)
    assert job["status"] == "finished", job["error"]
    assert stub.files == {}
    calls = stub.calls_snapshot()
    assert len(calls) == job["progress"]["total"]
    assert sum(c["audio_seconds"] for c in calls) == pytest.approx(DURATION, abs=0.05)


def test_cancel_deletes_the_upload_of_the_killed_call(base_env, stub, conn, tmp_path):
    """Cancel SIGKILLs the horse mid-call, so its own cleanup never runs: the worker deletes the
    chunk's Files API upload instead, and keeps no list of it."""
    with uploading_job(base_env, stub, tmp_path, "subcue-gemini-files-cancel", 5.0) as started:
        proc, client, job_id = started
        assert client.post(f"/api/jobs/{job_id}/cancel").get_json()["status"] == "cancelled"
        wait_for(lambda: not stub.files and not conn.exists(keys.uploads(job_id))
                 and f"job={job_id} event=uploads_deleted" in proc.output(), timeout=10,
                 message="the worker to delete the uploads, and its list of them")  # fmt: skip


def test_cancel_aborts_the_call_in_flight_and_makes_no_other(sequential, stub):
    """Cancel during a slow call: the connection is dropped, no further call arrives."""
    _, client = sequential
    stub.latency = 5.0
    job_id = upload(client, DATA / "speech.wav", engine="gemini").get_json()["id"]
    stub.wait_for_calls(1, timeout=30)
    body = client.post(f"/api/jobs/{job_id}/cancel").get_json()
    assert body["status"] == "cancelled"
    wait_for(lambda: stub.calls_snapshot()[0]["client_disconnected"], timeout=2,
             message="the stand-in to see the request aborted")  # fmt: skip
    stays(lambda: len(stub.calls_snapshot()) == 1, seconds=1)


def test_killed_horse_then_retry_calls_only_the_missing_chunks(parallel, stub, long_speech, conn,
                                                               tmp_path):  # fmt: skip
    """SIGKILL mid-job, retry: chunks with a checkpoint are never sent again."""
    env, client = parallel
    stub.latency = 1.0
    job_id = upload(client, long_speech, engine="gemini").get_json()["id"]
    wait_for(lambda: (client.get(f"/api/jobs/{job_id}").get_json()["progress"]["done"] or 0) >= 2,
             timeout=60, interval=0.01, message="two checkpoints")  # fmt: skip
    os.kill(int(conn.hget(keys.job(job_id), "pid")), signal.SIGKILL)
    job = wait_for_status(client, job_id, END, timeout=30)
    assert job["status"] == "failed" and job["error"]["code"] == "worker_died"
    # The worker writes our record first, then RQ's; a retry in between would race RQ's filing.
    failed = FailedJobRegistry(env["QUEUE_NAME"], connection=conn)
    wait_for(lambda: job_id in failed.get_job_ids(), timeout=10, message="RQ to file the job")

    done = record.checkpoints(conn, job_id)  # the horse is dead: nothing changes them now
    total = job["progress"]["total"]
    assert 2 <= len(done) < total
    before = len(stub.calls_snapshot())
    stub.latency = 0.0
    assert client.post(f"/api/jobs/{job_id}/retry").status_code == 202
    job = wait_for_status(client, job_id, END)
    assert job["status"] == "finished", job["error"]
    assert job["progress"]["done"] == total

    again = stub.calls_snapshot()[before:]
    assert len(again) == total - len(done)
    assert all(c["status"] == 200 for c in again)
    wav = tmp_path / "audio.wav"  # the same extraction and cuts the job made
    probe.extract_audio(long_speech, wav, probe.ffmpeg_binary(), "wav", 3600)
    chunks = plan_chunks(wav, float(env["CHUNK_SECONDS"]))
    assert len(chunks) == total
    missing = sorted(round(c.duration, 2) for c in chunks if c.index not in done)
    assert sorted(round(c["audio_seconds"], 2) for c in again) == pytest.approx(missing, abs=0.02)


def test_form_offers_gemini_and_its_languages_only_when_configured(sequential, base_env):
    """The upload form lists the Gemini engine (with a key) and the target languages."""
    _, client = sequential
    page = client.get("/").get_data(as_text=True)
    assert 'value="gemini"' in page
    for code in REQUIRED_LANGUAGES:
        assert code in LANGUAGES and f'value="{code}"' in page
    assert 'value="gemini"' not in make_app(base_env).test_client().get("/").get_data(as_text=True)


def test_the_key_never_reaches_redis_logs_or_pages(workers, sequential, stub, conn):
    """After finished, retried and failed Gemini jobs, the key is nowhere to be read."""
    env, client = sequential
    stub.faults.append(("429", {"retry_delay": 0.2}))
    finished = run_job(client, DATA / "speech.wav")
    stub.faults.append(("400", {}))
    failed = run_job(client, DATA / "speech.wav")
    assert (finished["status"], failed["status"]) == ("finished", "failed")
    assert failed["error"]["code"] == "gemini_rejected"

    assert conn.dbsize() > 0
    needle = GEMINI_KEY.encode()
    assert scan_redis(conn, needle) == []
    assert scan_redis(conn, b"SECRET-1234") == []
    for _, proc in workers.values():
        output = proc.output()
        assert "event=retry" in output or "event=chunk_done" in output  # we read a real log
        assert GEMINI_KEY not in output and "SECRET-1234" not in output
    for url in ("/healthz", "/api/jobs", "/", *(f"/api/jobs/{j['id']}" for j in (finished, failed)),
                *(f"/jobs/{j['id']}" for j in (finished, failed))):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert GEMINI_KEY not in response.get_data(as_text=True), url
    dashboard = make_app({**env, "DASHBOARD_PASSWORD": "pw"}).test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()}
    for url in ("/rq/", "/rq/0/data/queues.json", "/rq/0/data/workers.json",
                *(f"/rq/0/data/job/{j['id']}.json" for j in (finished, failed))):  # fmt: skip
        response = dashboard.get(url, headers=auth, follow_redirects=True)
        assert response.status_code == 200, url
        assert GEMINI_KEY not in response.get_data(as_text=True), url


def test_analysis_of_a_session_with_gemini_sends_each_file_once(sequential, stub):
    """analyze + gemini: one structured call per file through the Files API, then deleted."""
    _, client = sequential
    files = [(open(DATA / name, "rb"), name) for name in ("speech.wav", "silence.wav")]
    session = client.post("/api/sessions", data={"file": files},
                          content_type="multipart/form-data").get_json()  # fmt: skip
    response = client.post(f"/api/sessions/{session['id']}/jobs",
                           json={"kind": "analyze", "engine": "gemini"})  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], END)
    assert job["status"] == "finished", job["error"]
    analysis = json.loads(client.get(job["outputs"][0]["url"]).data)
    assert [f["name"] for f in analysis["files"]] == ["speech.wav", "silence.wav"]
    speech = analysis["files"][0]
    assert speech["language"] == "en" and speech["summary"].startswith("A recording of 17.")
    assert speech["moments"][0]["time"] == pytest.approx(17.574 / 2, abs=0.01)
    calls = stub.calls_snapshot()
    assert [c.get("kind") for c in calls] == ["analysis", "analysis"]
    assert job["usage"]["engine_calls"] == 2 and job["usage"]["input_tokens"] > 0
    assert stub.files == {}


def test_deleting_a_session_mid_analysis_deletes_its_upload_at_gemini(sequential, stub, conn):
    """The user's media must not outlive the session at the provider either."""
    _, client = sequential
    stub.latency = 5.0
    with open(DATA / "speech.wav", "rb") as f:
        session = client.post("/api/sessions", data={"file": (f, "speech.wav")},
                              content_type="multipart/form-data").get_json()  # fmt: skip
    job = client.post(f"/api/sessions/{session['id']}/jobs",
                      json={"kind": "analyze", "engine": "gemini"}).get_json()  # fmt: skip
    stub.wait_for_calls(1, timeout=30)
    assert len(stub.files) == 1
    assert client.delete(f"/api/sessions/{session['id']}").status_code == 204
    wait_for(lambda: not stub.files, timeout=10, message="the upload to be deleted")
    stays(lambda: not conn.keys(f"*{job['id']}*"), seconds=1)


def test_a_dead_worker_s_uploads_are_deleted_by_the_sweeper(base_env, stub, conn, tmp_path):
    """SIGKILL the whole worker mid-call: a sweeper fails the job, and a worker with the key
    deletes the uploads its horse left at the provider, even when the first sweeper had none."""
    queue = "subcue-gemini-files-dead"
    with uploading_job(base_env, stub, tmp_path, queue, 30.0) as (dying, client, job_id):
        dying.proc.kill()  # the horse dies with it (PR_SET_PDEATHSIG)
        dying.proc.wait(10)
    assert stub.files and conn.exists(keys.uploads(job_id))  # nobody cleaned up yet
    # A worker without the key (another kind of worker on the same Redis) sweeps first: it
    # fails the job but cannot delete the uploads, so it leaves them to one that can.
    sweep(conn, Config.from_env(base_env))
    assert record.status(conn, job_id) == "failed"
    assert stub.files and conn.sismember(keys.uploads_pending(), job_id)
    env = gemini_env(base_env, stub.url, queue, GEMINI_INLINE_LIMIT_BYTES="1000")
    sweeping = WorkerProcess(env, tmp_path / "sweeping.log")
    try:
        job = wait_for_status(client, job_id, END, timeout=30)
        assert job["status"] == "failed" and job["error"]["code"] == "worker_died"
        wait_for(lambda: not stub.files and not conn.exists(keys.uploads(job_id)), timeout=10,
                 message="the sweeper to delete the uploads")  # fmt: skip
    finally:
        sweeping.stop()
