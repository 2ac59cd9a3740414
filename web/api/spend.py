"""Money: what a job would cost before it starts, and what the owner has spent."""

from __future__ import annotations

import math

from flask import jsonify, request

from jobs import cost, spend
from jobs.engines import check_request
from jobs.errors import BadRequest

from .. import context, owner
from . import bp
from .shared import KINDS

MAX_DURATION_S = 48 * 3600
"""The longest media an estimate is asked for (a typo guard)."""


@bp.get("/estimate")
def estimate():
    """The expected and worst-case cost, engine calls and wall time of a job over media of the
    given duration(s) (`duration_s` once per file)."""
    config = context.config()
    engine, _ = check_request(config, request.args.get("engine") or None,
                              request.args.get("target_language") or None)  # fmt: skip
    kind = request.args.get("kind") or "translate"
    if kind not in KINDS:
        raise BadRequest(f"Unknown job kind {kind!r}; use 'translate' or 'analyze'.",
                         code="unknown_kind")  # fmt: skip
    durations = [_duration(value) for value in request.args.getlist("duration_s")]
    if not durations:
        raise BadRequest("Give the media's length: duration_s=<seconds> (once per file).",
                         code="bad_duration")  # fmt: skip
    prices = cost.prices_for(config.gemini_model, config.gemini_prices)
    setup = cost.Setup(config.chunk_seconds, config.gemini_concurrency, config.gemini_rpm)
    paid = prices if engine == "gemini" else None
    return jsonify(cost.estimate(engine, kind, durations, paid, setup,
                                 local_model=config.whisper_model or "tiny.en"))  # fmt: skip


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
    return jsonify(spend.owner_usage(context.conn(), context.config(), owner.current()))
