"""The Procfile as Heroku runs it: gunicorn web + two workers, sharing only Redis and a bucket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import redis
from rq import Queue, Worker

from jobs.storage.s3 import S3Storage

from .helpers import DATA, ROOT, free_port, wait_for


def test_procfile_web_and_two_workers_run_a_job_through_the_bucket(base_env, bucket, s3_env,
                                                                     tmp_path):  # fmt: skip
    """honcho starts the Procfile with worker=2; a job goes through HTTP and lands in S3."""
    port = free_port()
    env = {
        **os.environ, **base_env, **s3_env,
        "STORAGE_URL": f"s3://{bucket}/deploy", "QUEUE_NAME": "subcue-deploy",
        "TEMP_DIR": str(tmp_path / "dyno-temp"), "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }  # fmt: skip
    log = open(tmp_path / "honcho.log", "wb")
    honcho = subprocess.Popen(
        ["honcho", "start", "-f", "Procfile", "-p", str(port), "-c", "worker=2"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        conn = redis.Redis.from_url(base_env["REDIS_URL"])

        def healthy():
            try:
                up = httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
            return (
                up
                and len(Worker.all(connection=conn, queue=Queue("subcue-deploy", connection=conn)))
                == 2
            )

        wait_for(healthy, timeout=60, interval=0.25, message="web and two workers")
        with httpx.Client(base_url=base, timeout=30) as client:
            jobs = []
            for clip in ("speech.wav", "speech.mp4"):
                with open(DATA / clip, "rb") as f:
                    response = client.post("/api/jobs", files={"file": (clip, f)},
                                           data={"engine": "local"})  # fmt: skip
                assert response.status_code == 202, response.text
                jobs.append(response.json()["id"])

            def ended(job_id):
                job = client.get(f"/api/jobs/{job_id}").json()
                return job if job["status"] in ("finished", "failed", "cancelled") else None

            done = [wait_for(lambda j=j: ended(j), timeout=120, interval=0.25) for j in jobs]
            for job in done:
                assert job["status"] == "finished", job["error"]
                srt = next(o for o in job["outputs"] if o["name"].endswith(".srt"))
                assert "-->" in client.get(srt["url"]).text
        store = S3Storage(bucket, "deploy")
        assert len(store.list("jobs/")) == 6 and len(store.list("sessions/")) == 2
        assert not any((tmp_path / "dyno-temp" / "jobs").glob("*/*"))  # <deployment>/<job id>
        said = (tmp_path / "honcho.log").read_text()  # the web's own lines, beside its access log
        assert all(f"subcue.submit job={j} event=enqueued" in said for j in jobs), said[-3000:]
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(30)
        log.close()
