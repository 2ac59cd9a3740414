"""Reading a request's JSON body, in one place: whatever a client sends, a body that cannot be
read as JSON the app can keep is a 400 `bad_json` (or 413 when too big), never a 500.

Python's json module answers a body nested a few thousand levels deep with RecursionError, and
accepts `"\\ud800"`, a lone surrogate that no UTF-8 file, Redis value or JSON answer can hold:
both failed later, as 500s, after part of a save was written. The app's JSON provider refuses
them while parsing, so every route (and `request.get_json(silent=True)`) sees a ValueError,
which Flask's request turns into the one `bad_json` answer here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider

from jobs.errors import BadRequest, TooLarge

MAX_DEPTH = 32
"""Nesting a body may have: the deepest real one (cues: body, list, cue) is 3."""

MAX_JSON_BYTES = 32 * 1024 * 1024
"""The largest JSON body: a save of 20,000 cues with their source texts fits."""


class BadJSON(ValueError):
    """A body that parsed but cannot be kept (too deep, a lone surrogate)."""


def checked(value: Any) -> Any:
    """`value` if it nests at most MAX_DEPTH deep and every string (keys too) is valid Unicode;
    BadJSON otherwise. Iterative, so a deep value cannot exhaust the stack here either."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _unicode(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise BadJSON(f"it is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key in item:
                _unicode(key)
            item = item.values()
        pending.extend((child, depth + 1) for child in item)
    return value


def _unicode(text: str) -> None:
    """BadJSON for a string holding a lone surrogate (`\\ud800` with no partner)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadJSON("it holds a lone surrogate (\\ud800–\\udfff), which is not text") from exc


class CheckedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing while parsing what the app could not keep."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse, then check; every failure is a ValueError, as Flask's request expects."""
        try:
            return checked(super().loads(s, **kwargs))
        except RecursionError as exc:
            raise BadJSON("it is nested too deeply") from exc


class CheckedRequest(Request):
    """A request whose unreadable JSON body is a 400 `bad_json` with the reason."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Called by get_json(): a clear 400 instead of Werkzeug's page (or a 415)."""
        if e is None:
            raise BadRequest("Send the body as JSON (Content-Type: application/json).",
                             code="bad_json")  # fmt: skip
        raise BadRequest(f"The body is not JSON Subcue can read: {e}.", code="bad_json") from e


def json_body() -> Any:
    """The request's JSON body, or None when it sent none (no body, or not JSON): what a route
    then validates. 400 `bad_json` for a body that is not readable JSON, 413 over
    MAX_JSON_BYTES."""
    if not request.is_json:
        return None
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise TooLarge(f"A JSON body may hold at most {MAX_JSON_BYTES // (1024 * 1024)} MB.")
    if not request.get_data(cache=True):
        return None
    return request.get_json()


def init_app(app: Flask) -> None:
    """Use the checked JSON parsing for every request of the app."""
    app.request_class = CheckedRequest
    app.json = CheckedJSONProvider(app)
