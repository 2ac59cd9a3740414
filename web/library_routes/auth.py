"""ASR_TOKEN: the one credential of the library integrations.

Bazarr puts it in its endpoint URL (`http://bazarr:TOKEN@subcue:5000/`, the Basic password),
Sonarr and Radarr in their username/password fields, others as `Authorization: Bearer` or
`?token=`. It is compared in constant time; a request without it is logged and answered 401
before anything is read or stored. Until ASR_TOKEN is set every route here is 404, as if it
did not exist. Requests with the token act as one owner, the one `API_TOKENS` would give the
same token, so `GET /api/jobs` with it as a bearer token lists their jobs.
"""

from __future__ import annotations

import hmac

from flask import abort, g, request

from jobs.errors import SubcueError
from jobs.life import record

from .. import context
from . import bp, log

OPEN = frozenset({"library.status"})
"""Routes that answer without the token (Bazarr's "Test connection" sends none)."""


class Unauthorized(SubcueError):
    """A library request without the right ASR_TOKEN."""

    status, code = 401, "unauthorized"


def given_token() -> str:
    """The token the request carries: Basic password, Bearer token, or `?token=`."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.password or ""
    if auth is not None and auth.type == "bearer":
        return auth.token or ""
    return request.args.get("token", "")


@bp.before_request
def _require_token() -> None:
    """404 while the library is off; 401 (logged) without the token; else the token's owner."""
    token = context.config().asr_token
    if not token:
        abort(404)
    if request.endpoint in OPEN:
        return
    if not hmac.compare_digest(given_token().encode(), token.encode()):
        log.warning("event=library_unauthorized path=%s addr=%s", request.path,
                    request.remote_addr)  # fmt: skip
        raise Unauthorized("This needs Subcue's ASR_TOKEN (as the password, a bearer token or "
                           "?token=).")  # fmt: skip
    g.owner = record.token_owner(token)


@bp.after_request
def _challenge(response):
    """Ask for Basic credentials on a 401, so a person's browser or curl knows what to send."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="subcue"'
    return response
