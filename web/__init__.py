"""The Flask app: upload form, job pages and the JSON API. It enqueues; it never does media work."""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from jobs.config import Config
from jobs.connection import connect
from jobs.storage.stores import open_storage

from .streams import Hub

MULTIPART_OVERHEAD = 1024 * 1024
"""Bytes allowed on top of MAX_UPLOAD_MB for multipart boundaries and form fields."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then the environment, then `test_config` (variable names)."""
    app = Flask(__name__)
    config = Config.from_env({**os.environ, **(test_config or {})})
    config.check_secret()  # before anything listens: a public key would let anyone be any owner
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_upload_mb * 1024 * 1024 + MULTIPART_OVERHEAD,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
        JSON_SORT_KEYS=False,
    )
    conn = connect(config, shared=True)
    app.extensions["subcue"] = {
        "config": config,
        "redis": conn,
        "storage": open_storage(config.storage_url),
        # its subscription starts with the first stream, in the process that serves it
        "hub": Hub(conn, config.max_streams_per_owner),
    }
    from . import api, dashboard, error_handlers, health, library_routes, pages
    from .security import body, headers, owner, ratelimit

    body.init_app(app)

    dashboard.init_app(app, config)
    # Behind Heroku's router (or any one proxy) trust X-Forwarded-Proto, so cookies get Secure.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    headers.init_app(app, app.extensions["subcue"]["storage"])
    owner.init_app(app)
    error_handlers.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    ratelimit.init_app(app, config)  # after owner: it counts the owners that made
    library_routes.init_app(app)
    health.announce_llm(conn, config)
    return app
