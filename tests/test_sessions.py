"""Sessions, the analyze job, and delete that cancels first and leaves nothing behind."""

from __future__ import annotations

import json
import random
from pathlib import Path

from .helpers import DATA, make_app, stays, upload, wait_for, wait_for_status


def new_session(client, *paths: Path):
    """POST /api/sessions with the files."""
    files = [(open(p, "rb"), p.name) for p in paths]
    try:
        return client.post("/api/sessions", data={"file": files},
                           content_type="multipart/form-data")  # fmt: skip
    finally:
        for f, _ in files:
            f.close()


def start(client, session_id: str, **body):
    """POST /api/sessions/<sid>/jobs."""
    return client.post(f"/api/sessions/{session_id}/jobs", json=body)


def storage_root(env) -> Path:
    """The local storage directory."""
    return Path(env["STORAGE_URL"].removeprefix("file://"))


def traces(conn, env, *ids: str) -> list[str]:
    """Every Redis key, member or value and every stored file that mentions one of `ids`."""
    found = []
    for key in conn.scan_iter(count=1000):
        name = key.decode()
        kind = conn.type(key).decode()
        if kind == "string":
            values = [conn.get(key) or b""]
        elif kind == "hash":
            values = [k + b"=" + v for k, v in conn.hgetall(key).items()]
        elif kind == "list":
            values = conn.lrange(key, 0, -1)
        elif kind == "set":
            values = list(conn.smembers(key))
        elif kind == "zset":
            values = conn.zrange(key, 0, -1)
        elif kind == "stream":
            values = [json.dumps({k.decode(): v.decode(errors="replace") for k, v in e[1].items()})
                      .encode() for e in conn.xrange(key)]  # fmt: skip
        else:
            values = []
        for i in ids:
            if i in name or any(i.encode() in v for v in values):
                found.append(f"redis {kind} {name}")
    root = storage_root(env)
    for path in root.rglob("*") if root.exists() else []:
        if any(i in str(path) for i in ids):
            found.append(f"file {path}")
    temp = Path(env["TEMP_DIR"])
    for path in temp.rglob("*") if temp.exists() else []:
        if path.name in ids:
            found.append(f"temp {path}")
    return found


def test_session_holds_files_and_runs_an_analysis(client, worker):
    """Create, add a file, analyse: analysis.json has the transcript and measured facts."""
    created = new_session(client, DATA / "speech.wav")
    assert created.status_code == 201, created.get_json()
    session = created.get_json()
    added = client.post(f"/api/sessions/{session['id']}/files",
                        data={"file": (open(DATA / "silence.wav", "rb"), "silence.wav")},
                        content_type="multipart/form-data")  # fmt: skip
    assert added.status_code == 201
    assert [f["name"] for f in added.get_json()["files"]] == ["speech.wav", "silence.wav"]

    job = start(client, session["id"], kind="analyze", engine="local").get_json()
    assert job["kind"] == "analyze"
    job = wait_for_status(client, job["id"], {"finished", "failed", "cancelled"})
    assert job["status"] == "finished", job["error"]
    analysis = json.loads(client.get(job["outputs"][0]["url"]).data)
    speech, silence = analysis["files"]
    assert speech["name"] == "speech.wav" and speech["language"] == "en"
    assert speech["duration_s"] == 17.574
    assert 0.5 < speech["speech_ratio"] < 0.95
    assert 100 < speech["words_per_minute"] < 220
    assert "garden" in speech["transcript"].lower()
    assert silence["speech_ratio"] < 0.1 and silence["transcript"] == ""

    listed = client.get(f"/api/sessions/{session['id']}").get_json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]


def test_session_job_requests_are_validated(client):
    """Bad kinds and bodies are 400s; another owner's session is 404."""
    session = new_session(client, DATA / "silence.wav").get_json()
    assert start(client, session["id"], kind="dance").status_code == 400
    bad = client.post(f"/api/sessions/{session['id']}/jobs", data="nope")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_json"
    assert start(client, session["id"], kind="translate", target_language="fa",
                 engine="local").status_code == 422  # fmt: skip


def test_delete_session_mid_analysis_leaves_nothing_and_nothing_reappears(
    client, worker, conn, base_env, long_speech
):
    """204 while a file is being analysed; then no key, file or temp dir of it, ever."""
    session = new_session(client, long_speech, DATA / "speech.wav").get_json()
    job = start(client, session["id"], kind="analyze", engine="local").get_json()
    wait_for(lambda: client.get(f"/api/jobs/{job['id']}").get_json()["progress"]["done"] >= 1,
             timeout=60, message="the analysis to be mid-file")  # fmt: skip

    assert client.delete(f"/api/sessions/{session['id']}").status_code == 204

    ids = (session["id"], job["id"])
    assert traces(conn, base_env, *ids) == []
    stays(lambda: traces(conn, base_env, *ids) == [], seconds=3, interval=0.25)
    assert client.get(f"/api/sessions/{session['id']}").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.delete(f"/api/sessions/{session['id']}").status_code == 404  # twice


def test_delete_job_mid_chunk_keeps_the_session(client, worker, conn, base_env, long_speech):
    """Deleting a running translate job purges it, not its session's uploads."""
    job = upload(client, long_speech, engine="local").get_json()
    wait_for(lambda: client.get(f"/api/jobs/{job['id']}").get_json()["progress"]["done"] >= 1,
             timeout=60, message="a chunk to finish")  # fmt: skip
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert traces(conn, base_env, job["id"]) == []
    stays(lambda: traces(conn, base_env, job["id"]) == [], seconds=2, interval=0.25)
    session = client.get(f"/api/sessions/{job['session_id']}").get_json()
    assert session["jobs"] == [] and len(session["files"]) == 1
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 404


def test_delete_finished_session(client, worker, conn, base_env):
    """A finished job's outputs and records go with its session."""
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    wait_for_status(client, job["id"], {"finished"})
    assert client.delete(f"/api/sessions/{job['session_id']}").status_code == 204
    assert traces(conn, base_env, job["id"], job["session_id"]) == []


def test_another_owner_cannot_delete(app, client, worker, conn, base_env):
    """A stranger's delete answers 404 and removes nothing."""
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    stranger = app.test_client()
    assert stranger.delete(f"/api/jobs/{job['id']}").status_code == 404
    assert stranger.delete(f"/api/sessions/{job['session_id']}").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}").status_code == 200
    assert client.get(f"/api/sessions/{job['session_id']}").status_code == 200


def test_a_job_deleted_from_the_dashboard_is_stopped_and_purged(
    client, conn, base_env, start_worker, long_speech
):
    """RQ's Job.delete() (what rq-dashboard does) on a running job: the sweeper stops it."""
    from rq.job import Job

    env = {**base_env, "QUEUE_NAME": "subcue-dashboard", "LEASE_SECONDS": "3"}
    start_worker(env)
    own = make_app(env).test_client()
    job = upload(own, long_speech, engine="local").get_json()
    wait_for(lambda: own.get(f"/api/jobs/{job['id']}").get_json()["progress"]["done"] >= 1,
             timeout=60, message="a chunk to finish")  # fmt: skip
    Job.fetch(job["id"], connection=conn).delete()
    wait_for(lambda: own.get(f"/api/jobs/{job['id']}").status_code == 404, timeout=10,
             message="the sweeper to purge the job")  # fmt: skip
    wait_for(
        lambda: traces(conn, env, job["id"]) == [],
        timeout=15,
        message=lambda: f"no trace left; still there: {traces(conn, env, job['id'])}",
    )


def test_random_upload_start_cancel_delete_rounds_leave_exactly_the_live_sessions(
    client, worker, conn, base_env
):
    """Many rounds in random order and timing: deleted sessions leave nothing, live ones all."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    rounds = 40
    print(f"stress: {rounds} rounds, seed {seed}")
    live: dict[str, list[str]] = {}
    deleted: list[str] = []
    for _ in range(rounds):
        action = rng.choice(["upload", "upload", "start", "cancel", "delete", "delete_job"])
        if action == "upload" or not live:
            session = new_session(client, DATA / rng.choice(["silence.wav", "speech.wav"]))
            live[session.get_json()["id"]] = []
        elif action == "start":
            sid = rng.choice(list(live))
            job = start(client, sid, kind=rng.choice(["translate", "analyze"]), engine="local")
            assert job.status_code == 202, job.get_json()
            live[sid].append(job.get_json()["id"])
        elif action == "cancel":
            jobs = [j for js in live.values() for j in js]
            if jobs:
                assert client.post(f"/api/jobs/{rng.choice(jobs)}/cancel").status_code == 200
        elif action == "delete_job":
            sid = rng.choice(list(live))
            if live[sid]:
                job_id = live[sid].pop(rng.randrange(len(live[sid])))
                assert client.delete(f"/api/jobs/{job_id}").status_code == 204
                deleted.append(job_id)
        else:
            sid = rng.choice(list(live))
            assert client.delete(f"/api/sessions/{sid}").status_code == 204
            deleted += [sid, *live.pop(sid)]
        jobs = [j for js in live.values() for j in js]
        if jobs and rng.random() < 0.3:  # sometimes let the worker pick the newest job up
            newest = jobs[-1]
            wait_for(lambda n=newest: client.get(f"/api/jobs/{n}").get_json()["status"] != "queued",
                     timeout=30, message="the newest job to leave the queue")  # fmt: skip
    for jobs in live.values():
        for job_id in jobs:
            wait_for_status(client, job_id, {"finished", "cancelled", "failed"})
    assert traces(conn, base_env, *deleted) == [], f"seed {seed}"
    for sid, jobs in live.items():
        found = client.get(f"/api/sessions/{sid}").get_json()
        assert sorted(j["id"] for j in found["jobs"]) == sorted(jobs), f"seed {seed}"
        uploads = [p for p in (storage_root(base_env) / "sessions" / sid).rglob("*") if p.is_file()]
        assert len(uploads) == len(found["files"]), f"seed {seed}"
        for job_id in jobs:
            job = client.get(f"/api/jobs/{job_id}").get_json()
            for output in job["outputs"]:
                assert client.get(output["url"]).status_code == 200, f"seed {seed}"
        for f in found["files"]:
            assert client.get(f["url"]).status_code == 200, f"seed {seed}"


def test_session_page_renders_for_its_owner_only(app, client):
    """The session page is HTML for its owner and 404 for anyone else."""
    session = new_session(client, DATA / "silence.wav").get_json()
    page = client.get(f"/sessions/{session['id']}")
    assert page.status_code == 200 and session["id"].encode() in page.data
    assert app.test_client().get(f"/sessions/{session['id']}").status_code == 404
