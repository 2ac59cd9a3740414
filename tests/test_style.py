"""The code reads as STYLE.md asks: ruff-clean, formatted, and jobs/ never imports Flask."""

from __future__ import annotations

import ast
import subprocess
import sys

from .helpers import ROOT


def test_ruff_finds_nothing():
    """`ruff check` and `ruff format --check` pass on the whole tree."""
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT,
                                capture_output=True, text=True)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_dependencies_point_one_way():
    """web -> jobs <- worker: jobs imports neither Flask nor web nor worker."""
    for path in (ROOT / "jobs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in ("flask", "web", "worker"), (path, name)
