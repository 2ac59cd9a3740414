"""Issue 24, the web side: no cross-site change with the cookie whatever else a request
carries, no start with the public secret, stored files never served as a page, and the
security headers on every response."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from jobs.config import InsecureSecret

from .helpers import DATA, ROOT, make_app, upload

EVIL = {"Origin": "https://evil.example"}
"""What another site's page sends along with the user's cookie."""


@pytest.fixture
def idle_env(base_env):
    """Settings for an app whose queue no worker serves (jobs stay queued), with a token."""
    return {**base_env, "QUEUE_NAME": "subcue-nobody-sec", "API_TOKENS": "tok-1"}


def basic(user: str = "admin", password: str = "pw") -> dict:
    """An Authorization header for HTTP basic auth."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth_does_not_let_a_cross_site_delete_through(idle_env):
    """Behind a proxy with Basic auth the browser adds `Authorization: Basic` to another
    site's request too: with the cookie, it is still refused and the job stays; the same
    request from our own page, or one made with a valid API token, goes through."""
    client = make_app(idle_env).test_client()
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    refused = client.delete(f"/api/jobs/{job['id']}", headers={**EVIL, **basic()})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "cross_site"
    no_origin = {**basic(), "Sec-Fetch-Site": "cross-site"}
    assert client.delete(f"/api/jobs/{job['id']}", headers=no_origin).status_code == 403
    wrong_token = {**EVIL, "Authorization": "Bearer not-a-token"}
    assert client.delete(f"/api/jobs/{job['id']}", headers=wrong_token).status_code in (401, 403)
    assert client.get(f"/api/jobs/{job['id']}").get_json()["status"] == "queued"

    same = {"Origin": "http://localhost", **basic()}
    assert client.delete(f"/api/jobs/{job['id']}", headers=same).status_code == 204

    token = {"Authorization": "Bearer tok-1"}
    with open(DATA / "silence.wav", "rb") as f:
        made = client.post("/api/jobs", data={"file": (f, "s.wav"), "engine": "local"},
                           headers=token, content_type="multipart/form-data")  # fmt: skip
    assert made.status_code == 202
    gone = client.delete(f"/api/jobs/{made.get_json()['id']}", headers={**EVIL, **token})
    assert gone.status_code == 204


def test_the_public_default_secret_stops_web_and_worker(base_env):
    """Without SECRET_KEY neither the app nor a worker starts, and both say how to set one;
    FLASK_DEBUG=1 (development) may use the built-in key."""
    env = {k: v for k, v in base_env.items() if k != "SECRET_KEY"}
    with pytest.raises(InsecureSecret, match="SECRET_KEY"):
        make_app(env)
    assert make_app({**env, "FLASK_DEBUG": "1"}).test_client().get("/api/me").status_code == 200

    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG")}
    worker = subprocess.run([sys.executable, "-m", "worker"], cwd=ROOT, env={**clean, **env},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert worker.returncode == 2
    assert "SECRET_KEY" in worker.stderr and "var/secret_key" in worker.stderr
