"""Limits per client address (Flask-Limiter, counted in Redis so every web process shares them).

Per-owner limits (active jobs, storage, open streams) hold per owner cookie, and a client that
drops its cookie is a new owner. So, per address:
- NEW_OWNERS_PER_ADDRESS: requests that make a new owner (no owner cookie, no API token);
- JOBS_PER_ADDRESS: jobs accepted without an API token (a token's owner is the same whatever
  the address, so its per-owner limits already hold).
The address is the one ProxyFix takes from X-Forwarded-For (one proxy trusted), else the peer's.
Written against Flask-Limiter 4.1.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request, session
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from jobs import keys
from jobs.config import Config

from ..error_handlers import error_page, error_response

JOB_ENDPOINTS = ("api.create_job", "api.create_session_job", "api.retry_job")
"""The routes that start a job."""

NOT_COUNTED = ("/healthz", "/static/")
"""Paths a new owner may fetch without counting (health checks, the page's assets)."""


def _has_token() -> bool:
    """The request carries an API token (checked by web/security/owner.py before any route runs)."""
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _old_owner() -> bool:
    """True unless this request made a new owner (web/security/owner.py sets g.new_owner)."""
    return not g.get("new_owner") or request.path.startswith(NOT_COUNTED)


def _refused(exc: RateLimitExceeded):
    """429 `rate_limited` (a page outside /api/), with Retry-After; a new owner refused keeps
    no cookie, or the refused request would have made an owner after all."""
    if exc.limit.scope == "jobs":
        message = (f"Too many jobs from your address without an API token (at most "
                   f"{exc.limit.limit}); try again later.")  # fmt: skip
    else:
        session.clear()
        message = (f"Too many new visitors from your address (at most {exc.limit.limit}); "
                   "try again later, with cookies on.")  # fmt: skip
    if request.path.startswith("/api/"):
        response, status = error_response(429, "rate_limited", message)
    else:
        response, status = error_page(429, message)
    current = current_app.extensions["subcue"]["limiter"].current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 60
    return response, status, {"Retry-After": str(wait)}


def init_app(app: Flask, config: Config) -> None:
    """Count new owners and token-less jobs per address; call after the blueprints and the
    owner check are registered (its before-request hook must see g.new_owner)."""
    new_owners = ApplicationLimit(limit_provider=config.new_owners_per_address,
                                  scope="new-owners", exempt_when=_old_owner)  # fmt: skip
    limiter = Limiter(
        get_remote_address,
        storage_uri=config.redis_url,
        storage_options={"key_prefix": f"{keys.PREFIX}ratelimit"},
        strategy="moving-window",
        application_limits=[new_owners],
    )
    limiter.init_app(app)
    accepted = lambda response: response.status_code == 202  # noqa: E731  (a refusal is free)
    jobs = limiter.shared_limit(config.jobs_per_address, scope="jobs", exempt_when=_has_token,
                                deduct_when=accepted)  # fmt: skip
    for endpoint in JOB_ENDPOINTS:
        app.view_functions[endpoint] = jobs(app.view_functions[endpoint])
    app.register_error_handler(RateLimitExceeded, _refused)
    app.extensions["subcue"]["limiter"] = limiter
