"""Reading JSON bodies (web/security/body.py): what the checked parser refuses, without a
request."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from web.security.body import MAX_DEPTH, BadJSON, CheckedJSONProvider, checked


def nested(depth: int):
    """A list inside a list, `depth` levels in all."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_ordinary_bodies_pass_unchanged():
    body = {"base_revision": 2, "cues": [{"start": 0.5, "end": 1, "text": "Grüße ♪ 👋"}]}
    assert checked(body) is body
    assert checked(nested(MAX_DEPTH)) == nested(MAX_DEPTH)


@pytest.mark.parametrize("value", [nested(MAX_DEPTH + 1), {"a": nested(MAX_DEPTH)}])
def test_deeper_than_the_limit_is_refused(value):
    with pytest.raises(BadJSON, match="nested more than"):
        checked(value)


@pytest.mark.parametrize("value", ["\ud800", ["ok", {"text": "x\udfff"}], {"\ud83d": 1}])
def test_a_lone_surrogate_anywhere_is_refused(value):
    with pytest.raises(BadJSON, match="lone surrogate"):
        checked(value)


def test_the_provider_turns_what_python_cannot_parse_into_a_value_error():
    provider = CheckedJSONProvider(Flask(__name__))
    for text in ("[" * 100_000 + "]" * 100_000, json.dumps(["\ud800"]), '"\\udc00"'):
        with pytest.raises(ValueError):
            provider.loads(text)
    assert provider.loads('{"text": "\\ud83d\\udc4b"}') == {"text": "👋"}  # a pair is fine
