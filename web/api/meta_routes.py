"""Who am I, and the machine-readable contract."""

from __future__ import annotations

from flask import jsonify

from ..openapi import spec
from ..security import owner
from . import bp


@bp.get("/me")
def me():
    """Who am I."""
    return jsonify({"owner": owner.current()})


@bp.get("/openapi.json")
def openapi():
    """The machine-readable contract."""
    return jsonify(spec())
