"""The paid engine: Google Gemini through google-genai, one structured call per chunk (and one
per file for the analyze job). What is said and how answers are read: gemini_protocol.py
(and cue_text.py for the text translation of cues, shared with the LLM).

Retries are ours, not the client's: google-genai 3.4 retries nothing by default, and its
optional retries ignore the wait the server asks for. Each attempt is a request we may pay for,
so they are bounded (MAX_ATTEMPTS), and each one's usage is billed to the job as it ends.

An answer is validated here (JSON, types, times clamped to the chunk, ordered, non-overlapping,
empty segments dropped) so that garbage is retried before the job fails. An empty answer is
legitimate for a quiet chunk; for a loud one (above SILENCE_DBFS) it is asked again once, and a
second empty answer is believed."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import random
import uuid
from collections.abc import Callable

import httpx2
from google import genai
from google.genai import errors, types

from ...config import Config
from ...connection import connect
from ...errors import JobFailed
from ...media.audio import AudioSegment, to_wav_bytes
from ...spend import pricing
from ...spend.quota import Quota, gemini_quota
from ...spend.usage import Usage
from . import Calls, ChunkResult, Engine, Translated, UploadLog
from .cue_text import CUES_INSTRUCTION, CUES_SCHEMA, in_rounds, parse_cues
from .gemini_client import FILE_TIMEOUT_S, REQUEST_TIMEOUT_S, gone_anyway, log, make_client
from .gemini_protocol import (  # fmt: skip
    ANALYSIS_SCHEMA,
    RESPONSE_SCHEMA,
    SYSTEM_INSTRUCTION,
    _details,
    analysis_prompt,
    answered_count,
    parse_analysis,
    parse_segments,
    prompt,
    quota_failure,
    retry_delay,
)

# A line per request adds nothing to our event lines, and upload URLs carry a credential.
logging.getLogger("httpx2").setLevel(logging.WARNING)


MAX_ATTEMPTS = 5
"""Requests per chunk at most (the first and four retries)."""


MAX_REASKS = 3
"""Times the cues an answer left out (or got wrong) are asked again, before the job fails."""


BACKOFF_BASE_S, BACKOFF_CAP_S = 1.0, 30.0
"""Exponential backoff with full jitter: a wait drawn from [0, min(cap, base * 2^n)]."""


SILENCE_DBFS = -45.0
"""Chunks quieter than this may rightly have no speech: an empty answer is not retried."""


RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt."""


class _Retry(Exception):
    """An attempt failed in a way worth repeating: `reason` for the log, `delay` if stated."""

    def __init__(self, reason: str, delay: float | None = None, bad_answer: bool = False):
        super().__init__(reason)
        self.reason, self.delay, self.bad_answer = reason, delay, bad_answer


class GeminiEngine(Engine):
    """Gemini over google-genai's async client: cancelling a task aborts its request."""

    name = "gemini"
    tells_speakers = True

    def __init__(self, config: Config):
        self.config, self.model = config, config.gemini_model
        self.concurrency = config.gemini_concurrency
        self.prices = pricing.prices_for(self.model, config.gemini_prices)
        if not self.prices.known:  # the cost is an estimate anyway; say which prices it uses
            log.warning("engine=gemini event=no_price model=%s using=%s", self.model,
                        pricing.FALLBACK_PRICE_MODEL)  # fmt: skip
        self._client: genai.Client | None = None
        self._quota: Quota | None = None

    @property
    def quota(self) -> Quota:
        """The deployment's shared rate limit (its own Redis connection, made in the horse)."""
        if self._quota is None:
            self._quota = gemini_quota(self.config, connect(self.config))
        return self._quota

    @property
    def client(self) -> genai.Client:
        """The process's one client, made on first use (after aclose, a fresh one)."""
        if self._client is None:
            self._client = make_client(self.config, REQUEST_TIMEOUT_S)
        return self._client

    def request_config(self, schema: dict, max_output: int,
                       system: str | None) -> types.GenerateContentConfig:  # fmt: skip
        """Structured JSON, deterministic, at most `max_output` tokens (the reservation's bound),
        and no paid thinking where the model allows it."""
        flash = self.model.removeprefix("models/").startswith("gemini-2.5-flash")
        return types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=schema,
            system_instruction=system,
            temperature=0,
            max_output_tokens=max_output,
            thinking_config=types.ThinkingConfig(thinking_budget=0) if flash else None,
            # No tools, so nothing to call automatically (and no log line per request about it).
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )

    async def transcribe(self, audio: AudioSegment, *, target_language: str, context: str,
                         calls: Calls, glossary: list[dict] = (),
                         speakers: list[str] = ()) -> ChunkResult:  # fmt: skip
        """One chunk: retried on 429/5xx/timeouts/garbage; JobFailed when it cannot be done.

        An empty answer is legitimate for a quiet chunk; for a loud one (above SILENCE_DBFS) it
        is asked again once, and a second empty answer is believed.
        """
        duration, wav = len(audio) / 1000, to_wav_bytes(audio)
        loud, asked_again, unsure = audio.dBFS > SILENCE_DBFS, False, False

        def read(text: str | None) -> list[dict] | None:
            nonlocal asked_again, unsure
            segments = parse_segments(text, duration)
            if segments is None:  # garbled: asked again, and its cues are worth a look
                unsure = True
                return None
            if segments == [] and loud and not asked_again:
                asked_again = unsure = True
                return None
            unsure = unsure or len(segments) != answered_count(text)  # some were dropped
            return segments

        upload = None
        try:
            if len(wav) <= self.config.gemini_inline_limit_bytes:
                part = types.Part.from_bytes(data=wav, mime_type="audio/wav")
            else:
                upload = self._name_upload(calls.uploads)
                uploaded = await self._upload(io.BytesIO(wav), upload)
                part = types.Part.from_uri(file_uri=uploaded.uri, mime_type="audio/wav")
            contents = [prompt(target_language, duration, context, list(glossary),
                               list(speakers)), part]  # fmt: skip
            segments = await self._call(contents, RESPONSE_SCHEMA, read, calls, duration,
                                        pricing.max_output_tokens(duration),
                                        SYSTEM_INSTRUCTION)  # fmt: skip
        finally:
            await self._forget(upload, calls.uploads)
        return ChunkResult(segments=segments, unsure=unsure)

    async def analyze(self, wav_path, *, duration: float, calls: Calls,
                      glossary: list[dict] = ()) -> dict:  # fmt: skip
        """A whole file through the Files API: language, summary, topics, notable moments."""
        calls.before_call()  # the upload is free, but nothing starts for a cancelled job
        upload = self._name_upload(calls.uploads)
        try:
            uploaded = await self._upload(os.fspath(wav_path), upload)
            contents = [
                analysis_prompt(duration, list(glossary)),
                types.Part.from_uri(file_uri=uploaded.uri, mime_type="audio/wav"),
            ]
            return await self._call(contents, ANALYSIS_SCHEMA,
                                    lambda text: parse_analysis(text, duration), calls,
                                    duration, pricing.ANALYSIS_OUTPUT_TOKENS, None)  # fmt: skip
        finally:
            await self._forget(upload, calls.uploads)

    async def translate_cues(self, cues: list[tuple[int, str]], *, target_language: str,
                             context: list[tuple[int, str]], calls: Calls,
                             glossary: list[dict] = ()) -> Translated:  # fmt: skip
        """Cues as text in one call: a JSON array of {index, text}, the cues before them as
        context; what an answer leaves out is asked again (cue_text.in_rounds, MAX_REASKS
        times), then the job fails with gemini_bad_answer. Returns the translations and the
        indexes that had to be asked again."""

        async def ask(contents: list[str], todo: list[tuple[int, str]]) -> dict[int, str]:
            wanted = dict(todo)
            return await self._call(contents, CUES_SCHEMA,
                                    lambda text: parse_cues(text, wanted) or None, calls, 0.0,
                                    pricing.text_output_tokens(list(wanted.values())),
                                    CUES_INSTRUCTION)  # fmt: skip

        return await in_rounds(cues, context, list(glossary), target_language, ask, MAX_REASKS,
                               "gemini")  # fmt: skip

    async def _call(self, contents: list, schema: dict, read: Callable, calls: Calls,
                    audio_s: float, max_output: int, system: str | None):  # fmt: skip
        """Up to MAX_ATTEMPTS requests until `read` accepts an answer; JobFailed otherwise.

        Before each attempt: the cancel flag, a reservation of the most the request can cost
        (its audio and text at their bounds, `max_output` tokens out) against the job's cap and
        the budgets, and the deployment's rate limit. Each attempt is billed when it ends, and
        its reservation settled to that (failed ones too: they may be paid).
        """
        texts = [c for c in contents if isinstance(c, str)]
        bound_in = pricing.input_bound(audio_s, pricing.request_text(*texts, system or "", schema))
        most = self.prices.micros(bound_in, max_output)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            calls.before_call()  # the cancel flag, right before each (paid) request
            hold = await calls.reserve(most)
            spent = Usage(engine_calls=1)  # no answer: nothing billed, the reservation released
            try:
                await self.quota.acquire(bound_in, calls.waiting)
                calls.before_call()
                response = await self.client.aio.models.generate_content(
                    model=self.model, contents=contents,
                    config=self.request_config(schema, max_output, system),
                )  # fmt: skip
                spent = self._usage_of(response, bound_in, max_output)  # garbage is paid too
                answer = read(response.text)
                if answer is not None:
                    return answer
                failure = _Retry("an unreadable or empty answer", bad_answer=True)
            except Exception as exc:  # sorted by _judge; CancelledError is no Exception
                failure = self._judge(exc)
            finally:
                calls.billed(spent, hold)
            if attempt == MAX_ATTEMPTS:
                raise self._gave_up(failure)
            wait = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))
            if failure.delay is not None:  # the server's word, for every worker on this key
                self.quota.pause(failure.delay + random.uniform(0, min(BACKOFF_BASE_S,
                                                                       failure.delay)))  # fmt: skip
                wait = 0.0  # the next attempt's quota wait covers it, and says so
            log.warning("engine=gemini event=retry attempt=%d/%d reason=%r wait_s=%.2f",
                        attempt, MAX_ATTEMPTS, failure.reason, wait)  # fmt: skip
            await asyncio.sleep(wait)  # a cancel ends the chunk here, before any request
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _usage_of(self, response: types.GenerateContentResponse, bound_in: int,
                  max_output: int) -> Usage:  # fmt: skip
        """One answered request: its tokens (thinking included) and their cost, rounded up
        to a micro-dollar; an answer without usage counts at its bounds."""
        usage = response.usage_metadata
        if usage is None or usage.prompt_token_count is None:
            tokens_in, tokens_out = bound_in, max_output
        else:
            tokens_in = usage.prompt_token_count or 0
            tokens_out = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        return Usage(1, tokens_in, tokens_out, self.prices.micros(tokens_in, tokens_out) / 1e6)

    def _judge(self, exc: Exception) -> _Retry:
        """A failed request: a _Retry if another attempt may help; JobFailed if none can."""
        if isinstance(exc, errors.APIError):
            status = f"HTTP {exc.code} {exc.status or ''}".strip()
            if exc.code == 429:
                delay = retry_delay(exc)
                if failure := quota_failure(exc, delay, self.model):
                    raise failure from None
                return _Retry(status, delay)
            if exc.code in RETRYABLE_STATUS:
                return _Retry(status)
            reasons = {str(d.get("reason", "")) for d in _details(exc)}
            if exc.code in (401, 403) or "API_KEY_INVALID" in reasons:
                raise JobFailed("The Gemini API refused the request: check GEMINI_API_KEY.",
                                code="gemini_auth") from None  # fmt: skip
            if exc.code == 404:
                raise JobFailed(f"The Gemini API does not know the model {self.model!r}: "
                                "check GEMINI_MODEL.", code="gemini_model") from None  # fmt: skip
            # The API's own words help here; the key never appears in them, and must not start.
            said, key = exc.message or "no reason given", self.config.gemini_api_key
            said = said.replace(key, "***") if key else said
            raise JobFailed(f"The Gemini API rejected the request ({status}): {said[:200]}",
                            code="gemini_rejected") from None  # fmt: skip
        if isinstance(exc, httpx2.TimeoutException | TimeoutError):
            return _Retry("a timeout")
        if isinstance(exc, httpx2.TransportError):
            return _Retry(f"a network error ({type(exc).__name__})")
        raise exc  # not the API's doing but a bug: it reaches RQ with its traceback

    @staticmethod
    def _gave_up(failure: _Retry) -> JobFailed:
        """The error that fails the job after MAX_ATTEMPTS."""
        if failure.bad_answer:
            return JobFailed(f"Gemini gave no usable answer for a chunk in {MAX_ATTEMPTS} tries; "
                             "retry the job later.", code="gemini_bad_answer")  # fmt: skip
        return JobFailed(f"The Gemini API kept failing ({failure.reason}) in {MAX_ATTEMPTS} "
                         "attempts; retry the job later.", code="gemini_unavailable")  # fmt: skip

    @staticmethod
    def _name_upload(uploads: UploadLog) -> str:
        """A name for the next upload, recorded in `uploads` before a byte is sent: whenever
        the upload is cut short, whoever cleans up knows what to delete."""
        name = f"files/{uuid.uuid4().hex}"  # the API allows ids of 40 lowercase alphanumerics
        uploads.add(name)
        return name

    async def _upload(self, source, name: str) -> types.File:
        """Send audio (bytes stream or path) through the Files API; wait until it is usable."""
        files = self.client.aio.files
        uploaded = await files.upload(file=source, config={"mime_type": "audio/wav", "name": name})
        for _ in range(int(FILE_TIMEOUT_S * 2)):
            if uploaded.state != types.FileState.PROCESSING:
                break
            await asyncio.sleep(0.5)
            uploaded = await files.get(name=uploaded.name)
        return uploaded

    async def _forget(self, name: str | None, uploads: UploadLog) -> None:
        """Delete an uploaded file, if there was one, and strike it from the job's list."""
        if name is not None and await self._delete(name):
            uploads.discard(name)

    async def _delete(self, name: str) -> bool:
        """Delete an uploaded file, best effort; shielded so that a cancel does not cut it."""
        deletion = asyncio.ensure_future(self.client.aio.files.delete(name=name))
        try:
            await asyncio.wait_for(asyncio.shield(deletion), REQUEST_TIMEOUT_S / 10)
            return True
        except (errors.APIError, httpx2.HTTPError, TimeoutError) as exc:
            return gone_anyway(name, exc)

    async def aclose(self) -> None:
        """Close the client's connections; a later job in this process makes a new client."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aio.aclose()
            client.close()
