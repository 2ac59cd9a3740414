"""A local stand-in for the Gemini REST API, for driving the real google-genai client.

``genai.Client(api_key="any", http_options=types.HttpOptions(base_url=stub.url,
api_version="v1beta"))``. What google-genai 3.4.0 does (read from its source, then exercised):

- URL ``{base_url}/{api_version}/models/{model}:generateContent``; api_version defaults to
  ``v1``. A custom base_url still needs an api_key (else the client posts to the bare base_url);
  the key travels in ``x-goog-api-key``. Async calls use httpx2 (aiohttp is not installed).
- Top-level JSON keys are camelCase, nested part keys snake_case (``inlineData.mime_type``,
  ``fileData.file_uri``), bytes URL-safe base64. The stub accepts either spelling.
- NO RETRIES BY DEFAULT: without ``HttpOptions(retry_options=...)`` every call is one attempt.
  ``HttpRetryOptions()`` gives 5 attempts, backoff 1 s doubling (jitter 1, cap 60 s) on
  408/429/500/502/503/504 and httpx timeouts/connect errors; it ignores RetryInfo.
- HTTP errors raise ``errors.ClientError`` (4xx) / ``errors.ServerError`` (5xx) with ``.code``,
  ``.status``, ``.message``; ``.details`` is the whole JSON body, so a 429's RetryInfo is at
  ``err.details["error"]["details"][i]["retryDelay"]`` ("1.5s"); see ``retry_delay()``.
  Transport failures are NOT APIErrors: ``HttpOptions(timeout=ms)`` raises
  ``httpx2.ReadTimeout``, a dropped connection ``httpx2.RemoteProtocolError``.
- Files: ``POST upload/{v}/files`` (``X-Goog-Upload-Protocol: resumable``, ``-Command: start``,
  body ``{"file": {...}}``) must return an absolute ``X-Goog-Upload-URL``; 8 MB chunks are then
  POSTed there with ``-Command: upload[, finalize]`` and ``-Offset`` but no API key, and each
  reply needs ``X-Goog-Upload-Status: active|final``; the final body is ``{"file": File}``.
  A path upload guesses ``audio/x-wav`` for .wav, so pass ``mime_type`` explicitly.
- Cancelling a ``client.aio`` call (or a client timeout) closes the connection: the stub
  notices within ~50 ms, logs ``client_disconnected`` and abandons the answer.
"""

import base64
import io
import json
import math
import random
import re
import struct
import sys
import time
import wave
from urllib.parse import parse_qs, urlsplit

from tests.cue_answers import CUE_FAULTS, LANG_RE, translated
from tests.stub_server import StubHandler, StubServer, serve_until_stopped, stub_arguments

GEN_RE = re.compile(r"^/([^/]+)/models/([^/:]+):generateContent$")
FILE_RE = re.compile(r"^/([^/]+)/files/([^/:]+)$")
FILE_NAME_RE = re.compile(r"^files/[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
"""A name the client may choose: an id of up to 40 lowercase letters, digits or inner dashes."""
SEGMENT_SECONDS = 5.0
"""How long each answered segment is, unless ``segment_seconds`` says otherwise."""
_DAILY = "You exceeded your current quota, please check your plan and billing details. "
ERRORS = {  # fault name -> (HTTP status, google.rpc status, message as the real API words it)
    "400": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "403": (403, "PERMISSION_DENIED", "The caller does not have permission"),
    "404": (404, "NOT_FOUND", "Requested entity was not found."),
    "409": (409, "ALREADY_EXISTS", "Requested entity already exists"),
    "429": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "quota": (429, "RESOURCE_EXHAUSTED", _DAILY + "Limit: 250 requests per day per model."),
    "500": (500, "INTERNAL", "An internal error has occurred. Please retry or report it."),
    "503": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "504": (504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}
RPC = "type.googleapis.com/google.rpc."
QUOTA_ID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
FAULTS = set(ERRORS) | CUE_FAULTS | {"malformed", "empty", "out_of_range", "disconnect", "ok"}


def error_body(code: int, status: str, message: str, details: list | None = None) -> dict:
    """Return a Google RPC error body as the Gemini API sends it."""
    err = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return {"error": err}


def retry_delay(exc: Exception) -> float | None:
    """Return the RetryInfo delay in seconds carried by a google-genai APIError, if any."""
    body = getattr(exc, "details", None)
    items = body.get("error", {}).get("details", []) if isinstance(body, dict) else []
    for item in items:
        if item.get("@type") == RPC + "RetryInfo":
            return float(str(item.get("retryDelay", "0s")).rstrip("s") or 0)
    return None


def audio_seconds(data: bytes) -> float:
    """Return the duration of WAV bytes; other formats are estimated at 16 kHz s16 mono."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            return w.getnframes() / float(w.getframerate())
    except (wave.Error, EOFError):
        pass
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) >= 44:
        # stdlib wave rejects float and WAVE_FORMAT_EXTENSIBLE; the byte rate is still there.
        rate = struct.unpack("<I", data[28:32])[0]
        return (len(data) - 44) / rate if rate else 0.0
    return len(data) / 32000.0


def _b64decode(text: str) -> bytes:
    # The client sends URL-safe base64; other callers may send the standard alphabet.
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _as_fault(fault) -> tuple[str, dict]:
    """Normalise "500", ("429", {...}) or ["429", {...}] to a known (name, params) pair."""
    name, params = (fault, {}) if isinstance(fault, str) else (fault[0], (list(fault) + [{}])[1])
    if str(name) not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")
    return str(name), dict(params or {})


def _get(d: dict, camel: str, snake: str):
    return d.get(camel, d.get(snake))


class TimedAnswers:
    """Answers for a known clip: each chunk it is sent is found in the clip (16 kHz mono
    16-bit WAV, `clip` a path), and the sentences whose middle lies in it are answered with
    their true times (`sentences`: absolute start, end, text) perturbed as an audio model's
    are: the chunk's times shifted by up to `max_shift_s` and stretched by up to
    `max_stretch`, drawn per chunk from `seed`, then rounded to `round_s`."""

    def __init__(self, clip: str, sentences: list[dict], max_shift_s: float = 1.0,
                 max_stretch: float = 0.03, round_s: float = 0.5, seed: int = 1):  # fmt: skip
        with wave.open(clip) as w:
            self.rate, self.pcm = w.getframerate(), w.readframes(w.getnframes())
        self.sentences = sentences
        self.max_shift_s, self.max_stretch = float(max_shift_s), float(max_stretch)
        self.round_s, self.seed = float(round_s), int(seed)

    def _offset(self, pcm: bytes) -> float | None:
        """Where in the clip a chunk's samples start (seconds), None if not in it."""
        probe = pcm[: 2 * self.rate // 10]
        at = self.pcm.find(probe)
        while at > 0 and at % 2:
            at = self.pcm.find(probe, at + 1)
        return None if at < 0 or not probe else at / 2 / self.rate

    def segments(self, audio: bytes) -> list[dict]:
        """The answer's segments for one chunk's WAV bytes (none for audio not in the clip)."""
        with wave.open(io.BytesIO(audio)) as w:
            pcm, duration = w.readframes(w.getnframes()), w.getnframes() / w.getframerate()
        offset = self._offset(pcm)
        if offset is None:
            return []
        rng = random.Random(self.seed * 100003 + round(offset * 1000))
        shift = rng.uniform(-self.max_shift_s, self.max_shift_s)
        stretch = 1 + rng.uniform(-self.max_stretch, self.max_stretch)

        def answered(t: float) -> float:
            moved = (t - offset) * stretch + shift
            rounded = round(moved / self.round_s) * self.round_s if self.round_s else moved
            return round(min(max(rounded, 0.0), duration), 3)

        return [{"start": answered(s["start"]), "end": answered(s["end"]),
                 "source_text": s["text"]} for s in self.sentences
                if offset <= (s["start"] + s["end"]) / 2 < offset + duration]  # fmt: skip


class GeminiStub(StubServer):
    """In-process HTTP server speaking the Gemini generateContent and Files REST protocol.

    Knobs (thread-safe to set at any time): ``api_key`` (None accepts any non-empty key),
    ``latency`` seconds before every answer, ``segment_seconds`` the most each answered segment
    lasts (the audio is cut into equal segments), ``faults`` one-shot (name, params) queue
    taking precedence over ``always`` (a name or (name, params) applied to every call),
    ``script`` source phrases used one per segment; ``timeline`` (see TimedAnswers) answers a
    known clip's sentences at their true times, perturbed as an audio model's are; ``speakers``
    one list of labels per audio call, in order, given to that call's segments in turn (none: no
    ``speaker`` field; the analysis answers its speakers from the first list). Fault names: see
    FAULTS; params ``retry_delay`` (429), ``delay`` (extra seconds), ``finish_reason``. ``calls``
    is the log, ``files`` maps "files/<id>" to {"json": File JSON, "data": bytes}. Each call
    records the tokens it billed (``tokens_in``, ``tokens_out``); an answer longer than the
    request's maxOutputTokens is cut there, as Gemini does.
    """

    as_fault = staticmethod(_as_fault)

    def __init__(self, api_key: str | None = None, port: int = 0, host: str = "127.0.0.1"):
        super().__init__(_Handler, port, host)
        self.api_key = api_key
        self.latency = 0.0
        self.segment_seconds = SEGMENT_SECONDS
        self.always: str | tuple | None = None
        self.script: list[str] = []
        self.speakers: list[list[str]] = []
        self.timeline: TimedAnswers | None = None
        self.files: dict[str, dict] = {}
        self._uploads: dict[str, dict] = {}

    def reset(self) -> None:
        """Forget calls, faults, script, latency, always, stored files and pending uploads."""
        with self._lock:
            for bucket in (self.calls, self.faults, self.script, self.speakers, self.files,
                           self._uploads):  # fmt: skip
                bucket.clear()
            self.latency, self.always, self.timeline = 0.0, None, None
            self.segment_seconds = SEGMENT_SECONDS

    def configure(self, cfg: dict) -> None:
        """Apply a /_stub/config body: latency, always, api_key, script and speakers (replaced),
        faults."""
        faults = [_as_fault(f) for f in cfg.get("faults", [])]
        if cfg.get("always"):
            _as_fault(cfg["always"])  # reject typos now rather than on the next call
        with self._lock:
            for key in ("latency", "always", "api_key", "segment_seconds"):
                if key in cfg:
                    setattr(self, key, cfg[key])
            if "script" in cfg:
                self.script[:] = list(cfg["script"])
            if "speakers" in cfg:
                self.speakers[:] = [list(labels) for labels in cfg["speakers"]]
            if "timeline" in cfg:
                self.timeline = TimedAnswers(**cfg["timeline"]) if cfg["timeline"] else None
            self.faults.extend(faults)

    def _segments(self, duration: float, call_no: int) -> list[dict]:
        n = math.ceil(duration / self.segment_seconds - 1e-9) if duration > 0 else 0
        with self._lock:
            # Take this call's phrases in one go so concurrent calls do not interleave.
            phrases, self.script[:] = self.script[:n], self.script[n:]
            labels = self.speakers.pop(0) if self.speakers and n else []
        phrases += [f"Segment {k + 1} of chunk {call_no}." for k in range(len(phrases), n)]
        bounds = [round(duration * k / n, 3) for k in range(n + 1)]
        found = [
            {"start": a, "end": b, "source_text": t}
            for a, b, t in zip(bounds, bounds[1:], phrases, strict=False)
        ]
        for k, segment in enumerate(found if labels else ()):
            segment["speaker"] = labels[k % len(labels)]
        return found


class _Handler(StubHandler):
    """One connection to the stand-in: generateContent, the Files API and /_stub/ control."""

    content_type = "application/json; charset=UTF-8"
    _audio: bytes = b""  # the audio of the request being answered

    @staticmethod
    def _bad_request(message: str) -> dict:
        """A 400's body as Google words it."""
        return error_body(400, "INVALID_ARGUMENT", message)

    def _error(self, name: str, details: list | None = None) -> bool:
        code, status, message = ERRORS[name]
        return self._send(code, error_body(code, status, message, details))

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _auth_error(self) -> int | None:
        """Answer an auth failure the way the real API does; return its status, None if ok."""
        query_key = parse_qs(urlsplit(self.path).query).get("key", [""])[0]
        key = self.headers.get("x-goog-api-key") or query_key
        if not key:
            msg = "Method doesn't allow unregistered callers. Please use API Key."
            self._send(403, error_body(403, "PERMISSION_DENIED", msg))
            return 403
        if self.stub.api_key and key != self.stub.api_key:
            info = {"@type": RPC + "ErrorInfo", "reason": "API_KEY_INVALID"}
            msg = "API key not valid. Please pass a valid API key."
            self._send(400, error_body(400, "INVALID_ARGUMENT", msg, [info]))
            return 400
        return None

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if self._control_get(path):
            return
        if path == "/_stub/files":
            return self._send(200, {"files": sorted(self.stub.files)})
        m = FILE_RE.match(path)
        listing = re.match(r"^/[^/]+/files$", path)
        if not (m or listing):
            self._error("404")
        elif self._auth_error() is None and listing:
            self._send(200, {"files": [f["json"] for f in list(self.stub.files.values())]})
        elif m:
            info = self.stub.files.get(f"files/{m.group(2)}")
            self._send(200, info["json"]) if info else self._error("404")

    def do_DELETE(self) -> None:
        m = FILE_RE.match(urlsplit(self.path).path)
        if not m:
            self._error("404")
        elif self._auth_error() is None:
            with self.stub._lock:
                gone = self.stub.files.pop(f"files/{m.group(2)}", None)
            self._send(200, {}) if gone else self._error("404")

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        if self._control_post(parts.path, body):
            return
        m = re.match(r"^/upload/([^/]+)/files$", parts.path)
        if m and "upload_id" in parse_qs(parts.query):
            return self._upload_chunk(parse_qs(parts.query)["upload_id"][0], body, m.group(1))
        if m:
            return self._upload_start(m.group(1), body)
        m = GEN_RE.match(parts.path)
        if m:
            return self._generate(m.group(1), m.group(2), body)
        self._error("404")

    def _upload_start(self, version: str, body: bytes) -> None:
        if self._auth_error() is not None:
            return
        if self.headers.get("X-Goog-Upload-Command", "").lower() != "start":
            return self._error("400")
        meta = json.loads(body or b"{}").get("file", {})
        if meta.get("name") and not FILE_NAME_RE.match(meta["name"]):
            return self._error("400")
        if meta.get("name") in self.stub.files:
            return self._error("409")
        upload_id = f"up{next(self.stub._ids)}"
        with self.stub._lock:
            self.stub._uploads[upload_id] = {
                "meta": meta,
                "data": bytearray(),
                "mime": self.headers.get("X-Goog-Upload-Header-Content-Type")
                or _get(meta, "mimeType", "mime_type"),
            }
        host = self.headers.get("Host") or urlsplit(self.stub.url).netloc
        url = (
            f"http://{host}/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"
        )
        self._send(200, None, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"})

    def _upload_chunk(self, upload_id: str, body: bytes, version: str) -> None:
        # Chunk requests carry no API key: the upload id in the URL is the credential.
        command = self.headers.get("X-Goog-Upload-Command", "").replace(" ", "").split(",")
        offset = int(self.headers.get("X-Goog-Upload-Offset") or 0)
        with self.stub._lock:
            up = self.stub._uploads.get(upload_id)
            ok = up is not None and offset == len(up["data"])
            if ok:
                up["data"] += body
            if ok and "finalize" in command:
                del self.stub._uploads[upload_id]
                file_json = self._store(up, version)
        if not ok:
            return self._error("400")
        if "finalize" not in command:
            return self._send(200, None, {"X-Goog-Upload-Status": "active"})
        self._send(200, {"file": file_json}, {"X-Goog-Upload-Status": "final"})

    def _store(self, up: dict, version: str) -> dict:
        meta = up["meta"]
        name = meta.get("name") or f"files/stub{next(self.stub._ids)}"
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        file_json = {
            "name": name,
            "mimeType": up["mime"] or "application/octet-stream",
            "sizeBytes": str(len(up["data"])),
            "createTime": now,
            "updateTime": now,
            "uri": f"http://{self.headers.get('Host')}/{version}/{name}",
            "state": "ACTIVE",
            "source": "UPLOADED",
        }
        if _get(meta, "displayName", "display_name"):
            file_json["displayName"] = _get(meta, "displayName", "display_name")
        self.stub.files[name] = {"json": file_json, "data": bytes(up["data"])}
        return file_json

    def _generate(self, version: str, model: str, raw: bytes) -> None:
        call = dict.fromkeys(("finished", "status", "fault"))
        call.update(arrived=time.time(), model=model, api_version=version, audio_seconds=0.0)
        call.update(had_context=False, lang="xx", client_disconnected=False, tokens_in=0,
                    tokens_out=0)  # fmt: skip
        with self._answering(call) as call_no:
            if self._auth_error() is None:
                self._answer(call, call_no, raw)

    @staticmethod
    def _cues_asked(text: str) -> list[dict] | None:
        """The cues of a text translation call: the part that is a JSON array of
        {index, text}."""
        try:
            found = json.loads(text)
        except ValueError:
            return None
        if isinstance(found, list) and all(isinstance(c, dict) and "index" in c for c in found):
            return found
        return None

    def _read_request(self, raw: bytes) -> tuple[str, float]:
        """Return the request's text and audio seconds; KeyError names a missing file."""
        req = json.loads(raw)
        texts, audio = [], 0.0
        sys_parts = (req.get("systemInstruction") or {}).get("parts", [])
        for part in sys_parts + [p for c in req.get("contents", []) for p in c.get("parts", [])]:
            texts.append(part.get("text", ""))
            if inline := _get(part, "inlineData", "inline_data"):
                self._audio = _b64decode(inline.get("data", ""))
                audio += audio_seconds(self._audio)
            if file_data := _get(part, "fileData", "file_data"):
                uri = _get(file_data, "fileUri", "file_uri") or ""
                stored = self.stub.files.get("files/" + uri.rstrip("/").rsplit("/", 1)[-1])
                if stored is None:
                    raise KeyError(uri)
                self._audio = stored["data"]
                audio += audio_seconds(stored["data"])
        return "\n".join(texts), audio

    def _answer(self, call: dict, call_no: int, raw: bytes) -> None:
        """Answer one authorised generateContent call, or hang up as a fault asks."""
        stub = self.stub
        try:
            text, audio = self._read_request(raw)
        except ValueError:
            return self._error("400")
        except KeyError as e:
            msg = f"You do not have permission to access the File {e.args[0]} or it may not exist."
            return self._send(403, error_body(403, "PERMISSION_DENIED", msg))
        lang = m.group(1) if (m := LANG_RE.search(text)) else "xx"
        call.update(audio_seconds=round(audio, 3), lang=lang, prompt=text)
        asked = next((c for part in text.split("\n") if (c := self._cues_asked(part))), None)
        if asked is not None:
            call.update(kind="text", cue_indexes=[c["index"] for c in asked])
        call["had_context"] = "Previous chunk text:" in text
        told = re.search(r"Speakers heard in the previous clip: ([^;\n]*);", text)
        call["speakers_told"] = told.group(1).split(", ") if told else []
        try:
            name, params = stub._next_fault()
        except (ValueError, TypeError, IndexError) as e:  # a malformed entry in stub.faults
            return self._send(400, error_body(400, "INVALID_ARGUMENT", f"gemini_stub: {e}"))
        call["fault"] = None if name == "ok" else name
        if not self._wait_to_answer(call, float(stub.latency or 0) + float(params.get("delay", 0))):
            return
        if name == "disconnect":
            self.close_connection = True
            return
        if name in ERRORS:
            delay = f"{float(params.get('retry_delay', 1.0)):g}s"
            details = {
                "429": [{"@type": RPC + "RetryInfo", "retryDelay": delay}],
                "quota": [{"@type": RPC + "QuotaFailure", "violations": [{"quotaId": QUOTA_ID}]}],
            }.get(name)
            sent = self._error(name, details)
        else:
            segs = (
                []
                if asked is not None
                else [
                    dict(s, text=f"[{lang}] {s['source_text']}")
                    for s in (
                        stub.timeline.segments(self._audio)
                        if stub.timeline
                        else stub._segments(audio, call_no)
                    )
                ]
            )
            if name == "empty":
                segs = []
            elif name == "out_of_range":
                # Widen every segment past its neighbours and reverse: overlapping, unsorted,
                # starting before 0 and ending after the audio.
                segs = [dict(s, start=s["start"] - 0.75, end=s["end"] + 0.75) for s in segs][::-1]
            answer = json.dumps({"segments": segs}, ensure_ascii=False)
            if asked is not None:
                answer = json.dumps({"cues": translated(asked, lang, name)},
                                    ensure_ascii=False)  # fmt: skip
            elif b'"summary"' in raw:  # the analyze job's schema asks for a whole-file analysis
                call["kind"] = "analysis"
                analysis = {
                    "language": "en", "summary": f"A recording of {audio:.1f} seconds.",
                    "topics": ["testing"] if segs else [],
                    "moments": [{"time": round(audio / 2, 3), "description": "the middle"}],
                }  # fmt: skip
                if who := [s["speaker"] for s in segs if s.get("speaker")]:
                    analysis["speakers"] = [
                        {"speaker": name, "seconds": sum(s["end"] - s["start"] for s in segs
                                                         if s.get("speaker") == name)}
                        for name in dict.fromkeys(who)
                    ]  # fmt: skip
                    analysis["moments"][0]["speakers"] = who[len(who) // 2 : len(who) // 2 + 1]
                answer = json.dumps(analysis)
            if name == "malformed":
                answer = answer[: max(12, len(answer) // 2)]  # cut off mid-JSON
            # Gemini bills audio at 32 tokens per second; text at roughly 4 characters a token.
            prompt, out = int(32 * audio) + len(text) // 4, max(1, len(answer) // 4)
            finish = params.get("finish_reason", "STOP")
            limit = _get(json.loads(raw).get("generationConfig") or {}, "maxOutputTokens",
                         "max_output_tokens")  # fmt: skip
            if limit and out > int(limit):  # as Gemini does: cut off at the limit
                out, answer, finish = int(limit), answer[: int(limit) * 4], "MAX_TOKENS"
            call.update(tokens_in=prompt, tokens_out=out, max_output_tokens=limit)
            body = {
                "candidates": [
                    {
                        "content": {"parts": [{"text": answer}], "role": "model"},
                        "finishReason": finish,
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": out,
                    "totalTokenCount": prompt + out,
                },
                "modelVersion": call["model"],
                "responseId": f"stub-{call_no}",
            }
            sent = self._send(200, body)
        call["client_disconnected"] = not sent


def main(argv: list[str] | None = None) -> None:
    """Run the stub as a process; first stdout line is GEMINI_STUB_URL=..."""
    args = stub_arguments(__doc__.splitlines()[0]).parse_args(argv)
    stub = GeminiStub(api_key=args.api_key, port=args.port, host=args.host)
    stub.latency = args.latency
    serve_until_stopped(stub, f"GEMINI_STUB_URL={stub.url}")


if __name__ == "__main__":
    main(sys.argv[1:])
