"""Schemathesis against /api/openapi.json with the real app, worker and Redis."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .helpers import make_app

EXAMPLES = 15
"""Generated requests per operation: enough to find shape errors, few enough for CI."""


@pytest.fixture
def fuzz_env(base_env, tmp_path):
    """A storage root of its own, so what is left in it can only come from these requests."""
    return {**base_env, "MAX_ACTIVE_JOBS_PER_OWNER": "1000",
            "STORAGE_URL": f"file://{tmp_path / 'storage'}"}  # fmt: skip


@pytest.fixture
def fuzz_app(fuzz_env, worker):
    """The real app, its jobs run by the session's worker."""
    return make_app(fuzz_env)


def error_shape_problem(response) -> str | None:
    """What is wrong with an error answer, if anything: it must be {"error": {code, message}}."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return "not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if set(body) != {"error"} or not isinstance(error, dict):
        return f"shape {body!r}"
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        return f"fields {error!r}"
    return "traceback" if "Traceback" in response.text else None


def test_api_survives_generated_requests(fuzz_app, fuzz_env, conn):
    """No 500s, JSON errors only, and refused uploads leave nothing in storage."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    problems: list[str] = []
    statuses: Counter = Counter()

    for result in schema.get_all_operations():
        strategy = result.ok().as_strategy()

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=strategy)
        def call(case):
            response = case.call()
            statuses[response.status_code] += 1
            problem = "server error" if response.status_code >= 500 else None
            problem = problem or error_shape_problem(response)
            if problem:
                problems.append(f"{case.method} {case.formatted_path} {response.status_code}: "
                                f"{problem}")  # fmt: skip

        call()

    print("statuses seen:", dict(statuses))
    assert sum(statuses.values()) >= 100, statuses
    assert problems == []
    root = Path(fuzz_env["STORAGE_URL"].removeprefix("file://")) / "sessions"
    for session_dir in root.iterdir() if root.exists() else []:
        assert conn.exists(f"subcue:session:{session_dir.name}"), f"orphaned {session_dir}"
