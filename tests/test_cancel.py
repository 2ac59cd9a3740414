"""Cancellation with a real forking worker and the local engine (SPEC "Cancellation")."""

from __future__ import annotations

import time

from rq.job import Job
from rq.registry import FailedJobRegistry

from .helpers import (
    DATA,
    job_of,
    processes_mentioning,
    stays,
    temp_dir_of,
    upload,
    wait_for,
    wait_for_status,
)  # fmt: skip


def test_cancel_during_a_chunk_stops_at_once_and_removes_the_temp_dir(
    client, worker, long_speech, base_env, conn
):
    """Mid-transcription: cancelled within the deadline, temp gone, no further chunk."""
    job = upload(client, long_speech, engine="local").get_json()
    wait_for(lambda: job_of(client, job["id"])["progress"]["done"] >= 1, timeout=60,
             message="the first chunk")  # fmt: skip
    assert temp_dir_of(base_env, job["id"]).exists()

    started = time.monotonic()
    response = client.post(f"/api/jobs/{job['id']}/cancel")
    elapsed = time.monotonic() - started

    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "cancelled", body
    assert body["error"]["code"] == "cancelled_by_user"
    assert elapsed < 1.0
    assert not temp_dir_of(base_env, job["id"]).exists()
    done = body["progress"]["done"]
    assert done < body["progress"]["total"]
    stays(lambda: job_of(client, job["id"])["progress"]["done"] == done, seconds=2)
    assert job_of(client, job["id"])["status"] == "cancelled"
    # The answer comes once the horse is killed; RQ's own filing follows within moments.
    rq_job = Job.fetch(job["id"], connection=conn)
    wait_for(lambda: rq_job.get_status(refresh=True) == "stopped", timeout=5,
             message="RQ to file the job as stopped")  # fmt: skip
    assert job["id"] in FailedJobRegistry("subcue-test", connection=conn).get_job_ids()


def test_retry_the_instant_a_cancel_answers_runs_the_job_again(client, worker, long_speech, conn):
    """A retry sent right after the cancel's answer (before RQ has filed the stopped horse)
    is not undone by that filing: the job runs again and goes on from its checkpoints."""
    job = upload(client, long_speech, engine="local").get_json()
    wait_for(lambda: job_of(client, job["id"])["progress"]["done"] >= 1, timeout=60,
             message="the first chunk")  # fmt: skip
    assert client.post(f"/api/jobs/{job['id']}/cancel").get_json()["status"] == "cancelled"
    response = client.post(f"/api/jobs/{job['id']}/retry")
    assert response.status_code == 202, response.get_json()
    done = job_of(client, job["id"])["progress"]["done"]
    wait_for(lambda: job_of(client, job["id"])["progress"]["done"] > done, timeout=60,
             message="the retried job to transcribe another chunk")  # fmt: skip
    assert job_of(client, job["id"])["status"] == "running"
    assert Job.fetch(job["id"], connection=conn).get_status() == "started"
    # The session's worker is shared: leave it free for the next test.
    assert client.post(f"/api/jobs/{job['id']}/cancel").get_json()["status"] == "cancelled"


def test_ffmpeg_child_dies_with_the_stopped_horse(client, worker, two_hour_silence, base_env):
    """Cancelled during audio extraction: the ffmpeg process is gone with the horse."""
    job = upload(client, two_hour_silence, engine="local").get_json()
    temp = str(temp_dir_of(base_env, job["id"]))
    pids = wait_for(lambda: processes_mentioning(temp), timeout=30, interval=0.01,
                    message="ffmpeg to start extracting")  # fmt: skip
    body = client.post(f"/api/jobs/{job['id']}/cancel").get_json()
    assert body["status"] == "cancelled"
    wait_for(lambda: not processes_mentioning(temp), timeout=1, message=f"{pids} to exit")
    assert not temp_dir_of(base_env, job["id"]).exists()


def test_cancel_while_queued_never_starts(client, base_env, start_worker, conn):
    """With no worker free, a cancelled job is never picked up, even once a worker appears."""
    env = {**base_env, "QUEUE_NAME": "subcue-idle"}
    from .helpers import make_app

    idle_client = make_app(env).test_client()
    job = upload(idle_client, DATA / "silence.wav", engine="local").get_json()
    body = idle_client.post(f"/api/jobs/{job['id']}/cancel").get_json()
    assert body["status"] == "cancelled" and body["started_at"] is None
    assert Job.fetch(job["id"], connection=conn).get_status() == "canceled"
    start_worker(env)
    stays(lambda: job_of(idle_client, job["id"])["started_at"] is None, seconds=2)
    assert not temp_dir_of(env, job["id"]).exists()


def test_cancel_racing_an_idle_worker_never_lets_a_queued_job_start(client, worker, conn):
    """Submit-then-cancel, many times against an idle worker: 'queued' cancels never start."""
    outcomes = []
    for _ in range(25):
        job = upload(client, DATA / "silence.wav", engine="local").get_json()
        body = client.post(f"/api/jobs/{job['id']}/cancel").get_json()
        assert body["status"] == "cancelled", body
        outcomes.append((job["id"], body["started_at"] is None))
    never_started = [job_id for job_id, queued in outcomes if queued]
    assert never_started, "every cancel lost the race; the test proves nothing"
    stays(
        lambda: (
            all(job_of(client, j)["started_at"] is None for j in never_started)
            and not conn.exists(*[f"subcue:job:{j}:chunks" for j in never_started])
        ),
        seconds=2,
    )
    for job_id, _ in outcomes:
        assert job_of(client, job_id)["status"] == "cancelled"


def test_cancel_is_idempotent_and_leaves_finished_jobs_alone(client, worker):
    """Twice is the same as once; a finished job is returned unchanged."""
    finished = upload(client, DATA / "silence.wav", engine="local").get_json()
    finished = wait_for_status(client, finished["id"], {"finished"})
    again = client.post(f"/api/jobs/{finished['id']}/cancel").get_json()
    assert again == finished

    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    first = client.post(f"/api/jobs/{job['id']}/cancel").get_json()
    second = client.post(f"/api/jobs/{job['id']}/cancel", data="").get_json()
    assert first["status"] == second["status"] == "cancelled"
    assert first["error"] == second["error"]


def test_cancel_accepts_a_beacon_body(client, worker):
    """navigator.sendBeacon posts text/plain or form bodies; cancel takes any of them."""
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    response = client.post(
        f"/api/jobs/{job['id']}/cancel", data="x", content_type="text/plain;charset=UTF-8"
    )
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"


def test_a_lost_stop_command_is_still_honoured_by_the_flag(
    client, worker, long_speech, base_env, conn
):
    """With the worker's pubsub connection dropped, the job sees its flag and stops itself."""
    job = upload(client, long_speech, engine="local").get_json()
    wait_for(lambda: job_of(client, job["id"])["progress"]["done"] >= 1, timeout=60,
             message="the first chunk")  # fmt: skip

    def stop_channels_deaf() -> bool:
        """Drop every pubsub connection; true once no worker's stop channel has a listener.
        (A worker re-subscribes a moment later: on a busy machine, now and then before we
        look, so drop them again.)"""
        conn.client_kill_filter(_type="pubsub")
        stops = conn.pubsub_channels("rq:pubsub:*")  # workers' stop channels; web hears others
        return all(count == 0 for _, count in conn.pubsub_numsub(*stops))

    wait_for(stop_channels_deaf, timeout=10, message="the stop channels to lose their listener")

    body = client.post(f"/api/jobs/{job['id']}/cancel").get_json()
    assert body["status"] == "cancelled", body
    assert not temp_dir_of(base_env, job["id"]).exists()
    done = body["progress"]["done"]
    stays(lambda: job_of(client, job["id"])["progress"]["done"] == done, seconds=2)


def test_keys_of_ended_jobs_expire_and_nothing_grows_forever(client, worker, conn, base_env):
    """A cancelled or finished job's keys carry a TTL; a lease lives at most LEASE_SECONDS."""
    from jobs import keys

    done = upload(client, DATA / "silence.wav", engine="local").get_json()
    done = wait_for_status(client, done["id"], {"finished"})
    page_job = upload(client, DATA / "speech.wav", engine="local", keep_running="false")
    page_job = page_job.get_json()
    assert 0 < conn.ttl(keys.lease(page_job["id"])) <= 60
    client.post(f"/api/jobs/{page_job['id']}/cancel")
    for job in (done, page_job):
        for key in (
            keys.job(job["id"]),
            keys.owner_jobs(client.get("/api/me").get_json()["owner"]),
            keys.session(job["session_id"]),
            keys.session_files(job["session_id"]),
        ):
            assert 0 < conn.ttl(key) <= keys.RECORD_TTL, key
        assert conn.zscore(keys.active(), job["id"]) is None
    chunks_ttl = conn.ttl(keys.chunks(done["id"]))  # -2: silence left no checkpoint at all
    assert chunks_ttl == -2 or 0 < chunks_ttl <= keys.RECORD_TTL
