"""Money: what a job would cost before it starts, and what the owner has spent."""

from __future__ import annotations

import math

from flask import jsonify, request

from jobs.errors import BadRequest, EngineUnsupported
from jobs.life import session
from jobs.spend import ledger, pricing
from jobs.work.engines import check_request, check_translator, translated_languages

from .. import context
from ..security import owner
from . import bp
from .job_fields import KINDS, target_languages

MAX_DURATION_S = 48 * 3600
"""The longest media an estimate is asked for (a typo guard)."""

MAX_TEXT_CHARS = 50_000_000
"""The largest subtitle file an estimate is asked for, in characters (a typo guard)."""


@bp.get("/estimate")
def estimate():
    """The expected and worst-case cost, engine calls and wall time of a job over media of the
    given duration(s) (`duration_s` once per media file) and subtitle files of the given size
    (`text_chars` once per subtitle file), in `target_languages` (or `target_language`), its
    text translated by `translator` (as a job's field: default Gemini for the Gemini engine,
    else the LLM when configured); each part priced by who does it. With `session_id`, every
    call carries that session's glossary."""
    config = context.config()
    engine, _ = check_request(config, request.args.get("engine") or None, None)
    translator = check_translator(config, engine, request.args.get("translator"))
    codes = [check_request(config, engine, code or None, translator)[1]
             for code in target_languages(request.args) or [""]]  # fmt: skip
    kind = request.args.get("kind") or "translate"
    if kind not in KINDS:
        raise BadRequest(f"Unknown job kind {kind!r}; use 'translate' or 'analyze'.",
                         code="unknown_kind")  # fmt: skip
    durations = [_duration(value) for value in request.args.getlist("duration_s")]
    texts = [_chars(value) for value in request.args.getlist("text_chars")]
    if not durations and not texts:
        raise BadRequest("Give the media's length: duration_s=<seconds> (once per file), or a "
                         "subtitle file's size: text_chars=<characters>.",
                         code="bad_duration")  # fmt: skip
    if texts and kind != "analyze" and not translator:
        raise EngineUnsupported("Translating subtitle files takes a translator: the Gemini "
                                "engine, or an LLM (translator=llm) where this server has "
                                "one.")  # fmt: skip
    return jsonify(pricing.for_config(config, engine, kind, durations, translator=translator,
                                      languages=len(codes), text_chars=texts,
                                      translated=len(translated_languages(engine, codes)),
                                      glossary=_glossary()))  # fmt: skip


def _glossary() -> str:
    """The prompt lines of the glossary of the request's `session_id` ("" without one)."""
    if not (sid := request.args.get("session_id")):
        return ""
    entries = session.get(context.conn(), sid, owner.current())["glossary"]
    return "\n".join(session.glossary_lines(entries))


def _chars(value: str) -> int:
    """One text_chars: characters of a subtitle file's cues, at least 1."""
    try:
        chars = int(value)
    except ValueError:
        chars = 0
    if not 0 < chars <= MAX_TEXT_CHARS:
        raise BadRequest(f"text_chars must be a number of characters above 0 and at most "
                         f"{MAX_TEXT_CHARS}, not {value!r}.", code="bad_duration")  # fmt: skip
    return chars


def _duration(value: str) -> float:
    """One duration_s: seconds above 0 and at most MAX_DURATION_S."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_DURATION_S:
        raise BadRequest(f"duration_s must be seconds above 0 and at most {MAX_DURATION_S}, "
                         f"not {value!r}.", code="bad_duration")  # fmt: skip
    return seconds


@bp.get("/usage")
def usage():
    """The owner's spend today and this month, per engine, and what is left of the budgets."""
    return jsonify(ledger.owner_usage(context.conn(), context.config(), owner.current()))
