"""Issue 24 in a real Chromium: a file name made of markup runs nothing, neither on Subcue's
pages nor in rq-dashboard opened with its password, and another site cannot make the
dashboard change anything; the dashboard still works under its policy."""

from __future__ import annotations

import base64
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq.job import Job, JobStatus

from .browser import Dialogs, shot
from .helpers import DATA, free_port

pytestmark = pytest.mark.browser

PASSWORD = "dash-pw"
"""The dashboard's password in these tests."""

HOSTILE = "<img src=x onerror=alert(document.domain)>.mp4"
"""A file name that is markup: its handler opens a dialog wherever it becomes HTML."""


@pytest.fixture(scope="module")
def env(base_env) -> dict:
    """gunicorn and a worker on their own queue, with the dashboard on."""
    return {**base_env, "QUEUE_NAME": "subcue-security-browser", "DASHBOARD_PASSWORD": PASSWORD}


RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  // What the page's Content-Security-Policy blocked, kept for the test to read.
  const seen = JSON.parse(sessionStorage.getItem("csp") || "[]");
  seen.push(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`);
  sessionStorage.setItem("csp", JSON.stringify(seen));
});
"""


BROWSER_INIT_SCRIPT = RECORD_VIOLATIONS
"""Run in every page of the `chromium` fixture (tests/conftest.py)."""


@pytest.fixture
def failed_job(chromium, server, tmp_path) -> str:
    """A job uploaded through the form with the hostile name, failed with a message naming
    the file (a truncated MP4 passes the probe and fails at decoding); its id."""
    media = tmp_path / HOSTILE
    media.write_bytes((DATA / "speech.mp4").read_bytes()[:40_000])
    page = chromium.first_page()
    page.goto(server.url + "/")
    page.set_input_files("#file", str(media))
    page.select_option("#engine", "local")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def blocked(page) -> list[str]:
    """What the policy blocked on this tab so far (its pages share sessionStorage)."""
    return page.evaluate("JSON.parse(sessionStorage.getItem('csp') || '[]')")


def dashboard_auth() -> dict:
    """The Authorization header a browser sends once the administrator logged in."""
    return {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}


def test_a_file_name_of_markup_runs_nothing_on_our_pages_or_in_the_dashboard(
    chromium, server, conn, failed_job
):
    """The job page shows the name as text; the dashboard's job page shows the failure with
    no element made from it and no handler run; the dashboard's own Delete still works."""
    page = chromium.first_page()
    dialogs = Dialogs(page)
    message = page.locator("#message")
    chromium.wait_until(lambda: "decoded" in (message.text_content() or ""), timeout=60,
                        message="the job page to show the failure")  # fmt: skip
    assert HOSTILE in page.locator("#title").text_content()
    assert HOSTILE in message.text_content()
    assert page.locator("main img").count() == 0
    shot(page, "security-job-page.png")
    assert blocked(page) == []  # the pages need nothing their policy refuses

    page.set_extra_http_headers(dashboard_auth())
    page.goto(f"{server.url}/rq/0/view/job/{failed_job}")
    exc_info = page.locator("#job-data .exc_info")
    chromium.wait_until(lambda: "decod" in (exc_info.text_content() or ""), timeout=15,
                        message="the dashboard to show the failure")  # fmt: skip
    text = exc_info.text_content()
    assert "\u2039img src=x onerror=alert(document.domain)\u203a.mp4" in text
    assert page.locator("#job-data img").count() == 0
    assert failed_job in page.locator("#job-data .description-scroll").text_content()
    chromium.holds(lambda: not dialogs.seen, seconds=1, message="a dialog opened")
    shot(page, "security-dashboard-job.png")
    assert blocked(page) == []  # nor does the dashboard (its scripts ran: the page is filled)

    page.goto(f"{server.url}/rq/0/view/jobs/subcue-security-browser/failed/8/asc/1")
    row = page.locator(f"[data-job-id='{failed_job}']")
    chromium.wait_until(lambda: row.count() == 1, timeout=15, message="the failed jobs list")
    assert "\u2039img" in row.locator(".exc_info").text_content()
    page.goto(f"{server.url}/rq/0/view/workers")
    chromium.wait_until(lambda: page.locator("#workers tr, table tbody tr").count() > 0,
                        timeout=15, message="the workers list")  # fmt: skip
    assert page.locator(".container img").count() == 0 and not dialogs.seen
    assert blocked(page) == []

    page.goto(f"{server.url}/rq/0/view/job/{failed_job}")  # its own Delete works
    chromium.wait_until(lambda: "decod" in (exc_info.text_content() or ""), timeout=15,
                        message="the dashboard to show the job again")  # fmt: skip
    page.click("#delete-job-btn")
    page.click("#confirmation-modal-yes")
    chromium.wait_until(lambda: not conn.exists(Job.key_for(failed_job)), timeout=15,
                        message="the dashboard to delete the job")  # fmt: skip
    page.wait_for_url(lambda url: "/view/job/" not in url)  # it goes back to the queues
    assert not dialogs.seen and blocked(page) == []


@pytest.fixture
def other_site(server):
    """Another site's page (its own server on `localhost`, another origin and site than
    `127.0.0.1`): it loads /rq/requeue/<queue> as an image, as a CSRF would; its URL."""
    requeue = f"{server.url}/rq/requeue/subcue-security-browser"
    page = f'<!doctype html><p>Cute cats</p><img src="{requeue}">'.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            """The same page for any path."""
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{httpd.server_port}/cats"
    httpd.shutdown()
    httpd.server_close()


def test_another_site_cannot_make_the_dashboard_requeue(chromium, server, conn, failed_job,
                                                         other_site):  # fmt: skip
    """Another site's page loading /rq/requeue/<queue> with the administrator's credentials
    changes nothing: the failed job stays failed."""
    page = chromium.first_page()
    chromium.wait_until(lambda: Job.fetch(failed_job, connection=conn).get_status()
                        == JobStatus.FAILED, timeout=60, message="the job to fail")  # fmt: skip
    page.set_extra_http_headers(dashboard_auth())
    done = []  # the browser blocks the answer from the page (ORB), after the server gave it
    page.on("requestfinished", lambda r: done.append(r.url))
    page.on("requestfailed", lambda r: done.append(r.url))
    page.goto(other_site)
    chromium.wait_until(lambda: any("/rq/requeue/" in url for url in done), timeout=15,
                        message="the other site's request to be answered")  # fmt: skip
    chromium.holds(lambda: Job.fetch(failed_job, connection=conn).get_status()
                   == JobStatus.FAILED, seconds=1, message="the job was requeued")  # fmt: skip
