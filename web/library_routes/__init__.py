"""Where the media lives, the HTTP side (jobs/library is the work): one blueprint, one module
per outside program, each turning its request into an ordinary Subcue job.

- `auth`: ASR_TOKEN (Basic password, Bearer or `?token=`); everything is 404 without it set;
- `asr`: the whisper-asr-webservice API that Bazarr's Whisper provider speaks;
- `hold`: keeping a request open until its job ends, cancelling it when the client hangs up;
- `received`: the uploaded audio read at once and spooled to disk.
- `hooks`: `/hooks/<source>`, one module per source (`sonarr`, `radarr`, `jellyfin`, `plex`),
  each the same small class turning its payload into one Notice.
Errors of the whisper API are short plain text (a whisper client keeps whatever parses as
SRT, so an error must never look like subtitles); webhooks get the API's JSON errors.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from jobs.errors import SubcueError

bp = Blueprint("library", __name__)

log = logging.getLogger("subcue.library")


def text_error(status: int, message: str):
    """A short plain-text error with its status."""
    return message.strip() + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def _error(status: int, code: str, message: str):
    """Webhooks get the API's JSON error; the whisper API short text."""
    if request.path.startswith("/hooks/"):
        return jsonify({"error": {"code": code, "message": message}}), status
    return text_error(status, message)


@bp.errorhandler(SubcueError)
def _subcue(exc: SubcueError):
    """A refusal of ours."""
    return _error(exc.status, exc.code, exc.message)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    """Werkzeug's errors (413, 400 of a broken multipart body)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    return _error(exc.code or 500, code, exc.description or exc.name)


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)


from . import asr, auth, hooks  # noqa: E402,F401  (they register on bp)
