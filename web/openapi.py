"""The OpenAPI 3 description served at /api/openapi.json."""

from __future__ import annotations

from jobs.life.status import Status
from jobs.media.sync import RATES
from jobs.media.video import MODES
from jobs.subtitles.languages import LANGUAGES
from jobs.subtitles.styles import STYLES
from jobs.work.engines import ENGINES, TEXT_ENGINES, TRANSLATORS

STATUSES = [s.value for s in Status]


def _error_responses(*codes: int) -> dict:
    """Error responses, all with the one JSON error shape."""
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {str(code): {"description": "error", **ref} for code in codes}


def _json(schema: str, description: str) -> dict:
    """A JSON response with a component schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_SID = {"name": "session_id", "in": "path", "required": True,
        "schema": {"type": "string", "format": "uuid"}}  # fmt: skip
_SYNC = {"type": "boolean", "description": "re-time each subtitle file to the media file whose "
         "stem its name starts with (film.mp4 with film.srt or film.en.srt): offset, frame-rate "
         "drift, splits; text untouched; no engine call for the file's own language. 400 "
         "bad_sync without such a pair"}  # fmt: skip
_CAP = {"type": "number", "minimum": 0, "exclusiveMinimum": True,
        "description": "The most the job may spend, in USD (paid engines); it stops with "
                       "budget_exhausted before a call that could pass it."}  # fmt: skip
_ENGINE = {"type": "string", "enum": list(ENGINES),
           "description": "who hears the audio (default: gemini if configured, else local). "
                          "The local engine hears English only: other languages (and subtitle "
                          "files) need a translator. engine=llm is refused, 400 unknown_engine: "
                          "the LLM translates text and hears no audio"}  # fmt: skip
_TRANSLATOR = {"type": "string", "enum": list(TRANSLATORS),
               "description": "who translates the job's text: subtitle files, and every "
                              "language but the one the engine heard (the local engine: every "
                              "language but English). Default: gemini when the engine is "
                              "gemini, else llm when LLM_BASE_URL and LLM_MODEL are set, else "
                              "none (the local engine then makes English only). 400 "
                              "unknown_translator for another value; 422 "
                              "engine_not_configured for one this server lacks"}  # fmt: skip
_VIDEO = {"type": "string", "enum": list(MODES),
          "description": "translate jobs: none, mux (<stem>.subtitled.mkv, a track per "
                         "language) or burn (<stem>.burned.mp4)"}  # fmt: skip
_CUE_QUERY = [
    {"name": "file", "in": "query", "schema": {"type": "string"},
     "description": "the file's id (default: the job's first file)"},
    {"name": "language", "in": "query", "schema": {"type": "string"},
     "description": "the language code (default: the job's first language)"},
]  # fmt: skip
_UPLOAD = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "audio, video or subtitle files (.srt, .vtt, .ass, .ssa)"},
            "target_language": {"type": "string", "enum": sorted(LANGUAGES)},
            "target_languages": {"type": "string", "description": "comma-separated codes, the "
                                 "first heard from the audio (a repeated field works too)"},
            "bilingual": {"type": "boolean"},
            "sync": _SYNC,
            "speaker_names": {"type": "boolean", "description": "speakers' names before their "
                              "lines in SRT and WebVTT (\"ANNA: \"), where the engine tells"},
            "source_language": {"type": "string", "enum": sorted(LANGUAGES)},
            "engine": _ENGINE,
            "translator": _TRANSLATOR,
            "keep_running": {"type": "boolean"},
            "style": {"type": "string", "enum": list(STYLES)},
            "max_cost_usd": _CAP,
            "video": _VIDEO,
        },
    }}},
}  # fmt: skip
_JOB_REQUEST = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": ["translate", "analyze"]},
            "target_language": {"type": "string", "enum": sorted(LANGUAGES)},
            "target_languages": {"type": "array", "maxItems": 10,
                                 "items": {"type": "string", "enum": sorted(LANGUAGES)}},
            "bilingual": {"type": "boolean"},
            "sync": _SYNC,
            "speaker_names": {"type": "boolean"},
            "source_language": {"type": "string", "enum": sorted(LANGUAGES)},
            "engine": _ENGINE,
            "translator": _TRANSLATOR,
            "keep_running": {"type": "boolean"},
            "style": {"type": "string", "enum": list(STYLES)},
            "max_cost_usd": _CAP,
            "video": _VIDEO,
        },
    }}},
}  # fmt: skip
_RETRY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"max_cost_usd": {**_CAP, "nullable": True}}}}}}  # fmt: skip
_NAME = {"type": "string", "maxLength": 40, "description": "S1, S2… or a name; no tags"}
_SPEAKERS = {
    "type": "array",
    "maxItems": 2,
    "items": _NAME,
    "description": "who speaks the cue: one name, or two (one a line, dashed)",
}


def spec() -> dict:
    """The whole document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Subcue", "version": "1.0.0",
                 "description": "Subtitles and transcripts for media, as cancellable jobs."},
        "paths": {
            "/api/me": {"get": {"summary": "Who am I", "responses": {
                "200": {"description": "the owner", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"owner": {"type": "string"}}}}}}}}},
            "/api/jobs": {
                "get": {"summary": "The owner's jobs, newest first",
                        "responses": {"200": _json("JobList", "jobs")}},
                "post": {"summary": "Upload files and start a translate job",
                         "requestBody": _UPLOAD,
                         "responses": {"202": _json("Job", "the new job"),
                                       **_error_responses(400, 413, 415, 422, 429, 503)}},
            },
            "/api/jobs/{job_id}": {
                "get": {"summary": "One job", "parameters": [_ID],
                        "responses": {"200": _json("Job", "the job"), **_error_responses(404)}},
                "delete": {"summary": "Cancel, then purge the job", "parameters": [_ID],
                           "responses": {"204": {"description": "deleted"},
                                         **_error_responses(404)}},
            },
            "/api/jobs/{job_id}/cancel": {"post": {
                "summary": "Cancel (idempotent)", "parameters": [_ID],
                "responses": {"200": _json("Job", "the job"), **_error_responses(404)}}},
            "/api/jobs/{job_id}/retry": {"post": {
                "summary": "Queue a failed or cancelled job again (it resumes from its "
                           "checkpoints), optionally with a new max_cost_usd",
                "parameters": [_ID], "requestBody": _RETRY,
                "responses": {"202": _json("Job", "the requeued job"),
                              **_error_responses(400, 404, 413, 429)}}},
            "/api/jobs/{job_id}/lease": {"post": {
                "summary": "The job page is still open", "parameters": [_ID],
                "responses": {"204": {"description": "renewed"}, **_error_responses(404)}}},
            "/api/jobs/{job_id}/events": {"get": {
                "summary": "Server-sent events: the Job on every change", "parameters": [_ID],
                "responses": {"200": {"description": "event stream", "content": {
                                          "text/event-stream": {"schema": {"type": "string"}}}},
                              **_error_responses(404)}}},
            "/api/jobs/{job_id}/outputs/{name}": {"get": {
                "summary": "Download an output", "parameters": [_ID, {
                    "name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the file"}, **_error_responses(404)}}},
            "/api/sessions": {"post": {
                "summary": "A new session with files", "requestBody": _UPLOAD,
                "responses": {"201": _json("Session", "the session"),
                              **_error_responses(400, 413, 415, 429, 503)}}},
            "/api/sessions/{session_id}": {
                "get": {"summary": "One session", "parameters": [_SID],
                        "responses": {"200": _json("Session", "the session"),
                                      **_error_responses(404)}},
                "delete": {"summary": "Cancel its jobs, then purge it", "parameters": [_SID],
                           "responses": {"204": {"description": "deleted"},
                                         **_error_responses(404)}},
            },
            "/api/sessions/{session_id}/files": {"post": {
                "summary": "Add files", "parameters": [_SID], "requestBody": _UPLOAD,
                "responses": {"201": _json("Session", "the session"),
                              **_error_responses(400, 404, 413, 415, 429)}}},
            "/api/sessions/{session_id}/files/{file_id}": {"get": {
                "summary": "An uploaded media file (ranges work; S3 answers a redirect)",
                "parameters": [_SID, {"name": "file_id", "in": "path", "required": True,
                                      "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the media"},
                              "302": {"description": "a presigned URL of the bucket"},
                              **_error_responses(404)}}},
            "/api/estimate": {"get": {
                "summary": "What a job would cost: expected and worst case, calls, wall time",
                "parameters": [
                    {"name": "duration_s", "in": "query",
                     "description": "seconds of media, once per media file",
                     "schema": {"type": "array", "items": {"type": "number"}},
                     "style": "form", "explode": True},
                    {"name": "engine", "in": "query", "schema": _ENGINE},
                    {"name": "translator", "in": "query", "schema": _TRANSLATOR},
                    {"name": "kind", "in": "query", "schema": {"type": "string",
                                                               "enum": ["translate", "analyze"]}},
                    {"name": "text_chars", "in": "query",
                     "description": "characters of a subtitle file, once per subtitle file",
                     "schema": {"type": "array", "items": {"type": "integer"}},
                     "style": "form", "explode": True},
                    {"name": "target_language", "in": "query", "schema": {"type": "string"}},
                    {"name": "target_languages", "in": "query", "schema": {"type": "string"},
                     "description": "comma-separated codes; the first is heard from the audio"},
                    {"name": "session_id", "in": "query",
                     "schema": {"type": "string", "format": "uuid"},
                     "description": "one of your sessions: every call carries its glossary"}],
                "responses": {"200": _json("Estimate", "the estimate"),
                              **_error_responses(400, 404, 422)}}},
            "/api/usage": {"get": {
                "summary": "The owner's spend today and this month per engine, and the budgets",
                "responses": {"200": _json("Usage", "spend and budgets")}}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {
                "200": {"description": "OpenAPI 3", "content": {"application/json": {
                    "schema": {"type": "object"}}}}}}},
            "/api/jobs/{job_id}/cues": {
                "get": {"summary": "A finished job's cues of one file in one language, for the "
                                   "editor: the latest revision, or ?revision=k",
                        "parameters": [_ID, *_CUE_QUERY,
                                       {"name": "revision", "in": "query",
                                        "schema": {"type": "integer", "minimum": 0}}],
                        "responses": {"200": _json("Cues", "the cues"),
                                      **_error_responses(400, 404, 409)}},
                "put": {"summary": "Save corrected cues as a new revision; the SRT, VTT and "
                                   "JSON are written again",
                        "parameters": [_ID, *_CUE_QUERY],
                        "requestBody": {"required": True, "content": {"application/json": {
                            "schema": {"type": "object", "required": ["base_revision", "cues"],
                                       "properties": {"base_revision": {"type": "integer"},
                                                      "cues": {"type": "array", "items": {
                                                          "type": "object", "properties": {
                                                              "speakers": _SPEAKERS,
                                                              "speaker": _NAME}}}}}}}},
                        "responses": {"200": {"description": "the new revision"},
                                      **_error_responses(400, 404, 409, 413)}},
            },
            "/api/sessions/{session_id}/glossary": {
                "get": {"summary": "The session's glossary", "parameters": [_SID],
                        "responses": {"200": _json("Glossary", "the glossary"),
                                      **_error_responses(404)}},
                "put": {"summary": "Replace the glossary every call of the session's jobs carries",
                        "parameters": [_SID], "requestBody": {"required": True, "content": {
                            "application/json": {"schema": {
                                "$ref": "#/components/schemas/Glossary"}}}},
                        "responses": {"200": _json("Glossary", "the glossary as kept"),
                                      **_error_responses(400, 404, 413)}},
            },
            "/api/sessions/{session_id}/jobs": {"post": {
                "summary": "Start a job over the session", "parameters": [_SID],
                "requestBody": _JOB_REQUEST,
                "responses": {"202": _json("Job", "the job"),
                              **_error_responses(400, 404, 413, 422, 429)}}},
        },
        "components": {"schemas": _schemas()},
    }  # fmt: skip


def _schemas() -> dict:
    """Job, Session, Error, Estimate and the rest."""
    nullable_str = {"type": "string", "nullable": True}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Job": {"type": "object", "required": ["id", "status", "progress", "params", "outputs"],
                "properties": {
            "id": {"type": "string"}, "session_id": {"type": "string"},
            "kind": {"type": "string"}, "description": nullable_str,
            "status": {"type": "string", "enum": STATUSES},
            "terminal": {"type": "boolean",
                         "description": "The status is one the job never leaves by itself."},
            "progress": {"type": "object", "properties": {
                "done": {"type": "integer"}, "total": {"type": "integer", "nullable": True},
                "eta_s": {"type": "number", "nullable": True}}},
            "params": {"type": "object"},
            "error": {"type": "object", "nullable": True},
            "created_at": {"type": "string"}, "started_at": nullable_str, "ended_at": nullable_str,
            "outputs": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string", "description": "<stem>.<lang>.<format>"},
                "url": {"type": "string"}, "size": {"type": "integer"},
                "file_id": {"type": "string"},
                "language": {"type": "string", "description": "a code, or <src>-<lang> for a "
                             "bilingual file"},
                "format": {"type": "string", "enum": ["srt", "vtt", "json", "ass", "ssa"]}}}},
            "quality": {"type": "array", "description": "per file and language: the style "
                        "rules' report (style, cues, within_rules, breaks, summary)",
                        "items": {"type": "object", "properties": {
                            "sync": {"type": "object", "description": "a sync job's re-timing",
                                     "properties": {
                                         "offset_s": {"type": "number"},
                                         "drift": {"type": "string", "enum": list(RATES)},
                                         "splits": {"type": "integer"},
                                         "cues_moved": {"type": "integer"}}}}}},
            "usage": {"type": "object"},
            "waiting": {"type": "object", "nullable": True, "description":
                        "Set while the job waits for the engine's quota: reason, seconds, "
                        "until, message."},
            "notes": {"type": "array", "description": "What the outputs lack by design, e.g. "
                      "no_speakers (the local engine tells no speakers)",
                      "items": {"type": "object", "properties": {
                          "code": {"type": "string"}, "message": {"type": "string"}}}},
        }},
        "Estimate": {"type": "object", "description": "the whole job's totals (the sums of "
                     "its parts), and each part priced by who does it", "properties": {
            "cost_usd": {"type": "number"}, "max_cost_usd": {"type": "number"},
            "calls": {"type": "integer"}, "seconds": {"type": "number"},
            "model": {"type": "string", "description": "the parts' models, ' + ' between"},
            "prices": {"type": "object", "nullable": True,
                       "description": "the first paid part's prices (null: all free)"},
            "free": {"type": "boolean"}, "engine": {"type": "string"},
            "translator": {"type": "string", "enum": list(TRANSLATORS), "nullable": True},
            "note": {"type": "string"},
            "parts": {"type": "array", "items": {"$ref": "#/components/schemas/EstimatePart"}}}},
        "EstimatePart": {"type": "object", "description": "the audio, heard by the engine, or "
                         "the text (subtitle files, languages not heard), translated by the "
                         "translator", "properties": {
            "engine": {"type": "string", "enum": [*ENGINES, *TEXT_ENGINES]},
            "what": {"type": "string", "enum": ["audio", "text"]},
            "calls": {"type": "integer"}, "cost_usd": {"type": "number"},
            "max_cost_usd": {"type": "number"}, "model": {"type": "string"},
            "prices": {"type": "object", "nullable": True, "description": "null for the local "
                       "engine; the LLM's: LLM_PRICES (source LLM_PRICES), or 0 when unset "
                       "(source unset)"},
            "free": {"type": "boolean"}}},
        "Usage": {"type": "object", "description": "engines: spend per engine by name "
                  "(gemini, llm, local), each {cost_usd, engine_calls, input_tokens, "
                  "output_tokens}", "properties": {
            "today": {"type": "object"}, "month": {"type": "object"},
            "budget": {"type": "object"}}},
        "JobList": {"type": "object", "properties": {
            "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}},
        "Cues": {"type": "object", "properties": {
            "revision": {"type": "integer"}, "latest": {"type": "integer"},
            "file_id": {"type": "string"}, "language": {"type": "string"},
            "style": {"type": "string"}, "duration_s": {"type": "number"},
            "min_gap_s": {"type": "number", "description": "the style's least gap between cues"},
            "speech": {"type": "array", "description": "the speech regions detected in the "
                       "file, [start, end] seconds in order (empty: none detected)",
                       "items": {"type": "array", "items": {"type": "number"},
                                 "minItems": 2, "maxItems": 2}},
            "cues": {"type": "array", "items": {"type": "object", "properties": {
                "start": {"type": "number"}, "end": {"type": "number"},
                "text": {"type": "string"}, "source_text": {"type": "string"},
                "unsure": {"type": "boolean"},
                "speakers": _SPEAKERS,
                "check": {"type": "array", "items": {"type": "string"}}}}}}},
        "Glossary": {"type": "object", "required": ["glossary"], "properties": {"glossary": {
            "type": "array", "maxItems": 200, "items": {"type": "object", "required": ["term"],
            "properties": {"term": {"type": "string", "maxLength": 100},
                           "translation": {"type": "string", "maxLength": 100},
                           "note": {"type": "string", "maxLength": 200}}}}}},
        "Session": {"type": "object", "required": ["id", "files", "jobs"], "properties": {
            "id": {"type": "string"}, "created_at": {"type": "string"},
            "files": {"type": "array", "items": {"type": "object", "description":
                      "id, name, size, duration_s, has_video, url, kind (media or subtitles); "
                      "a subtitle file also has format and cues"}},
            "glossary": {"type": "array", "items": {"type": "object"}},
            "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}},
    }  # fmt: skip
