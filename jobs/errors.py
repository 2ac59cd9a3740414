"""Errors with a code and a sentence for a person; the web maps them to JSON in one place.

`CODES` is the one table of every error code: its HTTP status (None for what only a job's
`error` or `warnings` carry) and what it means. docs/API.md's "Every error code" is made from
it (tests/unit/test_errors.py fails when they differ, or when code spells a code it lacks)."""

import re

_PATH = re.compile(r"(?:file:|(?<![\w.:/]))/(?:[^\s'\":,/]+/)+([^\s'\":,]*)")


def without_paths(text: str) -> str:
    """`text` with every absolute path cut to its last part: messages users see never show
    where the server keeps its files."""
    return _PATH.sub(lambda m: m[1] or "…", text)


CODES: dict[str, tuple[int | None, str]] = {
    # the request (4xx)
    "bad_request": (400, "a parameter is missing or has a value Subcue does not accept"),
    "bad_json": (400, "a body that is not a JSON object Subcue can read"),
    "bad_flag": (400, "a true/false field with another value"),
    "no_file": (400, "no file in the upload"),
    "empty_file": (400, "a file of 0 bytes"),
    "too_many_files": (400, "more files in one request than Subcue takes"),
    "no_files": (400, "a job on a session without files"),
    "unknown_engine": (400, "an engine Subcue does not offer"),
    "unknown_language": (400, "a language code Subcue does not offer"),
    "unknown_kind": (400, "a job kind other than translate or analyze"),
    "unknown_style": (400, "a subtitle style Subcue does not offer"),
    "unknown_translator": (400, "a translator other than gemini or llm"),
    "too_many_languages": (400, "more target languages than one job takes"),
    "bad_video": (400, "a video mode Subcue does not offer, or video on a job not translating"),
    "bad_max_cost": (400, "a cost cap that is not a positive number of dollars"),
    "bad_duration": (400, "an estimate without a usable duration or text size"),
    "bad_glossary": (400, "a glossary entry that is not valid"),
    "bad_subtitles": (400, "a subtitle file with a cue Subcue cannot read"),
    "too_many_cues": (400, "a subtitle file or save with more cues than Subcue takes"),
    "bad_cue": (400, "a cue a subtitle file cannot hold"),
    "bad_cues": (400, "a cue save without its revision or cues"),
    "bad_revision": (400, "a revision that is not a number"),
    "revision_dropped": (404, "a revision asked for that is no longer kept"),
    "not_retryable": (400, "a retry of a job that is not failed or cancelled"),
    "conflict": (409, "the job or its cues changed meanwhile"),
    "not_editable": (409, "editing a job that is not a finished translate job"),
    "bad_path": (400, "a media path that is not absolute"),
    "bad_task": (400, "a whisper-API task other than transcribe or translate"),
    "bad_output": (400, "a whisper-API output format Subcue does not write"),
    "bad_audio": (400, "whisper-API audio that ended before its length"),
    "bad_sync": (400, "a sync job without a media file and the subtitle file named after it"),
    "bad_payload": (400, "a webhook payload Subcue cannot read"),
    "unauthorized": (401, "a token Subcue does not know"),
    "cross_site": (403, "a change sent by another site's page"),
    "outside_media_roots": (403, "a media path outside MEDIA_ROOTS"),
    "not_found": (404, "an unknown id, or another owner's"),
    "too_large": (413, "a request or file over its size limit"),
    "media_too_long": (413, "media longer than MAX_MEDIA_MINUTES"),
    "storage_quota": (413, "an upload that would take the owner over OWNER_STORAGE_MB"),
    "not_media": (415, "a file that is not audio or video Subcue can read"),
    "unsupported_media": (415, "a playlist or another kind of file that names other files"),
    "no_video": (422, "a video output for an input without a video stream"),
    "cannot_burn": (422, "burning subtitles with an ffmpeg without libass"),
    "engine_unsupported": (422, "an engine asked for what it cannot do"),
    "engine_not_configured": (
        422,
        "the Gemini engine without GEMINI_API_KEY, or the LLM without LLM_BASE_URL and LLM_MODEL",
    ),
    "budget_exhausted": (429, "a cap or a daily budget with no room left"),
    "too_many_jobs": (429, "MAX_ACTIVE_JOBS_PER_OWNER jobs already queued or running"),
    "too_many_streams": (429, "too many event streams open for one owner"),
    "rate_limited": (429, "too many new owners or jobs from one address"),
    "internal_error": (500, "an error Subcue did not expect"),
    "media_server_error": (502, "Jellyfin or Plex answered with an error"),
    "busy": (503, "the job the request needs is being made by another request"),
    "unavailable": (503, "Redis is unreachable"),
    "llm_unreachable": (503, "the LLM server's last check failed (unreachable, or no such model)"),
    # a job's own ending (error.code of a failed job; no HTTP status)
    "job_failed": (None, "the job failed"),
    "worker_died": (None, "the worker running the job stopped"),
    "decode_failed": (None, "a file's audio could not be decoded"),
    "temp_budget": (None, "the job needed more temporary space than JOB_TEMP_MB"),
    "video_failed": (None, "ffmpeg could not make the video output"),
    "gemini_bad_answer": (None, "Gemini kept answering what Subcue cannot use"),
    "gemini_auth": (None, "Gemini refused the API key"),
    "gemini_model": (None, "Gemini does not know GEMINI_MODEL"),
    "gemini_rejected": (None, "Gemini refused the request"),
    "gemini_unavailable": (None, "Gemini stayed unavailable through every attempt"),
    "quota_exhausted": (None, "Gemini's quota for the key is used up"),
    "llm_bad_answer": (None, "the LLM kept answering what Subcue cannot use"),
    "llm_auth": (None, "the LLM server refused LLM_API_KEY"),
    "llm_model": (None, "the LLM server does not know LLM_MODEL"),
    "llm_rejected": (None, "the LLM server refused the request"),
    "llm_unavailable": (None, "the LLM server stayed unavailable through every attempt"),
    "llm_unbounded": (
        None,
        "a priced LLM server billed more output tokens than `max_tokens` allowed (it ignores "
        "the limit, so no cap could hold): stopped after that request",
    ),
    "language_unknown": (None, "the English-only model heard speech that is not English"),
    "deleted": (None, "the job was deleted while a page followed it"),
    # warnings on a finished job
    "not_english": (None, "speech the English-only model could not understand"),
    "no_speech": (
        None,
        "a media file in which no speech was found, so its subtitles kept their times",
    ),
    "no_speakers": (None, "a job whose engine names nobody (the local engine)"),
    "no_subtitle_track": (None, "a video muxed without a subtitle track (no speech)"),
    "refresh_failed": (None, "a media server was not told of new subtitles"),
    "subtitles_exist": (None, "subtitles next to the media were kept"),
}
"""Error code -> (HTTP status, or None for a job's own error or warning; what it means)."""


def api_table() -> str:
    """docs/API.md's "Every error code" table, made from CODES."""
    rows = ["| status | code | what it means |", "| --- | --- | --- |"]
    for code, (status, meaning) in CODES.items():
        rows.append(f"| {status or 'job'} | `{code}` | {meaning} |")
    return "\n".join(rows)


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
