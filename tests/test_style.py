"""The code reads as STYLE.md asks: ruff-clean, formatted, every package where
docs/ARCHITECTURE.md's map puts it and importing only what the map allows, no module too big."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from .helpers import ROOT

MAP = ROOT / "docs" / "ARCHITECTURE.md"

RQ_ALIASES = {"jobs/translate.py", "jobs/analyze.py"}
"""Old dotted paths of the job functions, kept for jobs RQ queued before the re-layout; each
imports its job's new module and nothing else."""

MAX_LINES, MAX_JS_LINES, MAX_MODULES = 400, 500, 10

TOO_BIG: set[str] = set()
"""Files still over their limit, until they are split (issue 26); the test fails once one is
no longer over it, so the list only shrinks."""


def test_ruff_finds_nothing():
    """`ruff check` and `ruff format --check` pass on the whole tree."""
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT,
                                capture_output=True, text=True)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def allowed_imports() -> dict[str, set[str]]:
    """docs/ARCHITECTURE.md's map: package -> the packages it may import (backquoted names in
    the table's last column)."""
    rules = {}
    for line in MAP.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            package = re.match(r"`([\w.]+)`", cells[0]).group(1)
            rules[package] = set(re.findall(r"`([\w.]+)`", cells[2]))
    return rules


def packages() -> set[str]:
    """Every package of the tree's three top folders, dotted (`jobs.life`, `web.api`)."""
    inits = [p for top in ("jobs", "web", "worker") for p in (ROOT / top).rglob("__init__.py")]
    return {".".join(p.parent.relative_to(ROOT).parts) for p in inits}


def module_name(path: Path) -> str:
    """`jobs/life/record.py` -> `jobs.life.record`; a package by its __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The modules (or packages) a file imports, absolute and dotted."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                where = ROOT / full.replace(".", "/")
                found.add(full if where.with_suffix(".py").exists() or where.is_dir() else base)
    return found


def home(module: str, known: set[str]) -> str:
    """The package of the map a module belongs to: the longest mapped package holding it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return parts[0]


def may_import(target: str, rules: set[str], known: set[str]) -> bool:
    """Whether a module whose map row allows `rules` may import `target`. A package named in
    the map's first column covers its modules; a sub-package named only in a row's allowed
    list (`jobs.work.engines`) is its `__init__` alone."""
    if target in rules:
        return True
    owner = home(target, known)
    return owner in rules and owner in known


def test_every_package_is_on_the_map_and_says_what_it_owns():
    """Each package of jobs/, web/ and worker/ has a row on the map (or lives inside one that
    has) and an __init__ docstring saying what it owns; each of jobs' says what it may import."""
    rules = allowed_imports()
    for package in packages():
        assert any(package == p or package.startswith(p + ".") for p in rules), package
        init = ROOT / package.replace(".", "/") / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init} has no docstring"
        if package.count(".") == 1 and package.startswith("jobs."):
            assert "May import" in doc, f"{init} does not say what it may import"


def test_packages_import_only_what_the_map_allows():
    """web -> jobs <- worker, and inside jobs each package imports only the packages its row of
    docs/ARCHITECTURE.md allows (its own modules always); jobs never imports Flask."""
    rules = allowed_imports()
    known = set(rules)
    broken = []
    for top in ("jobs", "web", "worker"):
        for path in (ROOT / top).rglob("*.py"):
            rel = str(path.relative_to(ROOT))
            me = home(module_name(path), known)
            allowed = rules[me] | {me}
            if rel in RQ_ALIASES:
                allowed = allowed | {"jobs.work"}
            for target in imported(path):
                first = target.split(".")[0]
                if top == "jobs" and first == "flask":
                    broken.append(f"{rel} imports {target}")
                if first not in ("jobs", "web", "worker") or home(target, known) == me:
                    continue
                if not may_import(target, allowed, known):
                    broken.append(f"{rel} ({me}) imports {target}")
    assert not broken, "\n".join(sorted(broken))


def test_the_web_process_never_loads_the_work():
    """Importing the web app loads no job kind, pipeline or engine library (only the engines'
    registry): a web dyno stays small and never imports google-genai or faster-whisper."""
    code = ("import sys, web, web.api, web.pages, web.dashboard\n"
            "print('\\n'.join(sorted(sys.modules)))")  # fmt: skip
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
    work = [m for m in loaded if m.startswith("jobs.work.") and m != "jobs.work.engines"]
    heavy = [m for m in loaded if m.split(".")[0] in ("faster_whisper", "ctranslate2")
             or m.startswith("google.genai")]  # fmt: skip
    assert not work and not heavy, work + heavy


def test_no_module_or_package_too_big():
    """No Python module of jobs/ or web/ over 400 lines, no script over 500, no package over 10
    modules (but the files still on TOO_BIG, each of which must still be over)."""
    over = set()
    for path in [*(ROOT / "jobs").rglob("*.py"), *(ROOT / "web").rglob("*.py")]:
        if len(path.read_text().splitlines()) > MAX_LINES:
            over.add(str(path.relative_to(ROOT)))
    for path in (ROOT / "web" / "static").rglob("*.js"):
        if len(path.read_text().splitlines()) > MAX_JS_LINES:
            over.add(str(path.relative_to(ROOT)))
    for package in packages():
        folder = ROOT / package.replace(".", "/")
        if len([p for p in folder.glob("*.py") if p.name != "__init__.py"]) > MAX_MODULES:
            over.add(package)
    assert over == TOO_BIG, f"newly over: {over - TOO_BIG}; split, so drop: {TOO_BIG - over}"
