"""The whisper-asr-webservice API (what Bazarr's Whisper provider speaks), served by ordinary
Subcue jobs: `POST /asr` is a translate job with ASR_ENGINE, `POST /detect-language` a detect
job, each visible in the job list and the dashboard, the request held until the job ends.

Bazarr posts the audio as raw 16 kHz mono s16le PCM (`encode=false`) in the part `audio_file`,
asks `/detect-language` first when it does not know the spoken language, and keeps whatever
comes back that parses as SRT, whatever the status: so every error is a short sentence.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import PurePath

from flask import jsonify, request

from jobs.errors import BadRequest
from jobs.library import asr
from jobs.library.intake import locked, running_job
from jobs.life.status import Status
from jobs.life.submit import submit
from jobs.storage import stores
from jobs.subtitles.languages import LANGUAGES

from .. import context, uploads
from ..api.job_fields import flag, job_params
from ..api.job_start import admit, describe, new_session
from ..security import owner
from . import bp, hold, log, text_error
from .received import allow_large_body, received

TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def _version() -> str:
    """Subcue's version (pyproject.toml), as whisper-asr-webservice reports its own."""
    try:
        return version("subcue")
    except PackageNotFoundError:
        return "0.1.0"


@bp.get("/status")
def status():
    """Bazarr's "Test connection": the version, nothing else, and no token needed."""
    return jsonify({"version": _version()})


def _query() -> dict:
    """The query parameters whisper-asr-webservice takes, checked."""
    args = request.args
    task = (args.get("task") or "transcribe").strip().lower()
    if task not in asr.TASKS:
        raise BadRequest(f"task must be transcribe or translate, not {task!r}.", code="bad_task")
    output = (args.get("output") or "srt").strip().lower()
    if output not in asr.OUTPUTS:
        raise BadRequest(f"output must be one of {', '.join(asr.OUTPUTS)}, not {output!r}.",
                         code="bad_output")  # fmt: skip
    language = (args.get("language") or "").strip().lower() or None
    if language is not None and language not in LANGUAGES:
        raise BadRequest(f"Subcue does not know the language {language!r}; use one of "
                         f"{', '.join(LANGUAGES)}.", code="unknown_language")  # fmt: skip
    video_file = (args.get("video_file") or "").strip() or None
    for name in ("vad_filter", "word_timestamps"):  # accepted; Subcue always uses both
        flag(args.get(name), default=False, name=name)
    return {"task": task, "output": output, "language": language, "video_file": video_file,
            "encode": flag(args.get("encode"), default=True, name="encode")}  # fmt: skip


UNNAMED = "audio_file"
"""The name of audio that comes without a media path (the part's own name)."""


def _stem(video_file: str | None) -> str:
    """The name the job shows: the media file's, when the client says which it is."""
    return PurePath(video_file.replace("\\", "/")).stem if video_file else UNNAMED


def _attachment(video_file: str | None, output: str) -> str:
    """`Content-Disposition` naming the answer after the media, as whisper-asr-webservice
    does; the name (the client's text) made safe for a quoted ASCII header value."""
    name = uploads.safe_name(_stem(video_file) + "." + output)
    name = name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return f'attachment; filename="{name}"'


def _describe(kind: str, files: list[dict], params: dict) -> str:
    """The job list's line: 'detect language of X (local)', or as any translate job."""
    if kind == "detect":
        return f"detect language of {files[0]['name']} (local)"
    return describe(kind, files, params)


def _job_for(kind: str, params: dict, query: dict) -> str:
    """The job serving this request: the one already running for the same audio (or media
    path), else a new one over the uploaded audio."""
    conn = context.conn()
    with received(query["encode"], _stem(query["video_file"])) as (staged, digest):
        key = asr.dedupe_key(kind + ":" + query["task"], query["language"],
                             query["video_file"], digest)  # fmt: skip
        with locked(conn, key):
            if (job_id := running_job(conn, key, finished_too=True)) is not None:
                log.info("job=%s event=request_joined", job_id)  # a retry: no second job
                return job_id
            admit(params)
            with new_session(staged) as (session_id, files):
                job_id = submit(conn, context.config(), owner=owner.current(),
                                session_id=session_id, kind=kind, params=params,
                                description=_describe(kind, files, params))  # fmt: skip
            asr.claim(conn, key, job_id)
            return job_id


def _ended_or_error(job_id: str):
    """Hold the request until the job ends; its record, or the text error to answer."""
    ended = hold.until_ended(context.conn(), context.config(), job_id)
    if ended is None:
        return None, text_error(499, "The client went away.")
    if ended["status"] != Status.FINISHED:
        error = ended.get("error") or {}
        why = error.get("message") or f"The job ended {ended['status']}."
        return None, text_error(422 if ended["status"] == Status.FAILED else 503,
                                f"Subcue could not do it: {why}")  # fmt: skip
    foreign = [w for w in ended.get("warnings") or [] if w.get("code") == "not_english"]
    if foreign:  # a person can judge such subtitles; a program would keep them as they are
        return None, text_error(422, f"Subcue could not do it: {foreign[0]['message']}")
    return ended, None


def _read_output(rec: dict, fmt: str) -> str:
    """The text of the finished job's first output in `fmt`."""
    found = next(o for o in rec.get("outputs") or [] if o.get("format") == fmt)
    with context.storage().open(stores.output_key(rec["id"], found["name"])) as f:
        return f.read().decode("utf-8")


@bp.post("/asr")
def transcribe():
    """Subtitles (or text) of the uploaded audio, made by a job with ASR_ENGINE."""
    allow_large_body()
    request.files  # noqa: B018 - read the whole body now, before anything slow
    query = _query()
    config = context.config()
    target = "en" if query["task"] == "translate" else query["language"] or "en"
    params, _ = job_params({"engine": config.asr_engine, "target_language": target})
    if query["language"]:
        params["source_language"] = query["language"]
    job_id = _job_for("translate", params, query)
    rec, error = _ended_or_error(job_id)
    if error is not None:
        return error
    output = query["output"]
    if output in ("srt", "vtt"):
        body = _read_output(rec, output)
    else:
        body = asr.document(json.loads(_read_output(rec, "json")), output)
    return (
        body,
        200,
        {
            **TEXT,
            "Asr-Engine": f"subcue-{params['engine']}",
            "Content-Disposition": _attachment(query["video_file"], output),
        },
    )


@bp.post("/detect-language")
def detect_language():
    """The language spoken in the first 30 s of the uploaded audio, found by a detect job."""
    allow_large_body()
    request.files  # noqa: B018 - read the whole body now, before anything slow
    query = _query() | {"task": "detect", "language": None}
    params = {"engine": "local", "target_language": "en", "keep_running": True}
    job_id = _job_for("detect", params, query)
    rec, error = _ended_or_error(job_id)
    if error is not None:
        return error
    answer = json.loads(_read_output(rec, "json"))
    log.info("job=%s event=language_detected code=%s", job_id, answer["language_code"])
    return jsonify(answer)
