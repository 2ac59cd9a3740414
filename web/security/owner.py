"""Who is asking: a signed session cookie per browser, or a bearer token from API_TOKENS."""

from __future__ import annotations

import hmac
import uuid

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface

from jobs.errors import SubcueError
from jobs.life import record

from .. import context


class Unauthorized(SubcueError):
    """A bearer token that is not in API_TOKENS."""

    status, code = 401, "unauthorized"


class OwnerCookie(SecureCookieSessionInterface):
    """The signed session cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure behind HTTPS (ProxyFix makes a proxied request count), not on plain HTTP."""
        return request.is_secure or super().get_cookie_secure(app)


class CrossSite(SubcueError):
    """A state-changing request sent by another site's page."""

    status, code = 403, "cross_site"


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _same_origin_only() -> None:
    """Refuse a cookie-authenticated POST/PUT/PATCH/DELETE sent by another site's page.

    SameSite=Lax already keeps the cookie off cross-site POSTs in current browsers; this also
    covers older ones. Whatever else the request carries, only a valid API token makes it a
    non-cookie request: a browser behind a proxy with Basic auth sends `Authorization: Basic`
    (and the cookie) on another site's requests too. Browsers send Origin on such requests
    (sendBeacon included), or at least Sec-Fetch-Site; API clients that send neither are not
    browsers and are let through.
    """
    if request.method not in UNSAFE_METHODS or _api_token() is not None:
        return
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin.rstrip("/") == request.host_url.rstrip("/"):
            return
    elif request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none"):
        return
    raise CrossSite("Requests from other sites cannot change your jobs.")


def _api_token() -> str | None:
    """The request's bearer token if it is one of API_TOKENS, else None."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    known = context.config().api_tokens
    # bytes: compare_digest refuses str with non-ASCII characters (a header can hold them)
    given = token.encode()
    return token if any(hmac.compare_digest(given, k.encode()) for k in known) else None


def _identify() -> None:
    """Set g.owner before every request (and the owner cookie on the first one)."""
    if request.blueprint == "library":
        return  # ASR_TOKEN, checked by web/library_routes/auth.py; no cookie for those programs
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        if not any(hmac.compare_digest(token, known) for known in context.config().api_tokens):
            raise Unauthorized("That API token is not valid.")
        g.owner = record.token_owner(token)
        return
    if "owner" not in session:
        session["owner"] = uuid.uuid4().hex
        session.permanent = True
        g.new_owner = True  # counted per address (web/security/ratelimit.py)
    g.owner = session["owner"]


def current() -> str:
    """The owner of the current request."""
    return g.owner


def init_app(app: Flask) -> None:
    """Identify the owner of every request."""
    app.session_interface = OwnerCookie()
    app.before_request(_same_origin_only)
    app.before_request(_identify)
