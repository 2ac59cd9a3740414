"""rq-dashboard at /rq, behind HTTP basic auth with DASHBOARD_PASSWORD (absent when unset).

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
    """WSGI: /rq/... goes to the dashboard app if the password matches; the rest to `app`."""

    def __init__(self, app, dashboard, password: str):
        self.app, self.dashboard, self.password = app, dashboard, password

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.app(environ, start_response)
        auth = Request(environ).authorization
        given = (auth.password or "") if auth else ""
        if not (auth and hmac.compare_digest(given.encode(), self.password.encode())):
            challenge = Response(
                "The dashboard needs its password.", 401,
                {"WWW-Authenticate": 'Basic realm="Subcue dashboard"'},
            )  # fmt: skip
            return challenge(environ, start_response)
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
    app.wsgi_app = DashboardGate(app.wsgi_app, dashboard.wsgi_app, config.dashboard_password)
