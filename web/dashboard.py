"""rq-dashboard at /rq, behind HTTP basic auth with DASHBOARD_USERNAME and DASHBOARD_PASSWORD
(absent when the password is unset), opening on Subcue's own queue.

rq-dashboard's blueprint is a module-level object shared by every app that registers it, so it
is never decorated here: it lives in a small Flask app of its own, and a WSGI wrapper checks the
password before a request reaches it.
"""

from __future__ import annotations

import hmac

import rq_dashboard
from flask import Flask
from rq_dashboard.web import setup_rq_connection
from werkzeug.wrappers import Request, Response

from jobs.config import Config
from jobs.connection import redis_url

PREFIX = "/rq"
"""Where the dashboard is mounted."""


class DashboardGate:
    """WSGI: /rq/... goes to the dashboard app if the user name and password match; the rest
    to `app`. The dashboard's front page and its Jobs tab open on Subcue's queue (rq-dashboard
    would show RQ's `default` queue, which Subcue never uses)."""

    def __init__(self, app, dashboard, username: str, password: str, queue: str):
        self.app, self.dashboard = app, dashboard
        self.username, self.password = username, password
        self.start = f"{PREFIX}/0/view/jobs/{queue}/queued/8/asc/1"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.app(environ, start_response)
        auth = Request(environ).authorization
        user = (auth.username or "") if auth else ""
        given = (auth.password or "") if auth else ""
        matches = hmac.compare_digest(user.encode(), self.username.encode())
        matches &= hmac.compare_digest(given.encode(), self.password.encode())
        if not (auth and matches):
            challenge = Response(
                "The dashboard needs its password.", 401,
                {"WWW-Authenticate": 'Basic realm="Subcue dashboard"'},
            )  # fmt: skip
            return challenge(environ, start_response)
        if path in (PREFIX, PREFIX + "/", PREFIX + "/0/view/jobs"):
            return Response(status=302, headers={"Location": self.start})(environ, start_response)
        return self.dashboard(environ, start_response)


def init_app(app: Flask, config: Config) -> None:
    """Mount the dashboard when DASHBOARD_PASSWORD is set (otherwise /rq is a plain 404)."""
    if not config.dashboard_password:
        return
    dashboard = Flask("subcue_dashboard")
    dashboard.config.update(
        SECRET_KEY=config.secret_key,
        RQ_DASHBOARD_REDIS_URL=redis_url(config),
        APPLICATION_ROOT=PREFIX,
    )
    dashboard.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    setup_rq_connection(dashboard)
    app.wsgi_app = DashboardGate(
        app.wsgi_app,
        dashboard.wsgi_app,
        config.dashboard_username,
        config.dashboard_password,
        config.queue_name,
    )
