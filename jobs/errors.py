"""Errors with a code and a sentence for a person; the web maps them to JSON in one place."""

import re

_PATH = re.compile(r"(?:file:|(?<![\w.:/]))/(?:[^\s'\":,/]+/)+([^\s'\":,]*)")


def without_paths(text: str) -> str:
    """`text` with every absolute path cut to its last part: messages users see never show
    where the server keeps its files."""
    return _PATH.sub(lambda m: m[1] or "…", text)


class SubcueError(Exception):
    """Base error: `code` is a slug, `message` a sentence, `status` the HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status

    where: dict = {}
    """Where in the request it went wrong ({"line": 6}, {"cue": 3}), for a client to point at."""

    def to_dict(self) -> dict:
        """The `{"code", "message"}` object used in API errors and failed jobs, with `where`."""
        return {"code": self.code, "message": self.message, **self.where}


class BadRequest(SubcueError):
    """A parameter is missing or has a value we do not accept."""


class NotFound(SubcueError):
    """Unknown id, or an id that belongs to another owner."""

    status, code = 404, "not_found"


class TooLarge(SubcueError):
    """The upload is over MAX_UPLOAD_MB."""

    status, code = 413, "too_large"


class NotMedia(SubcueError):
    """The upload is not audio or video we can read."""

    status, code = 415, "not_media"


class UnsupportedMedia(NotMedia):
    """The upload is a playlist, an image sequence or another kind that names other files."""

    code = "unsupported_media"


class MediaTooLong(SubcueError):
    """The media lasts longer than MAX_MEDIA_MINUTES."""

    status, code = 413, "media_too_long"


class EngineUnsupported(SubcueError):
    """The engine cannot do what was asked (e.g. the local engine asked for Persian)."""

    status, code = 422, "engine_unsupported"


class TooManyJobs(SubcueError):
    """The owner already has MAX_ACTIVE_JOBS_PER_OWNER jobs queued or running."""

    status, code = 429, "too_many_jobs"


class JobFailed(SubcueError):
    """A job ends as failed with this code and message (shown to the user)."""

    status, code = 500, "job_failed"


class JobCancelled(Exception):
    """Raised inside a job that saw its cancel flag; it stops without another engine call."""
