"""jobs/errors.py: one table of every error code, and the code and docs/API.md agree with it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from jobs.errors import CODES, api_table

ROOT = Path(__file__).resolve().parents[2]

SECOND_STATUS = {
    ("conflict", 400): "a retry of a job that changed meanwhile (API.md says 400 there); a cue "
    "save made from an older revision is the table's 409",
    ("not_media", 422): "an analyze job over subtitle files only, refused as something the "
    "engine cannot do; an upload that is not media is the table's 415",
}
"""Codes answered with another status at one place, kept as they were (an API change to make
them agree would be its own issue); the test fails once one of them is no longer so."""

SPELLED = re.compile(
    r'code="([a-z_]+)"|code = "([a-z_]+)"|"code": "([a-z_]+)"'
    r'|status, code = \d+, "([a-z_]+)"|error_response\(\d+, "([a-z_]+)"'
)
"""The ways a code is spelled in the source: a keyword, a class attribute, a dict, a response."""


def sources() -> list[Path]:
    """Every Python file of jobs/, web/ and worker/."""
    return [p for top in ("jobs", "web", "worker") for p in sorted((ROOT / top).rglob("*.py"))]


def class_statuses() -> dict[str, int]:
    """Error class name -> its HTTP status, from the class statements (inherited by name)."""
    own, bases = {"SubcueError": 400}, {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases[node.name] = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                                if isinstance(b, ast.Name | ast.Attribute)]  # fmt: skip
            for item in node.body:
                if isinstance(item, ast.Assign) and isinstance(item.value, ast.Tuple):
                    names = [t.id for t in getattr(item.targets[0], "elts", [])]
                    if names[:1] == ["status"]:
                        own[node.name] = item.value.elts[0].value
                elif (
                    isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == "status"
                ):
                    own[node.name] = item.value.value

    def status(name: str) -> int | None:
        if name in own:
            return own[name]
        for base in bases.get(name, ()):
            if (found := status(base)) is not None:
                return found
        return None

    return {name: found for name in bases if (found := status(name)) is not None}


def test_every_code_the_source_spells_is_in_the_table():
    """A code used anywhere in jobs/, web/ or worker/ is one of CODES."""
    missing = set()
    for path in sources():
        for match in SPELLED.finditer(path.read_text()):
            code = next(g for g in match.groups() if g)
            if code not in CODES:
                missing.add(f"{code} ({path.relative_to(ROOT)})")
    assert not missing, sorted(missing)


def test_every_error_is_raised_with_its_tables_status():
    """Each error class's status, and the status of each `raise SomeError(..., code=...)`, is
    the one CODES gives its code (a job's own error, status None, is raised as JobFailed)."""
    statuses = class_statuses()
    wrong, seen = [], set()
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ClassDef)
                and node.name in statuses
                and node.name != "JobFailed"
            ):
                for item in node.body:
                    if isinstance(item, ast.Assign) and isinstance(item.value, ast.Tuple):
                        names = [t.id for t in getattr(item.targets[0], "elts", [])]
                        if names == ["status", "code"]:
                            code = item.value.elts[1].value
                            if CODES[code][0] != statuses[node.name]:
                                wrong.append(f"{node.name}: {code} {statuses[node.name]}")
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            cls, given = node.func.id, {k.arg: k.value for k in node.keywords}
            if cls not in statuses or cls == "JobFailed" or "code" not in given:
                continue  # a job's failure is never an HTTP answer
            if not all(isinstance(v, ast.Constant) for v in given.values()):
                continue  # passed on from elsewhere, checked where it is spelled
            code = given["code"].value
            status = given["status"].value if "status" in given else statuses[cls]
            if (code, status) in SECOND_STATUS:
                seen.add((code, status))
            elif CODES[code][0] != status:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {cls} {code}: {status}, "
                             f"the table says {CODES[code][0]}")  # fmt: skip
    assert not wrong, wrong
    assert seen == set(SECOND_STATUS), f"no longer answered so: {set(SECOND_STATUS) - seen}"


def test_api_md_lists_every_code_from_the_table():
    """docs/API.md carries the table CODES makes, as it is (regenerate it with
    `python -c 'from jobs.errors import api_table; print(api_table())'`)."""
    assert api_table() in (ROOT / "docs" / "API.md").read_text()
