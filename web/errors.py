"""Every error under /api/ (and /healthz) is JSON: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging

import redis
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from jobs.errors import SubcueError

log = logging.getLogger("subcue.web")


def error_response(status: int, code: str, message: str):
    """The JSON error body with its status."""
    return jsonify({"error": {"code": code, "message": message}}), status


def _wants_json() -> bool:
    """JSON for the API and health check; HTML pages keep Flask's pages."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def init_app(app: Flask) -> None:
    """Register the one mapping from exceptions to responses."""

    @app.errorhandler(SubcueError)
    def _subcue(exc: SubcueError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(redis.RedisError)
    def _redis(exc: redis.RedisError):
        log.warning("event=redis_unavailable path=%s error=%s", request.path, exc)
        return error_response(503, "unavailable", "The job store (Redis) is not reachable; "
                              "try again in a moment.")  # fmt: skip

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not _wants_json():
            return exc
        if exc.code == 413:
            limit = app.extensions["subcue"]["config"].max_upload_mb
            return error_response(413, "too_large", f"The upload is larger than {limit} MB.")
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("event=internal_error path=%s", request.path)
        if not _wants_json():
            return "Internal error", 500
        return error_response(500, "internal_error", "Something went wrong on our side.")
