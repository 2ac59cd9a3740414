"""The security headers every response carries: pages, API, stored files and the dashboard.

The pages run only Subcue's own scripts and styles (files under /static: no inline script,
style or handler), so the policy needs no 'unsafe-inline'. Media may also come from the
storage's presigned URLs (a bucket). rq-dashboard's pages get their own policy (see
web/dashboard.py).
"""

from __future__ import annotations

from flask import Flask, Response

from jobs.storage.stores import Storage

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",  # frame-ancestors, for browsers that predate it
}
"""Headers every response gets, whatever it is."""

NOTHING = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
"""The policy of an answer that is no page and loads nothing (the dashboard's 401 and 403)."""

STORED = NOTHING + "; sandbox"
"""The policy of a stored file (an upload, a job's output): even opened as a page it runs
nothing and counts as no origin of ours."""


def policy(directives: dict[str, str]) -> str:
    """A Content-Security-Policy value from {directive: sources}."""
    return "; ".join(f"{name} {sources}".strip() for name, sources in directives.items())


def page_policy(store: Storage) -> str:
    """The pages' policy: our own origin for everything; media also from the storage's direct
    URLs (https: covers a bucket's virtual-hosted names; a custom endpoint is named), and from
    blob: (the upload form reads a chosen file's length from the file itself)."""
    media = " ".join(filter(None, ["'self'", "blob:", "https:", store.direct_origin()]))
    return policy({
        "default-src": "'self'", "media-src": media, "object-src": "'none'",
        "base-uri": "'self'", "form-action": "'self'", "frame-ancestors": "'self'",
    })  # fmt: skip


def secure(headers, csp: str) -> None:
    """Add the common headers and `csp` to `headers` (a Headers object), keeping any a
    response already set for itself (a stored file's stricter policy)."""
    for name, value in {**COMMON, "Content-Security-Policy": csp}.items():
        headers.setdefault(name, value)


def init_app(app: Flask, store: Storage) -> None:
    """Put the headers on every response of the app. Scripts and JSON get the pages' policy
    too: a dedicated worker (the job page's lease.js) runs under its own script's policy."""
    pages = page_policy(store)

    @app.after_request
    def _headers(response: Response) -> Response:
        secure(response.headers, pages)
        return response
