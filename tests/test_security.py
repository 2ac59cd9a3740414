"""Issue 24, the web side: no cross-site change with the cookie whatever else a request
carries, no start with the public secret, stored files never served as a page, and the
security headers on every response."""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys

import pytest

from jobs.config import InsecureSecret

from .helpers import DATA, ROOT, make_app, upload, wait_for_status

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
    for wrong in ("Bearer not-a-token", "Bearer t\u00f6k"):
        sent = {**EVIL, "Authorization": wrong}
        assert client.delete(f"/api/jobs/{job['id']}", headers=sent).status_code in (401, 403)
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


@pytest.mark.parametrize("name", ["page.html", "image.svg", "doc.xhtml"])
def test_an_upload_named_as_a_page_is_served_as_what_it_holds(base_env, name):
    """A WAV with a script appended, named like a page: served as audio/wav (from its bytes),
    nosniff, under a policy that runs nothing; never as HTML or SVG."""
    client = make_app(base_env).test_client()
    wav = (DATA / "silence.wav").read_bytes() + b"<script>alert(document.domain)</script>"
    created = client.post("/api/sessions", data={"file": (io.BytesIO(wav), name)},
                          content_type="multipart/form-data")  # fmt: skip
    assert created.status_code == 201, created.get_json()
    served = client.get(created.get_json()["files"][0]["url"])
    assert served.status_code == 200 and served.data == wav
    assert served.mimetype == "audio/wav"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]


def test_outputs_other_than_media_and_subtitles_are_downloaded(base_env, worker):
    """A finished job's SRT is shown in place when asked; its JSON is always an attachment."""
    client = make_app(base_env).test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    done = wait_for_status(client, job["id"], {"finished", "failed"})
    assert done["status"] == "finished", done["error"]
    urls = {o["name"].rsplit(".", 1)[1]: o["url"] for o in done["outputs"]}
    srt = client.get(urls["srt"] + "?inline=1")
    assert srt.mimetype == "application/x-subrip"
    assert not srt.headers.get("Content-Disposition", "").startswith("attachment")
    data = client.get(urls["json"] + "?inline=1")
    assert data.mimetype == "application/json"
    assert data.headers["Content-Disposition"].startswith("attachment")


def test_security_headers_are_on_pages_api_and_the_dashboard(base_env):
    """Pages, JSON, static files, errors and every /rq answer carry CSP, nosniff and
    Referrer-Policy; pages and the dashboard allow no inline script without a nonce."""
    client = make_app({**base_env, "DASHBOARD_PASSWORD": "pw"}).test_client()
    answers = [client.get(path) for path in ("/", "/api/me", "/static/common.js", "/nowhere",
                                             "/api/jobs/nope", "/rq/")]  # fmt: skip
    answers += [client.get(path, headers=basic(), follow_redirects=True)
                for path in ("/rq/", "/rq/0/data/queues.json")]  # fmt: skip
    for answer in answers:
        csp = answer.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'self'" in csp, (answer.request.path, csp)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
    page = answers[0].headers["Content-Security-Policy"]
    assert "default-src 'self'" in page and "unsafe-inline" not in page
    dashboard = answers[-2]
    assert dashboard.status_code == 200 and b"RQ" in dashboard.data
    csp = dashboard.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)[1]
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    inline = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>", dashboard.data)
    assert inline and all(f'nonce="{nonce}"'.encode() in tag for tag in inline)


def test_the_dashboard_takes_changes_only_from_its_own_pages(base_env, idle_env, conn):
    """With the password but from another site (or from nowhere the browser names), a
    delete or a requeue is refused 403 and nothing changes; from its own page it works."""
    client = make_app({**idle_env, "DASHBOARD_PASSWORD": "pw"}).test_client()
    job = upload(client, DATA / "silence.wav", engine="local").get_json()
    delete = f"/rq/job/{job['id']}/delete"
    for sent in (EVIL, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                 {"Referer": "https://evil.example/x"}, {}):  # fmt: skip
        assert client.post(delete, headers={**basic(), **sent}).status_code == 403, sent
    assert client.get(f"/rq/requeue/{idle_env['QUEUE_NAME']}", headers=basic()).status_code == 403
    assert conn.exists(f"rq:job:{job['id']}")
    own = {**basic(), "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post(delete, headers=own).status_code == 200
    assert not conn.exists(f"rq:job:{job['id']}")
