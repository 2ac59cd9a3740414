"""rq-dashboard at /rq: password-protected, off without a password, cancelled jobs as stopped."""

from __future__ import annotations

import base64

from .helpers import make_app, upload, wait_for


def basic(password: str, user: str = "admin") -> dict:
    """An Authorization header for HTTP basic auth."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_dashboard_is_absent_without_a_password(client):
    """No DASHBOARD_PASSWORD: /rq does not exist."""
    assert client.get("/rq/").status_code == 404


def test_dashboard_needs_its_user_name_and_password_and_opens_on_our_queue(base_env):
    """401 without, with a wrong password or a wrong user name; with both right, the dashboard
    opens on Subcue's queue (not RQ's `default`)."""
    app = make_app({**base_env, "DASHBOARD_PASSWORD": "s3cret", "DASHBOARD_USERNAME": "ops"})
    client = app.test_client()
    assert client.get("/rq/").status_code == 401
    assert client.get("/rq/", headers=basic("wrong", "ops")).status_code == 401
    assert client.get("/rq/", headers=basic("s3cret", "anyone")).status_code == 401
    page = client.get("/rq/", headers=basic("s3cret", "ops"), follow_redirects=True)
    assert page.status_code == 200 and b"RQ" in page.data
    assert page.request.path == f"/rq/0/view/jobs/{base_env['QUEUE_NAME']}/queued/8/asc/1"
    assert client.get("/api/me").status_code == 200  # the rest of the app is untouched


def test_two_apps_can_mount_the_shared_dashboard_blueprint(base_env):
    """The blueprint is module-level: building a second app must not break the first."""
    first = make_app({**base_env, "DASHBOARD_PASSWORD": "one"}).test_client()
    second = make_app({**base_env, "DASHBOARD_PASSWORD": "two"}).test_client()
    assert first.get("/rq/0/data/queues.json", headers=basic("one")).status_code == 200
    assert second.get("/rq/0/data/queues.json", headers=basic("two")).status_code == 200
    assert second.get("/rq/", headers=basic("one")).status_code == 401


def test_dashboard_shows_cancelled_jobs_as_stopped_or_canceled(base_env, worker, long_speech):
    """A cancelled running job is 'stopped' in the dashboard's JSON, never 'finished'."""
    app = make_app({**base_env, "DASHBOARD_PASSWORD": "pw"})
    client = app.test_client()
    job = upload(client, long_speech, engine="local").get_json()
    wait_for(lambda: client.get(f"/api/jobs/{job['id']}").get_json()["status"] == "running",
             timeout=30, message="the job to run")  # fmt: skip
    assert client.post(f"/api/jobs/{job['id']}/cancel").get_json()["status"] == "cancelled"

    def shown():
        found = client.get(f"/rq/0/data/job/{job['id']}.json", headers=basic("pw")).get_json()
        return found if found["status"] in ("stopped", "canceled") else None

    # RQ files the killed horse a moment after the cancel has answered
    found = wait_for(shown, timeout=5, message="the dashboard to show the job stopped")
    assert found["description"] == f"translate {job['id']}"  # ids and kinds, no file name
