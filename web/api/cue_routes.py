"""A finished job's cues, for the editor: read a revision, save a new one
(jobs/subtitles/editing.py)."""

from __future__ import annotations

from flask import jsonify, request

from jobs.errors import BadRequest
from jobs.life import record
from jobs.subtitles import editing

from .. import context
from ..security import owner
from ..security.body import json_body
from . import bp


def _where(job_id: str) -> tuple[dict, editing.Target]:
    """The job (the owner's own) and the file and language the query names."""
    rec = record.get(context.conn(), job_id, owner.current())
    editing.check_editable(rec)
    where = editing.target(rec, request.args.get("file") or None,
                           request.args.get("language") or None)  # fmt: skip
    return rec, where


@bp.get("/jobs/<job_id>/cues")
def get_cues(job_id: str):
    """One file's cues in one language: the latest revision, or `?revision=k`."""
    rec, where = _where(job_id)
    raw = request.args.get("revision")
    if raw is not None and not raw.isdigit():
        raise BadRequest(f"revision must be a number, not {raw!r}.", code="bad_revision")
    return jsonify(editing.load(context.conn(), context.storage(), rec, where,
                                None if raw is None else int(raw),
                                kept=context.config().max_revisions))  # fmt: skip


@bp.put("/jobs/<job_id>/cues")
def put_cues(job_id: str):
    """Save the cues as a new revision (`base_revision`: the one they were made from) and
    write the SRT, VTT and JSON again."""
    rec, where = _where(job_id)
    saved = editing.save(context.conn(), context.storage(), context.config(), rec, where,
                         json_body())  # fmt: skip
    return jsonify(saved)
