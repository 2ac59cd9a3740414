"""Faults: workers killed or stopped mid-job, Redis restarting, media ffmpeg cannot decode."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import redis

from jobs.life import record
from worker.worker import WARM_SHUTDOWN_S

from .helpers import (
    DATA,
    ROOT,
    free_port,
    job_of,
    make_app,
    temp_dir_of,
    upload,
    wait_for,
    wait_for_status,
)  # fmt: skip


def chunks_done_in(log: str, job_id: str) -> list[int]:
    """Chunk indexes a worker log reports as done for the job."""
    return [int(n) for n in re.findall(rf"job={job_id} event=chunk_done chunk=(\d+)", log)]


SHORT_CHUNKS = {"CHUNK_SECONDS": "3"}
"""The spoken clip in about six chunks: enough to stop a worker between two of them."""


def test_sigkill_of_a_whole_worker_fails_the_job_and_retry_resumes(base_env, start_worker):
    """The job is marked failed within a sweep, its temp dir is swept, Retry pays only once."""
    env = {**base_env, **SHORT_CHUNKS, "QUEUE_NAME": "subcue-kill",
           "LEASE_SECONDS": "3"}  # sweeps every 1 s  # fmt: skip
    doomed = start_worker(env)
    client = make_app(env).test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    wait_for(lambda: job_of(client, job["id"])["status"] == "running", timeout=30,
             message="the doomed worker to take the job")  # fmt: skip
    survivor = start_worker(env)  # on this machine: its sweeper sees the dead worker's pid
    wait_for(lambda: job_of(client, job["id"])["progress"]["done"] >= 2, timeout=60,
             message="two chunks")  # fmt: skip

    doomed.proc.send_signal(signal.SIGKILL)
    doomed.proc.wait(5)  # reap it, as init or honcho would
    failed = wait_for_status(client, job["id"], {"failed"}, timeout=5)
    assert failed["error"]["code"] == "worker_died" and "retry" in failed["error"]["message"]
    wait_for(lambda: not temp_dir_of(env, job["id"]).exists(), timeout=3,
             message="the temp dir to be swept")  # fmt: skip
    # What the retry relies on: the checkpoints (the doomed horse's log may lack the line of
    # its last chunk, written just after the checkpoint when the kill came).
    done_before = set(record.checkpoints(redis.Redis.from_url(env["REDIS_URL"]), job["id"]))
    assert len(done_before) >= 2

    asked = time.monotonic()  # the dead worker no longer counts as holding the job
    assert client.post(f"/api/jobs/{job['id']}/retry").status_code == 202
    assert time.monotonic() - asked < 1
    finished = wait_for_status(client, job["id"], {"finished", "failed"}, timeout=90)
    assert finished["status"] == "finished", finished["error"]
    redone = chunks_done_in(survivor.output(), job["id"])
    assert redone and set(redone).isdisjoint(done_before)
    assert sorted(set(redone) | done_before) == list(range(finished["progress"]["total"]))


def test_sigterm_requeues_the_running_job_for_another_worker(base_env, start_worker):
    """A dyno restart: the job goes back on the queue at once and resumes elsewhere."""
    env = {**base_env, **SHORT_CHUNKS, "QUEUE_NAME": "subcue-term"}
    stopping = start_worker(env)
    client = make_app(env).test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    wait_for(lambda: job_of(client, job["id"])["progress"]["done"] >= 2, timeout=60,
             message="two chunks")  # fmt: skip

    stopping.proc.send_signal(signal.SIGTERM)
    # What matters: the job is back on the queue with its temp dir gone, and the worker leaves.
    # Both take well under a second on a quiet machine; the bounds hold on a loaded one.
    wait_for(lambda: job_of(client, job["id"])["status"] == "queued", timeout=20,
             message="the job to be queued again")  # fmt: skip
    assert not temp_dir_of(env, job["id"]).exists()
    stopping.proc.wait(WARM_SHUTDOWN_S + 5)  # the worker's own bound, then a margin
    done_before = set(chunks_done_in(stopping.output(), job["id"]))

    other = start_worker(env)
    finished = wait_for_status(client, job["id"], {"finished", "failed"}, timeout=90)
    assert finished["status"] == "finished", finished["error"]
    redone = chunks_done_in(other.output(), job["id"])
    assert redone and set(redone).isdisjoint(done_before)


def test_api_answers_503_while_redis_is_down_and_everything_recovers(
    base_env, start_worker, tmp_path
):
    """Stop Redis: JSON 503s. Start it again: the app and the worker carry on."""
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
            "--appendonly", "yes", "--save", ""]  # fmt: skip
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    env = {**base_env, "REDIS_URL": f"redis://127.0.0.1:{port}/0", "QUEUE_NAME": "subcue-outage"}
    probe = redis.Redis(port=port)
    wait_for(lambda: _pings(probe), message="private redis")
    try:
        outage_worker = start_worker(env)
        client = make_app(env).test_client()
        before = upload(client, DATA / "silence.wav", engine="local").get_json()
        wait_for_status(client, before["id"], {"finished"})

        server.terminate()
        server.wait(10)
        for path in ("/api/jobs", f"/api/jobs/{before['id']}", "/healthz"):
            down = client.get(path)
            assert down.status_code == 503
            assert down.get_json()["error"]["code"] == "unavailable"

        server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        wait_for(lambda: _pings(probe), message="redis to come back")
        assert job_of(client, before["id"])["status"] == "finished"
        wait_for(lambda: client.get("/healthz").get_json().get("workers", 0) >= 1, timeout=60,
                 interval=0.5, message="the worker to re-register")  # fmt: skip
        after = upload(client, DATA / "silence.wav", engine="local").get_json()
        done = wait_for_status(client, after["id"], {"finished", "failed"})
        assert done["status"] == "finished", (done["error"], outage_worker.output()[-4000:])
        assert outage_worker.proc.poll() is None  # the same worker: the outage did not end it
    finally:
        server.terminate()
        server.wait(10)


def _pings(client: redis.Redis) -> bool:
    """True if Redis answers."""
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_media_ffmpeg_cannot_decode_fails_the_job_clearly(client, worker, base_env, tmp_path):
    """A truncated MP4 passes the probe (its header is whole) but fails at decoding."""
    truncated = tmp_path / "cut-short.mp4"
    truncated.write_bytes((DATA / "speech.mp4").read_bytes()[:40_000])
    response = upload(client, truncated, engine="local")
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], {"finished", "failed"})
    assert job["status"] == "failed"
    assert job["error"]["code"] == "decode_failed"
    assert "cut-short.mp4" in job["error"]["message"]
    assert "truncated or corrupt" in job["error"]["message"]
    assert "Traceback" not in job["error"]["message"]
    assert base_env["TEMP_DIR"] not in job["error"]["message"]  # ffmpeg's line, no path in it
    assert job["outputs"] == [] and not temp_dir_of(base_env, job["id"]).exists()


def test_a_neighbour_deployment_sharing_temp_dir_leaves_our_running_job_alone(
    base_env, start_worker
):
    """Two deployments on one machine share TEMP_DIR but not Redis (here: another Redis db).

    The neighbour sweeps every second and removes temp dirs its own Redis does not know as
    running; it must never touch ours, while it still cleans its own leftovers.
    """
    ours = {**base_env, "REDIS_URL": base_env["REDIS_URL"].removesuffix("/0") + "/1",
            "QUEUE_NAME": "subcue-ours"}  # fmt: skip
    neighbour = {**base_env, "QUEUE_NAME": "subcue-neighbour", "LEASE_SECONDS": "3"}
    leftover = temp_dir_of(neighbour, "crashed-long-ago")
    leftover.mkdir(parents=True)
    start_worker(neighbour)
    start_worker(ours)
    wait_for(lambda: not leftover.exists(), timeout=10, message="the neighbour to sweep")

    client = make_app(ours).test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    wait_for(lambda: temp_dir_of(ours, job["id"]).exists(), timeout=30, message="a temp dir")
    done = wait_for_status(client, job["id"], {"finished", "failed"}, timeout=90)
    assert done["status"] == "finished", done["error"]
    assert not temp_dir_of(ours, job["id"]).exists()


KILL_BEFORE_THE_HORSE_HAS_ITS_GROUP = """
import os, subprocess, sys, time
import redis
from worker.worker import SubcueWorker

worker = SubcueWorker(["subcue-none"], connection=redis.Redis.from_url(os.environ["REDIS_URL"]))
worker.kill_horse()  # a stop-job before the fork returned: horse_pid is still 0
horse = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
assert os.getpgid(horse.pid) == os.getpgrp()  # a new horse before its setpgrp()
worker._horse_pid = horse.pid
worker.kill_horse()
print("worker alive; horse", horse.wait(10), flush=True)
"""


def test_a_stop_before_the_horse_has_its_own_group_kills_only_the_horse(base_env):
    """RQ kills the horse's process group; a cancel or SIGTERM that comes before the new horse
    made its own group (or before the fork returned) would kill the worker's group: the worker
    and everything that started it (honcho, or this test run). Run in a session of its own so
    that, broken, it kills only itself."""
    run = subprocess.run([sys.executable, "-c", KILL_BEFORE_THE_HORSE_HAS_ITS_GROUP], cwd=ROOT,
                         env={**os.environ, **base_env}, capture_output=True, text=True, timeout=60,
                         start_new_session=True)  # fmt: skip
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert run.stdout.strip() == f"worker alive; horse -{signal.SIGKILL.value}"
