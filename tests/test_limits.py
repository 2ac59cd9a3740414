"""Hostile input, limits and owner isolation, checked from the outside (SPEC "Reliability")."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from .helpers import DATA, make_app, upload, wait_for_status


def stored(env) -> list[Path]:
    """Every stored file and every staged upload left behind."""
    roots = [Path(env["STORAGE_URL"].removeprefix("file://")), Path(env["TEMP_DIR"]) / "uploads"]
    return sorted(p for r in roots if r.exists() for p in r.rglob("*") if p.is_file())


@pytest.fixture
def idle_env(base_env):
    """Settings for an app whose queue no worker serves (jobs stay queued)."""
    return {**base_env, "QUEUE_NAME": "subcue-nobody"}


def test_upload_over_the_size_limit_is_refused_while_streaming(base_env, tmp_path):
    """413 JSON, and no byte of it kept."""
    env = {**base_env, "MAX_UPLOAD_MB": "1"}
    client = make_app(env).test_client()
    big = tmp_path / "big.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=90:r=16000",
                    "-ac", "1", str(big)], check=True)  # fmt: skip
    before = stored(env)
    response = upload(client, big, engine="local")
    assert response.status_code == 413
    assert response.get_json()["error"] == {
        "code": "too_large", "message": "The upload is larger than 1 MB.",
    }  # fmt: skip
    assert stored(env) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.mp4", b"Just some text, renamed to look like a video.\n" * 50),
        ("picture.mp4", "png"),
        ("header-broken.mp4", "corrupt"),
    ],
)
def test_non_media_is_refused_with_415(client, base_env, tmp_path, name, content):
    """Text, an image, or a file whose header is garbage: 415 and nothing stored."""
    if content == "png":
        path = tmp_path / "p.png"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:s=32x32",
                        "-frames:v", "1", str(path)], check=True)  # fmt: skip
        content = path.read_bytes()
    elif content == "corrupt":
        data = bytearray((DATA / "speech.mp4").read_bytes())
        data[20:4000] = bytes(3980)
        content = bytes(data)
    before = stored(base_env)
    response = client.post("/api/jobs", data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 415, response.get_json()
    assert response.get_json()["error"]["code"] == "not_media"
    assert name in response.get_json()["error"]["message"]
    assert stored(base_env) == before


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd.wav", "passwd.wav"),
        ("a/b/c.wav", "c.wav"),
        ("nul\x00byte.wav", "nulbyte.wav"),
        ("گفتگوی ما.wav", "گفتگوی ما.wav"),
        ("x" * 300 + ".wav", "x" * 116 + ".wav"),
        (".hidden.wav", "hidden.wav"),
        ("\x01\x02.wav", "upload.wav"),
    ],
)
def test_hostile_file_names_are_stored_safely_and_downloaded_sanely(
    client, worker, base_env, given, shown
):
    """Names lose directories and control characters, keep their letters, stay short."""
    with open(DATA / "silence.wav", "rb") as f:
        response = client.post("/api/jobs", data={"file": (f, given), "engine": "local"},
                               content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], {"finished", "failed"})
    session = client.get(f"/api/sessions/{job['session_id']}").get_json()
    assert [f["name"] for f in session["files"]] == [shown]
    root = Path(base_env["STORAGE_URL"].removeprefix("file://")).resolve()
    for path in root.rglob("*"):
        assert root in path.resolve().parents
    srt = next(o for o in job["outputs"] if o["name"].endswith(".srt"))
    assert srt["name"] == shown.rsplit(".", 1)[0] + ".en.srt"  # the language, as players expect
    download = client.get(srt["url"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert "/" not in download.headers["Content-Disposition"].split("filename", 1)[1]


def test_many_files_at_once(client, base_env):
    """A session takes several files in one request, and refuses too many."""
    files = [(open(DATA / "silence.wav", "rb"), f"part-{i}.wav") for i in range(5)]
    response = client.post("/api/sessions", data={"file": files},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 201
    assert [f["name"] for f in response.get_json()["files"]] == [f"part-{i}.wav" for i in range(5)]
    before = stored(base_env)
    files = [(io.BytesIO(b"x"), f"f{i}.wav") for i in range(21)]
    response = client.post("/api/sessions", data={"file": files},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "too_many_files"
    assert stored(base_env) == before


def test_active_job_limit_answers_429_and_stores_nothing(idle_env):
    """MAX_ACTIVE_JOBS_PER_OWNER: the next job is refused until one ends."""
    env = {**idle_env, "MAX_ACTIVE_JOBS_PER_OWNER": "2"}
    client = make_app(env).test_client()
    first = upload(client, DATA / "silence.wav", engine="local").get_json()
    upload(client, DATA / "silence.wav", engine="local")
    before = stored(env)
    refused = upload(client, DATA / "silence.wav", engine="local")
    assert refused.status_code == 429
    assert "2 jobs" in refused.get_json()["error"]["message"]
    assert stored(env) == before
    other_owner = make_app(env).test_client()
    assert upload(other_owner, DATA / "silence.wav", engine="local").status_code == 202
    client.post(f"/api/jobs/{first['id']}/cancel")
    assert upload(client, DATA / "silence.wav", engine="local").status_code == 202


def test_another_owner_gets_404_for_everything_and_changes_nothing(app, client, worker):
    """Every id of one owner is unknown to another, for every method."""
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    job = wait_for_status(client, job["id"], {"finished"})
    sid, jid = job["session_id"], job["id"]
    session = client.get(f"/api/sessions/{sid}").get_json()
    stranger = app.test_client()
    requests = [
        ("get", f"/api/jobs/{jid}"), ("post", f"/api/jobs/{jid}/cancel"),
        ("post", f"/api/jobs/{jid}/lease"), ("post", f"/api/jobs/{jid}/retry"),
        ("get", f"/api/jobs/{jid}/events"), ("delete", f"/api/jobs/{jid}"),
        ("get", job["outputs"][0]["url"]), ("get", f"/api/sessions/{sid}"),
        ("get", session["files"][0]["url"]), ("post", f"/api/sessions/{sid}/jobs"),
        ("delete", f"/api/sessions/{sid}"), ("get", f"/jobs/{jid}"),
    ]  # fmt: skip
    for method, path in requests:
        response = getattr(stranger, method)(path, json={"kind": "translate"})
        assert response.status_code == 404, (method, path, response.status_code)
    files = {"file": (open(DATA / "silence.wav", "rb"), "s.wav")}
    assert stranger.post(f"/api/sessions/{sid}/files", data=files,
                         content_type="multipart/form-data").status_code == 404  # fmt: skip
    assert stranger.get("/api/jobs").get_json()["jobs"] == []
    assert client.get(f"/api/jobs/{jid}").get_json() == job
    assert client.get(f"/api/sessions/{sid}").get_json() == session


def test_cookie_is_httponly_lax_and_secure_behind_https(client):
    """The owner cookie cannot be read by scripts, rides no cross-site POST, and is Secure
    when the request came over HTTPS through a proxy."""
    plain = client.get("/api/me").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    proxied = client.application.test_client().get(
        "/api/me", headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in proxied.headers["Set-Cookie"]


def test_a_cross_site_post_cannot_cancel_or_delete(client, idle_env):
    """A form on another site posting with the user's cookie is refused and changes nothing."""
    client = make_app(idle_env).test_client()
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    evil = {"Origin": "https://evil.example"}
    assert client.post(f"/api/jobs/{job['id']}/cancel", headers=evil).status_code == 403
    assert client.delete(f"/api/jobs/{job['id']}", headers=evil).status_code == 403
    assert client.get(f"/api/jobs/{job['id']}").get_json()["status"] == "queued"
    same = {"Origin": "http://localhost"}
    assert client.post(f"/api/jobs/{job['id']}/cancel", headers=same).status_code == 200
    assert json.loads(client.get(f"/api/jobs/{job['id']}").data)["status"] == "cancelled"
