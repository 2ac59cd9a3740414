"""Every error under /api/ (and /healthz) is JSON: {"error": {"code", "message"}}; a page's
error is a page (with a way back)."""

from __future__ import annotations

import logging

import redis
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from jobs.errors import SubcueError

log = logging.getLogger("subcue.web")


def error_response(status: int, code: str, message: str):
    """The JSON error body with its status."""
    return jsonify({"error": {"code": code, "message": message}}), status


TITLES = {404: "Not found", 500: "Something went wrong"}


def error_page(status: int, message: str):
    """The HTML error page with its status."""
    title = TITLES.get(status, "That did not work")
    return render_template("error.html", status=status, title=title, message=message), status


def _wants_json() -> bool:
    """JSON for the API and health check; HTML pages keep Flask's pages."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def init_app(app: Flask) -> None:
    """Register the one mapping from exceptions to responses."""

    @app.errorhandler(SubcueError)
    def _subcue(exc: SubcueError):
        if not _wants_json():
            return error_page(exc.status, exc.message)
        return jsonify({"error": exc.to_dict()}), exc.status

    @app.errorhandler(redis.RedisError)
    def _redis(exc: redis.RedisError):
        log.warning("event=redis_unavailable path=%s error=%s", request.path, exc)
        if not _wants_json():
            return error_page(503, "Subcue cannot reach its job store right now; try again "
                                   "in a moment.")  # fmt: skip
        return error_response(503, "unavailable", "The job store (Redis) is not reachable; "
                              "try again in a moment.")  # fmt: skip

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not _wants_json():
            if exc.code == 404:
                return error_page(404, "There is no page at this address.")
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
            return error_page(500, "Subcue hit an error it did not expect; try again.")
        return error_response(500, "internal_error", "Something went wrong on our side.")
