"""The HTTP contract's basics: identity, health, errors as JSON, nothing stored on refusal."""

from __future__ import annotations

import io
import re

import pytest

from jobs.life.status import Status

from .helpers import DATA, make_app, upload


def stored_files(base_env) -> list:
    """Every file under the storage root."""
    from pathlib import Path

    root = Path(base_env["STORAGE_URL"].removeprefix("file://"))
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_first_response_sets_an_owner_cookie_that_identifies_me(client):
    """/api/me answers the same owner for the same cookie jar."""
    first = client.get("/api/me")
    assert "session=" in first.headers.get("Set-Cookie", "")
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/me").get_json() == first.get_json()


def test_healthz_reports_redis_and_live_workers(client, worker):
    """The health check sees Redis and at least the session's worker."""
    body = client.get("/healthz").get_json()
    assert body["redis"] == "ok" and body["workers"] >= 1


def test_openapi_describes_every_route_and_status(client, app):
    """The machine-readable contract lists every route under /api/ with its methods (and
    nothing that is not there), and every status a Job can have."""
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    described = {path: {m.upper() for m in ops} for path, ops in spec["paths"].items()}
    assert described == routes
    job_statuses = spec["components"]["schemas"]["Job"]["properties"]["status"]["enum"]
    assert job_statuses == [s.value for s in Status]


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({}, 400, "no_file"),
        ({"file": (io.BytesIO(b""), "empty.mp4")}, 400, "empty_file"),
        ({"file": (io.BytesIO(b"hello, I am text " * 100), "notes.mp4")}, 415, "not_media"),
        ({"engine": "whisper-xl"}, 400, "unknown_engine"),
        ({"target_language": "klingon"}, 400, "unknown_language"),
        ({"engine": "local", "target_language": "fa"}, 422, "engine_unsupported"),
        ({"engine": "gemini"}, 422, "engine_not_configured"),
        ({"keep_running": "maybe"}, 400, "bad_flag"),
        ({"style": "cinema"}, 400, "unknown_style"),
    ],
)
def test_bad_submissions_get_a_json_error_and_store_nothing(client, base_env, form, status, code):
    """Each refusal names its problem, and leaves no file and no job behind."""
    before = stored_files(base_env)
    jobs_before = client.get("/api/jobs").get_json()["jobs"]
    data = dict(form)
    if "file" not in data and code not in ("no_file",):
        data["file"] = (open(DATA / "silence.wav", "rb"), "silence.wav")
    response = client.post("/api/jobs", data=data, content_type="multipart/form-data")
    assert response.status_code == status
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert stored_files(base_env) == before
    assert client.get("/api/jobs").get_json()["jobs"] == jobs_before


def test_unknown_and_foreign_jobs_answer_404(app, client, worker):
    """Another owner's job id answers exactly like an unknown one."""
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    stranger = app.test_client()
    for path in (f"/api/jobs/{job['id']}", "/api/jobs/4b1e1c1a-0000-4000-8000-000000000000",
                 "/api/jobs/not-a-uuid", f"/jobs/{job['id']}"):  # fmt: skip
        response = stranger.get(path)
        assert response.status_code == 404
    assert stranger.get(f"/api/jobs/{job['id']}").get_json()["error"]["code"] == "not_found"
    assert stranger.post(f"/api/jobs/{job['id']}/cancel").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}").status_code == 200


def test_bearer_tokens_identify_api_clients(base_env):
    """A listed token is an owner of its own; an unlisted one is refused."""
    app = make_app({**base_env, "API_TOKENS": "alpha,beta"})
    client = app.test_client()
    alpha = client.get("/api/me", headers={"Authorization": "Bearer alpha"}).get_json()["owner"]
    beta = client.get("/api/me", headers={"Authorization": "Bearer beta"}).get_json()["owner"]
    assert alpha != beta and "alpha" not in alpha
    refused = client.get("/api/me", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"


def test_pages_render(client, worker):
    """The upload form and a job page are HTML."""
    page = client.get("/")
    assert page.status_code == 200 and b'name="target_language"' in page.data
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    assert b'data-job-id="' + job["id"].encode() in client.get(f"/jobs/{job['id']}").data
