"""Helpers for the browser tests: the app under gunicorn, and a real headless Chromium.

Chromium is Debian's /usr/bin/chromium, started by us (not by Playwright) and driven over the
DevTools protocol, for two reasons:
- we own its process, so a test can SIGKILL the whole browser like a crash would;
- Playwright's own launch keeps every page "visible" (its focus emulation, and switches that
  turn off background throttling), so switching tabs would hide nothing. Attached with
  `no_defaults=True`, the browser behaves as a user's would: a tab that is not in front is
  `document.visibilityState == "hidden"`, and its timers are throttled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx

from .helpers import ROOT, WorkerProcess, free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--mute-audio",
    "--password-store=basic",
    "--window-size=1100,1000",
]
"""Like a user's browser, minus the GPU, the sandbox (containers) and the network chatter."""


class Gunicorn:
    """The app served by gunicorn with the project's gunicorn.conf.py, on a free port."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py",
             "--graceful-timeout", "3", "web:create_app()"],
            cwd=ROOT, env={**os.environ, **env, "PORT": str(self.port)},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(self._up, timeout=30, interval=0.1, message="gunicorn to answer")

    def _up(self) -> bool:
        """True once the app answers its health check."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.output()}")
        try:
            return httpx.get(self.url + "/api/me", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        """Everything gunicorn (and the app) logged so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


@contextlib.contextmanager
def served(env: dict, logs: Path) -> Iterator[Gunicorn]:
    """gunicorn serving the app, with a worker on the same queue, for a test module."""
    worker = WorkerProcess(env, logs / "worker.log")
    web = Gunicorn(env, logs / "gunicorn.log")
    try:
        yield web
    finally:
        web.stop()
        worker.stop()


class Chromium:
    """One headless Chromium process with its own profile (so its own owner cookie)."""

    def __init__(self, playwright, profile: Path, log_path: Path):
        profile.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_ARGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"

        def endpoint():
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            lines = port_file.read_text().split() if port_file.exists() else []
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}" if len(lines) >= 2 else None

        ws = wait_for(endpoint, timeout=30, interval=0.05, message="chromium's DevTools port")
        self.browser = playwright.chromium.connect_over_cdp(ws, no_defaults=True)
        self.context = self.browser.contexts[0]
        self.context.set_default_timeout(15_000)

    def first_page(self):
        """The tab the browser opened with."""
        pages = self.context.pages
        return pages[0] if pages else self.context.new_page()

    def pause(self, seconds: float) -> None:
        """Sleep, but first let Playwright dispatch what the browser reported meanwhile.

        The sync API handles events (a dialog opening, a page closing) only inside its own
        calls, so a test that waits with time.sleep alone would never answer a dialog.
        """
        if self.proc.poll() is None:
            try:
                self.context.cookies()  # any round trip will do
            except Exception:  # the browser went away (a test killed it)
                pass
        time.sleep(seconds)

    def wait_until(self, predicate, timeout: float, message: str, interval: float = 0.02):
        """helpers.wait_for, pausing with `pause` so the browser's events are handled."""
        return wait_for(predicate, timeout, interval, message, pause=self.pause)

    def holds(self, predicate, seconds: float, message: str, interval: float = 0.05) -> None:
        """Like helpers.stays: `predicate` must hold on every look for `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert predicate(), message
            self.pause(interval)

    def kill(self) -> None:
        """SIGKILL the browser and all its processes: no pagehide, no beacon, no goodbye."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def close(self) -> None:
        """Disconnect, then end the browser."""
        try:
            self.browser.close()
        except Exception:  # already gone (killed by the test)
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def iso_seconds(text: str) -> float:
    """An ISO-8601 time from a job record as a Unix timestamp."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def elapsed_since(start: float) -> float:
    """Seconds on the monotonic clock since `start`."""
    return time.monotonic() - start


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
"""Where browser tests keep the screenshots a person looks at (ignored by git)."""

SUBTITLES = """1
00:00:00,500 --> 00:00:02,000
Subtitles make every video

2
00:00:02,500 --> 00:00:04,000
easier to follow.
"""
"""A two-cue SRT to upload."""


def shot(page, name: str, full_page: bool = True) -> None:
    """Keep a screenshot (the whole page, or the window) among the test artifacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


class Dialogs:
    """Every dialog a page shows, by type; each is accepted (leave) or dismissed (stay)."""

    def __init__(self, page, accept: bool = True):
        self.seen: list[str] = []
        self.accept = accept
        page.on("dialog", self._handle)

    def _handle(self, dialog) -> None:
        self.seen.append(dialog.type)
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()
