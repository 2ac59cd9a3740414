"""The text engine: any OpenAI-compatible chat-completions server (Ollama, vLLM, LM Studio,
OpenAI, DeepSeek...) through the official `openai` client. It translates cues only (subtitle
files, the languages after the first, the local engine's transcripts); it hears no audio. What
is said and how answers are read: llm_protocol.py and cue_text.py.

Retries are ours, not the client's (llm_client makes it with max_retries=0): each attempt is a
request that may be paid, so before each one the job's cancel flag is read, the most it may
cost is reserved against the job's cap and the budgets, and the shared rate limit is asked;
after each one, what it used is billed (an answer without usage at its bounds). A wait the
server asks for (Retry-After) goes through the shared quota, so every worker on this server
and model waits. Cancelling the task closes the HTTP connection: the server sees the hang-up.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import openai
from openai import AsyncOpenAI

from ...config import Config
from ...connection import connect
from ...errors import JobFailed
from ...spend import pricing
from ...spend.quota import Quota, llm_quota
from ...spend.usage import Usage
from . import Calls, ChunkResult, Engine, Translated
from . import llm_protocol as protocol
from .cue_text import in_rounds, parse_cues
from .llm_client import log, make_client

MAX_ATTEMPTS = 5
"""Requests per batch of cues at most (the first and four retries)."""

MAX_REASKS = 3
"""Times the cues an answer left out (or got wrong) are asked again, before the job fails."""

BACKOFF_BASE_S, BACKOFF_CAP_S = 1.0, 30.0
"""Exponential backoff with full jitter: a wait drawn from [0, min(cap, base * 2^n)]."""

MAX_SERVER_DELAY_S = 300.0
"""A server asking to wait longer than this is not waited for: the job fails, to retry later."""

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt."""

MAX_RESENDS = protocol.MAX_STEP_DOWNS + 1
"""Requests of one batch sent again in another form (two modes down, max_completion_tokens)."""

WHO = "the LLM"
"""Whose quota a waiting job waits for, as the job page says it."""


class _Retry(Exception):
    """An attempt failed in a way worth repeating: `reason` for the log, `delay` if stated."""

    def __init__(self, reason: str, delay: float | None = None, bad_answer: bool = False):
        super().__init__(reason)
        self.reason, self.delay, self.bad_answer = reason, delay, bad_answer


class _Resend(Exception):
    """The server refused the request's form, not its content: send it again changed (another
    structured-output mode, or max_completion_tokens), without spending an attempt."""


@dataclass(frozen=True)
class Answer:
    """What one request brought back: its text, why it ended, and what it used (None: the
    server did not say)."""

    text: str | None
    finish: str | None
    usage: object | None


class LlmEngine(Engine):
    """A chat-completions server over openai's async client, for text only."""

    name = "llm"

    def __init__(self, config: Config):
        self.config, self.model = config, config.llm_model
        self.concurrency = config.llm_concurrency
        self.prices = pricing.llm_prices(config)
        self.auto = config.llm_response_format == "auto"
        self.mode = protocol.MODES[0] if self.auto else config.llm_response_format
        """The structured-output mode requests use; in auto, the last one the server took."""
        self.tokens_param = "max_tokens"
        """How the answer's bound is named: max_completion_tokens once a server asked for it."""
        if not config.llm_prices and not protocol.is_local(config.llm_base_url):
            log.warning("engine=llm event=no_price server=remote note=%r",
                        "LLM_PRICES unset: counted as free, so caps and budgets cannot bound "
                        "it")  # fmt: skip
        self._client: AsyncOpenAI | None = None
        self._quota: Quota | None = None

    @property
    def quota(self) -> Quota:
        """The deployment's shared rate limit for this server, key and model (LLM_RPM,
        LLM_TPM), on its own Redis connection, made in the horse."""
        if self._quota is None:
            self._quota = llm_quota(self.config, connect(self.config))
        return self._quota

    @property
    def client(self) -> AsyncOpenAI:
        """The process's one client, made on first use (after aclose, a fresh one)."""
        if self._client is None:
            self._client = make_client(self.config)
        return self._client

    async def transcribe(self, audio, *, target_language: str, context: str, calls: Calls,
                         glossary: list[dict] = (),
                         speakers: list[str] = ()) -> ChunkResult:  # fmt: skip
        """Never: a text engine hears no audio (check_request refuses it as a job's engine)."""
        raise NotImplementedError("the llm engine translates text only: it cannot transcribe "
                                  "audio (use engine=local or gemini, translator=llm)")  # fmt: skip

    async def translate_cues(self, cues: list[tuple[int, str]], *, target_language: str,
                             context: list[tuple[int, str]], calls: Calls,
                             glossary: list[dict] = ()) -> Translated:  # fmt: skip
        """Cues as text, every index answered (cue_text.in_rounds: what an answer leaves out
        is asked again, MAX_REASKS times, then JobFailed llm_bad_answer). Returns the
        translations and the indexes that had to be asked again."""

        async def ask(texts: list[str], todo: list[tuple[int, str]]) -> dict[int, str]:
            return await self._call(texts, dict(todo), calls)

        return await in_rounds(cues, context, list(glossary), target_language, ask, MAX_REASKS,
                               "llm")  # fmt: skip

    async def _call(self, texts: list[str], wanted: dict[int, str], calls: Calls) -> dict:
        """Up to MAX_ATTEMPTS requests until an answer holds some of `wanted`'s translations;
        JobFailed otherwise. A refused form (_Resend) is sent again changed, spending no
        attempt: each change is final (a lower mode, or max_completion_tokens), so there are
        MAX_RESENDS at most."""
        max_output = pricing.text_output_tokens(list(wanted.values()))
        attempt, resends = 0, 0
        while True:
            attempt += 1
            try:
                return await self._attempt(texts, wanted, max_output, calls)
            except _Resend:
                resends, attempt = resends + 1, attempt - 1
                if resends > MAX_RESENDS:
                    raise JobFailed("The LLM server refused every form of request Subcue can "
                                    "send; check LLM_RESPONSE_FORMAT.",
                                    code="llm_rejected") from None  # fmt: skip
            except _Retry as failure:
                if attempt == MAX_ATTEMPTS:
                    raise self._gave_up(failure) from None
                await self._pause(failure, attempt)

    async def _attempt(self, texts: list[str], wanted: dict[int, str], max_output: int,
                       calls: Calls) -> dict[int, str]:  # fmt: skip
        """One request, reserved, rate-limited and billed; its trusted translations, or
        _Retry / _Resend / JobFailed."""
        mode, tokens_param = self.mode, self.tokens_param
        chat = protocol.messages(texts, mode)
        bound_in = protocol.input_bound(chat, mode)
        calls.before_call()  # the cancel flag, right before each (paid) request
        hold = await calls.reserve(self.prices.micros(bound_in, max_output))
        spent = Usage(engine_calls=1)  # no answer: nothing billed, the reservation released
        try:
            await self.quota.acquire(bound_in, lambda s: calls.waiting(s, who=WHO))
            calls.before_call()
            try:
                answer = await self._request(chat, mode, tokens_param, max_output)
            except Exception as exc:  # sorted by _judge; CancelledError is no Exception
                raise self._judge(exc, mode, tokens_param) from None
            spent = self._usage_of(answer.usage, bound_in, max_output)  # garbage is paid too
            if spent.output_tokens > max_output and not self.prices.free:
                raise JobFailed(f"The LLM server billed {spent.output_tokens} output tokens for "
                                f"a request limited to {max_output} ({tokens_param}): it does "
                                "not honour the limit, so no reservation can keep this job "
                                "under its cap and budgets. Stopped after that request, billed "
                                "as the server reported. Use a server that honours "
                                f"{tokens_param}, or LLM_PRICES=0,0 if it costs nothing.",
                                code="llm_unbounded")  # fmt: skip
            found = None
            if answer.finish != "length":  # cut short: not to be trusted, whatever it holds
                found = parse_cues(protocol.dig_json(answer.text), wanted)
            if not found:
                cut = " (cut at its max_tokens)" if answer.finish == "length" else ""
                raise _Retry(f"an unreadable or empty answer{cut}", bad_answer=True)
            return found
        finally:
            calls.billed(spent, hold, engine="llm")

    async def _request(self, chat: list[dict], mode: str, tokens_param: str,
                       max_output: int) -> Answer:  # fmt: skip
        """One chat completion, streamed (LLM_STREAM) or not."""
        options = {"model": self.model, "messages": chat, "temperature": 0,
                   tokens_param: max_output}  # fmt: skip
        if (fmt := protocol.response_format(mode)) is not None:
            options["response_format"] = fmt
        if not self.config.llm_stream:
            response = await self.client.chat.completions.create(**options)
            choice = response.choices[0] if response.choices else None
            return Answer(choice.message.content if choice else None,
                          choice.finish_reason if choice else None, response.usage)  # fmt: skip
        stream = await self.client.chat.completions.create(
            **options, stream=True, stream_options={"include_usage": True})  # fmt: skip
        pieces, finish, usage = [], None, None
        async with stream:  # closed however it ends: a cancel hangs up on the server
            async for chunk in stream:
                usage = chunk.usage or usage  # the last chunk's, when the server sends it
                for choice in chunk.choices or ():
                    if choice.delta is not None and choice.delta.content:
                        pieces.append(choice.delta.content)
                    finish = choice.finish_reason or finish
        return Answer("".join(pieces), finish, usage)

    def _usage_of(self, usage, bound_in: int, max_output: int) -> Usage:
        """One answered request: its tokens and their cost, rounded up to a micro-dollar; an
        answer without usage counts at its bounds."""
        if usage is None or getattr(usage, "prompt_tokens", None) is None:
            tokens_in, tokens_out = bound_in, max_output
        else:
            tokens_in, tokens_out = usage.prompt_tokens or 0, usage.completion_tokens or 0
        return Usage(1, tokens_in, tokens_out, self.prices.micros(tokens_in, tokens_out) / 1e6)

    def _judge(self, exc: Exception, mode: str, tokens_param: str) -> Exception:
        """A failed request: _Resend if its form was refused, _Retry if another attempt may
        help, JobFailed if none can; a bug (not the server's doing) is raised as it is."""
        if isinstance(exc, openai.APITimeoutError):
            return _Retry("a timeout")
        if isinstance(exc, openai.APIConnectionError):
            return _Retry(f"a network error ({type(exc.__cause__ or exc).__name__})")
        if isinstance(exc, openai.APIResponseValidationError):
            return _Retry("an answer the client could not read", bad_answer=True)
        if not isinstance(exc, openai.APIStatusError):
            if isinstance(exc, openai.APIError):  # an error event inside a stream
                return _Retry(f"an error in the stream ({self._said(exc.message)[:80]})")
            raise exc  # a bug: it reaches RQ with its traceback
        status = exc.status_code
        if status == 400 and (changed := self._changed_form(exc, mode, tokens_param)):
            return changed
        if status in RETRYABLE_STATUS and exc.code != "insufficient_quota":
            delay = protocol.retry_after(exc.response.headers)
            if delay is not None and delay > MAX_SERVER_DELAY_S:
                return JobFailed(f"The LLM server asks to wait {delay:.0f} s (HTTP {status}); "
                                 "retry the job later.", code="llm_unavailable")  # fmt: skip
            return _Retry(f"HTTP {status}", delay)
        if status in (401, 403):
            return JobFailed(f"The LLM server refused the key (HTTP {status}): check "
                             "LLM_API_KEY.", code="llm_auth")  # fmt: skip
        if status == 404:
            return JobFailed(f"The LLM server does not know the model {self.model!r}: check "
                             "LLM_MODEL (and LLM_BASE_URL).", code="llm_model")  # fmt: skip
        hint = ""
        if status == 400 and protocol.step_down(mode, exc.param, exc.message, exc.body):
            hint = " (LLM_RESPONSE_FORMAT=auto finds a form this server takes)"
        return JobFailed(f"The LLM server rejected the request (HTTP {status}): "
                         f"{self._said(exc.message)[:200]}{hint}",
                         code="llm_rejected")  # fmt: skip

    def _changed_form(self, exc: openai.APIStatusError, mode: str,
                      tokens_param: str) -> _Resend | None:  # fmt: skip
        """After a 400: a _Resend when it refused the structured-output mode (in auto: the next
        mode, remembered for the process) or max_tokens (max_completion_tokens from now on)."""
        said = (exc.param, exc.message, exc.body)
        if tokens_param == "max_tokens" and protocol.wants_completion_tokens(*said):
            self.tokens_param = "max_completion_tokens"
            log.info("engine=llm event=max_tokens_param name=max_completion_tokens")
            return _Resend()
        lower = protocol.step_down(mode, *said) if self.auto else None
        if lower is None:
            return None
        if protocol.MODES.index(lower) > protocol.MODES.index(self.mode):
            self.mode = lower  # another request in flight may have stepped down already
            log.info("engine=llm event=response_format mode=%s", lower)
        return _Resend()

    def _said(self, words) -> str:
        """A server's own words, without the key should they repeat it."""
        said, key = str(words or "no reason given"), self.config.llm_api_key
        return said.replace(key, "***") if key else said

    async def _pause(self, failure: _Retry, attempt: int) -> None:
        """Wait before the next attempt: what the server asked for, through the shared quota
        (every worker on this server and model waits), else a backoff with full jitter."""
        wait = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))
        if failure.delay is not None:
            self.quota.pause(failure.delay + random.uniform(0, min(BACKOFF_BASE_S,
                                                                   failure.delay)))  # fmt: skip
            wait = 0.0  # the next attempt's quota wait covers it, and says so
        log.warning("engine=llm event=retry attempt=%d/%d reason=%r wait_s=%.2f", attempt,
                    MAX_ATTEMPTS, failure.reason, wait)  # fmt: skip
        await asyncio.sleep(wait)  # a cancel ends the batch here, before any request

    @staticmethod
    def _gave_up(failure: _Retry) -> JobFailed:
        """The error that fails the job after MAX_ATTEMPTS."""
        if failure.bad_answer:
            return JobFailed(f"The LLM gave no usable answer for a batch of cues in "
                             f"{MAX_ATTEMPTS} tries; retry the job later.",
                             code="llm_bad_answer")  # fmt: skip
        return JobFailed(f"The LLM server kept failing ({failure.reason}) in {MAX_ATTEMPTS} "
                         "attempts; retry the job later.", code="llm_unavailable")  # fmt: skip

    async def aclose(self) -> None:
        """Close the client's connections; a later run in this process makes a new client."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
