"""The `openai` client Subcue makes for the text engine (jobs/work/engines/llm.py), and the
check of the configured server (it answers, it serves LLM_MODEL) that every worker makes at
start and then periodically (worker/llm_watch.py)."""

from __future__ import annotations

import logging

import openai
from openai import AsyncOpenAI, OpenAI

from ...config import Config
from ...timeutil import now_iso

log = logging.getLogger("subcue.llm")

# A line per request (the workers' check lists the models every minute) adds nothing to our
# event lines.
logging.getLogger("httpx2").setLevel(logging.WARNING)

NO_KEY = "none"
"""What the client sends as the key when LLM_API_KEY is empty (local servers ignore it; the
client refuses to start without one)."""


def make_client(config: Config, timeout_s: float | None = None) -> AsyncOpenAI:
    """An async client for LLM_BASE_URL. Retries are Subcue's, not the client's (each attempt
    is a request that may be paid, so it is counted, capped and checked for a cancel first)."""
    return AsyncOpenAI(
        base_url=config.llm_base_url,
        api_key=config.llm_api_key or NO_KEY,
        timeout=timeout_s or config.llm_timeout_seconds,
        max_retries=0,
    )


CHECK_TIMEOUT_S = 5.0
"""Seconds the check waits for the server's model list: a server slower than this to list its
models is taken as unreachable."""

MODELS_NAMED = 10
"""How many of the server's models a message about a missing one names."""


def check(config: Config) -> dict:
    """Whether the configured server answers and serves LLM_MODEL: `ok` (True, or False with
    `error`, a sentence for the person who set LLM_*; `note` when the server lists no models,
    so the model is not checked), `model`, `base_url` (without credentials), `checked_at`.
    Never raises for what the server does, and never puts LLM_API_KEY in a message."""
    url = config.llm_url_shown
    verdict = {"ok": False, "error": None, "note": None, "model": config.llm_model,
               "base_url": url, "checked_at": None}  # fmt: skip
    try:
        found = _list_models(config)
    except openai.NotFoundError:  # some servers serve chat completions only
        verdict["ok"] = True
        verdict["note"] = (f"could not list models (404 from {url}/models), so LLM_MODEL is "
                           "not checked; does LLM_BASE_URL end in /v1?")  # fmt: skip
    except openai.OpenAIError as exc:
        verdict["error"] = _without_secrets(config, trouble(url, exc))
    else:
        verdict["ok"] = serves(found, config.llm_model)
        if not verdict["ok"]:
            named = ", ".join(found[:MODELS_NAMED]) or "none"
            more = f" — first {MODELS_NAMED}" if len(found) > MODELS_NAMED else ""
            missing = f"the server has no model {config.llm_model!r} (it has: {named}{more})"
            verdict["error"] = _without_secrets(config, missing)
    verdict["checked_at"] = now_iso()
    return verdict


def trouble(url: str, exc: openai.OpenAIError) -> str:
    """What went wrong listing the models of the server at `url`, in a sentence."""
    if isinstance(exc, openai.APITimeoutError):
        return f"cannot reach LLM_BASE_URL {url}: no answer within {CHECK_TIMEOUT_S:g} s"
    if isinstance(exc, openai.APIConnectionError):  # the cause says why: refused, no such host
        return f"cannot reach LLM_BASE_URL {url}: {exc.__cause__ or exc}"
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"the server refused LLM_API_KEY ({exc.status_code} from {url}/models)"
    if isinstance(exc, openai.APIStatusError):
        return f"LLM_BASE_URL {url} answered {exc.status_code} to GET /models: {exc.message:.200}"
    return f"LLM_BASE_URL {url} did not answer GET /models with a model list: {exc!s:.200}"


def _list_models(config: Config) -> list[str]:
    """The ids of the models the server lists (one short request, no retry)."""
    client = OpenAI(base_url=config.llm_base_url, api_key=config.llm_api_key or NO_KEY,
                    timeout=CHECK_TIMEOUT_S, max_retries=0)  # fmt: skip
    try:
        return [model.id for model in client.models.list()]
    finally:
        client.close()


def serves(found: list[str], model: str) -> bool:
    """Whether `model` is among the listed ids (Ollama lists `name:latest` for `name`)."""
    return model in found or f"{model}:latest" in found


def _without_secrets(config: Config, text: str) -> str:
    """`text` with the key and the URL's credentials taken out (a server may echo either)."""
    if config.llm_api_key:
        text = text.replace(config.llm_api_key, "***")
    return text.replace(config.llm_base_url, config.llm_url_shown)
