"""rq-dashboard at /rq, behind HTTP basic auth with DASHBOARD_USERNAME and DASHBOARD_PASSWORD
(absent when the password is unset), opening on Subcue's own queue.

rq-dashboard's blueprint is a module-level object shared by every app that registers it, so it
is never decorated here: it lives in a small Flask app of its own, and a WSGI wrapper checks the
password before a request reaches it.

Written against rq-dashboard 0.8/0.9, which has no CSRF protection (the browser resends the
Basic credentials on any site's request, and some changes are GETs, e.g. /rq/requeue/<queue>):
the wrapper lets only plain reads through without proof that the request comes from the
dashboard's own pages. Its pages render job fields as HTML and run one inline script (its
templates, with Underscore's and Sugar's compiled functions): they get a policy allowing that
script by a nonce per response and eval, and no inline handler, so markup slipped into a
job's text still runs nothing.
"""

from __future__ import annotations

import hmac
import re
import secrets

import rq_dashboard
from flask import Flask
from flask import Response as FlaskResponse
from rq_dashboard.web import setup_rq_connection
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from jobs.config import Config
from jobs.connection import redis_url

from .security import headers

PREFIX = "/rq"
"""Where the dashboard is mounted."""

READS = re.compile(r"/rq/?|/rq/\d+/?|/rq/\d+/(view|data)(/.*)?|/rq/static/.+|/rq/favicon\.ico")
"""Paths of rq-dashboard's pages, their JSON and static files: what a GET may read freely.
Every other request (a POST, or a GET elsewhere such as /rq/requeue/<queue>) changes
something and must come from the dashboard's own pages."""

SCRIPT_TAG = re.compile(rb"<script(?=[\s>])")
"""Where a nonce goes into the dashboard's pages: every <script> tag, all written by its
templates (Jinja escapes every value it puts into them, so no `<script` comes from a job)."""


def dashboard_policy(nonce: str) -> str:
    """The policy of rq-dashboard's pages: its own files, its inline script by `nonce`, the
    eval its template libraries need, and its inline style attributes; nothing from elsewhere."""
    return headers.policy({
        "default-src": "'self'", "script-src": f"'self' 'nonce-{nonce}' 'unsafe-eval'",
        "style-src": "'self' 'unsafe-inline'", "img-src": "'self' data:",
        "object-src": "'none'", "base-uri": "'self'", "form-action": "'self'",
        "frame-ancestors": "'self'",
    })  # fmt: skip


def from_own_pages(request: Request) -> bool:
    """Whether the browser says the request comes from a page of this origin: Sec-Fetch-Site,
    else Origin, else Referer (one of them is on every request a current browser makes)."""
    own = request.host_url.rstrip("/")
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.rstrip("/") == own
    return (request.referrer or "").startswith(own + "/")


def add_nonce(response: FlaskResponse) -> FlaskResponse:
    """Give a dashboard page's scripts a fresh nonce, and every response its headers."""
    nonce = secrets.token_urlsafe(18)
    if response.mimetype == "text/html" and not response.direct_passthrough:
        response.set_data(SCRIPT_TAG.sub(f'<script nonce="{nonce}"'.encode(), response.get_data()))
        response.headers["Content-Security-Policy"] = dashboard_policy(nonce)
    headers.secure(response.headers, headers.NOTHING)
    return response


class DashboardGate:
    """WSGI: /rq/... goes to the dashboard app if the user name and password match, and, for
    anything but a plain read, if it comes from the dashboard's own pages; the rest to `app`.
    The dashboard's front page and its Jobs tab open on Subcue's queue (rq-dashboard would
    show RQ's `default` queue, which Subcue never uses)."""

    def __init__(self, app, dashboard, username: str, password: str, queue: str):
        self.app, self.dashboard = app, dashboard
        self.username, self.password = username, password
        self.start = f"{PREFIX}/0/view/jobs/{queue}/queued/8/asc/1"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.app(environ, start_response)
        request = Request(environ)
        auth = request.authorization
        user = (auth.username or "") if auth else ""
        given = (auth.password or "") if auth else ""
        matches = hmac.compare_digest(user.encode(), self.username.encode())
        matches &= hmac.compare_digest(given.encode(), self.password.encode())
        if not (auth and matches):
            challenge = Response(
                "The dashboard needs its password.", 401,
                {"WWW-Authenticate": 'Basic realm="Subcue dashboard"'},
            )  # fmt: skip
            return challenge(environ, _secured(start_response))
        plain_read = request.method in ("GET", "HEAD") and READS.fullmatch(path)
        if not plain_read and not from_own_pages(request):
            refused = Response("The dashboard takes changes only from its own pages.", 403)
            return refused(environ, _secured(start_response))
        if path in (PREFIX, PREFIX + "/", PREFIX + "/0/view/jobs"):
            to_start = Response(status=302, headers={"Location": self.start})
            return to_start(environ, _secured(start_response))
        return self.dashboard(environ, start_response)


def _secured(start_response):
    """start_response adding the security headers to the gate's own answers."""

    def start(status, response_headers, exc_info=None):
        found = Headers(response_headers)
        headers.secure(found, headers.NOTHING)
        return start_response(status, found.to_wsgi_list(), exc_info)

    return start


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
    dashboard.after_request(add_nonce)  # our own app: the shared blueprint stays undecorated
    setup_rq_connection(dashboard)
    app.wsgi_app = DashboardGate(
        app.wsgi_app,
        dashboard.wsgi_app,
        config.dashboard_username,
        config.dashboard_password,
        config.queue_name,
    )
