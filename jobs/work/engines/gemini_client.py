"""The google-genai client Subcue makes, and Gemini's Files API from outside a job's run:
deleting what a job uploaded, by name (the worker after a killed horse, the sweeper, a delete;
a name already gone counts as deleted)."""

from __future__ import annotations

import logging

import httpx2
from google import genai
from google.genai import errors, types

from ...config import Config

log = logging.getLogger("subcue.gemini")


REQUEST_TIMEOUT_S, FILE_TIMEOUT_S = 120.0, 60.0
"""Seconds one request may take (then it is retried); seconds for an upload to become usable."""


def make_client(config: Config, timeout_s: float) -> genai.Client:
    """A google-genai client for GEMINI_BASE_URL (if set) at the configured API version."""
    options = types.HttpOptions(
        base_url=config.gemini_base_url or None,
        api_version=config.gemini_api_version,
        timeout=int(timeout_s * 1000),  # milliseconds
    )
    return genai.Client(api_key=config.gemini_api_key, http_options=options)


def delete_files(config: Config, names: list[str]) -> list[str]:
    """Delete uploads from a process that runs no engine (the worker, the sweeper).

    A short-lived client of its own: the worker forks horses, which must not share its
    connections. Returns the names that are gone (a 404 means already gone).
    """
    client = make_client(config, REQUEST_TIMEOUT_S / 10)
    gone = []
    try:
        for name in names:
            try:
                client.files.delete(name=name)
            except (errors.APIError, httpx2.HTTPError) as exc:
                if not gone_anyway(name, exc):
                    continue
            gone.append(name)
    finally:
        client.close()
    return gone


def gone_anyway(name: str, exc: Exception) -> bool:
    """After a failed delete: True if the file does not exist (404: its upload was cut short
    before the file existed), else log it and return False."""
    if isinstance(exc, errors.ClientError) and exc.code == 404:
        return True
    # The API deletes uploads by itself after 48 hours; this one lives that long.
    log.warning("engine=gemini event=file_not_deleted file=%s error=%s", name,
                getattr(exc, "code", None) or type(exc).__name__)  # fmt: skip
    return False
