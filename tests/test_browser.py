"""The job page in a real headless Chromium, against gunicorn, a real worker and Redis (SPEC
"The browser"): leaving cancels, hiding the tab does not, a vanished browser loses its lease.

The paid engine is the Gemini stand-in with a fixed latency per chunk, so a job runs for as
long as a test needs and every engine call is on record. LEASE_SECONDS is small, so lease
lapses happen in seconds.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jobs.config import Config
from jobs.life import record
from jobs.life.cancel import cancel
from jobs.life.status import ACTIVE

from .browser import SUBTITLES, Dialogs, elapsed_since, iso_seconds, shot
from .gemini_stub import GeminiStub
from .helpers import DATA, temp_dir_of

pytestmark = pytest.mark.browser

LEASE_SECONDS = 4
"""Short, so lapses happen within a test; the worker sweeps every LEASE_SECONDS / 3."""


RECORD_EVENTS = """
(() => {
  // Keep every server-sent event the page receives, for the test to read.
  const Native = window.EventSource;
  window.__sse = { opened: 0, events: [] };
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      window.__sse.opened += 1;
      this.addEventListener("message", (e) => window.__sse.events.push(JSON.parse(e.data)));
    }
  };
  window.__visibility = [];
  document.addEventListener("visibilitychange", () =>
    window.__visibility.push(document.visibilityState));
})();
"""


# --- fixtures ---


@pytest.fixture(scope="module")
def stub():
    """The Gemini stand-in the worker calls."""
    with GeminiStub() as server:
        yield server


@pytest.fixture(scope="module")
def env(base_env, stub) -> dict:
    """Settings shared by gunicorn and the worker: own queue, short lease, the stub."""
    return {
        **base_env,
        "QUEUE_NAME": "subcue-browser",
        "LEASE_SECONDS": str(LEASE_SECONDS),
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": stub.url,
        "GEMINI_CONCURRENCY": "1",
    }


@pytest.fixture(scope="module")
def config(env) -> Config:
    """The same settings as a Config."""
    return Config.from_env(env)


BROWSER_INIT_SCRIPT = RECORD_EVENTS
"""Run in every page of the `chromium` fixture (tests/conftest.py)."""


@pytest.fixture
def started(conn, config):
    """Ids of the jobs a test started; any still active afterwards is cancelled."""
    ids: list[str] = []
    yield ids
    for job_id in ids:
        if record.status(conn, job_id) in ACTIVE:
            cancel(conn, config, job_id)


# --- helpers ---


def start_job(page, server, started, media: Path, engine="gemini", keep_running=False) -> str:
    """Use the upload form like a person; return the new job's id from the job page's URL."""
    page.goto(server.url + "/")
    page.set_input_files("#file", str(media))
    page.select_option("#engine", engine)
    page.set_checked("#keep_running", keep_running)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]
    started.append(job_id)
    return job_id


def status_of(conn, job_id: str) -> dict:
    """The job's record, straight from Redis."""
    return record.get(conn, job_id)


def wait_running(chromium, conn, job_id: str, done: int = 1) -> dict:
    """Wait until the job is running with at least `done` chunks finished."""
    return chromium.wait_until(
        lambda: (rec := status_of(conn, job_id))["status"] == "running"
        and (rec.get("done") or 0) >= done
        and rec,
        timeout=30, message=f"{job_id} to run {done} chunk(s)",
    )  # fmt: skip


def running_job(chromium, server, conn, stub, started, media: Path, latency: float,
                keep_running=False, done=1):  # fmt: skip
    """A Gemini job started from the form, each call taking `latency` s, now mid-run."""
    stub.reset()
    stub.latency = latency
    page = chromium.first_page()
    job_id = start_job(page, server, started, media, keep_running=keep_running)
    wait_running(chromium, conn, job_id, done=done)
    return page, job_id


def touch(page) -> None:
    """A user gesture: Chromium shows beforeunload dialogs only on pages the user touched."""
    page.click("#title")


def assert_no_engine_call_after(chromium, stub, rec: dict) -> None:
    """No engine call arrived after the job ended, and none arrives for a while longer."""
    ended = iso_seconds(rec["ended_at"])
    count = len(stub.calls_snapshot())
    late = [c for c in stub.calls_snapshot() if c["arrived"] > ended]
    assert not late, f"engine calls after the job ended at {ended}: {late}"
    chromium.holds(lambda: len(stub.calls_snapshot()) == count, seconds=1.0,
                   message="an engine call started after the cancel")  # fmt: skip


def cancelled_within(chromium, conn, env, job_id: str, seconds: float) -> dict:
    """Wait until the job is cancelled and its temp dir gone, both within `seconds`."""
    deadline = time.monotonic() + seconds
    rec = chromium.wait_until(
        lambda: (rec := status_of(conn, job_id))["status"] == "cancelled" and rec,
        timeout=seconds, message=f"{job_id} to be cancelled",
    )  # fmt: skip
    chromium.wait_until(lambda: not temp_dir_of(env, job_id).exists(),
                        timeout=max(0.0, deadline - time.monotonic()),
                        message="its temp dir to be removed")  # fmt: skip
    return rec


# --- tests ---


def test_closing_the_tab_mid_job_cancels_it_within_2_s(
    chromium, server, env, conn, stub, long_speech, started
):
    """Close → the beforeunload dialog; staying keeps the job, leaving cancels it at once."""
    page, job_id = running_job(chromium, server, conn, stub, started, long_speech, latency=0.5)
    expect(page.locator("#leave-note")).to_be_visible()
    touch(page)

    dialogs = Dialogs(page, accept=False)
    page.close(run_before_unload=True)
    chromium.wait_until(lambda: dialogs.seen, timeout=5, message="the beforeunload dialog")
    assert dialogs.seen == ["beforeunload"]
    chromium.holds(lambda: status_of(conn, job_id)["status"] == "running", seconds=1.0,
                   message="staying on the page must not cancel")  # fmt: skip
    assert not page.is_closed()

    dialogs.accept = True
    page.close(run_before_unload=True)
    rec = cancelled_within(chromium, conn, env, job_id, seconds=2.0)
    # The beacon goes out on pagehide, so the job can be cancelled before Playwright hears
    # that the tab closed.
    chromium.wait_until(page.is_closed, timeout=2, message="the tab to close")
    assert dialogs.seen == ["beforeunload", "beforeunload"]
    assert rec["error"]["code"] == "left_page"
    assert rec["done"] < rec["total"]
    assert_no_engine_call_after(chromium, stub, rec)


def test_reload_asks_first_and_leaving_cancels(
    chromium, server, env, conn, stub, long_speech, started
):
    """Reload → the dialog; accepting cancels, and the reloaded page says so."""
    page, job_id = running_job(chromium, server, conn, stub, started, long_speech, latency=0.5)
    touch(page)
    dialogs = Dialogs(page, accept=True)
    page.reload()
    assert dialogs.seen == ["beforeunload"]
    rec = cancelled_within(chromium, conn, env, job_id, seconds=2.0)
    expect(page.locator("#status")).to_have_text("cancelled")
    expect(page.locator("#message")).to_contain_text("ancel")
    expect(page.locator("#retry")).to_be_visible()
    expect(page.locator("#cancel")).to_be_hidden()
    assert_no_engine_call_after(chromium, stub, rec)


def test_navigating_away_asks_first_and_leaving_cancels(
    chromium, server, env, conn, stub, long_speech, started
):
    """Following a link away → the dialog; the home page then shows the job as cancelled."""
    page, job_id = running_job(chromium, server, conn, stub, started, long_speech, latency=0.5)
    dialogs = Dialogs(page, accept=True)
    page.click("header a.brand")  # the click is also the gesture the dialog needs
    page.wait_for_url(server.url + "/")
    assert dialogs.seen == ["beforeunload"]
    rec = cancelled_within(chromium, conn, env, job_id, seconds=2.0)
    last = page.locator("#last-job")
    expect(last).to_be_visible()
    expect(last.locator("a")).to_have_attribute("href", f"/jobs/{job_id}")
    expect(last.locator(".badge")).to_have_text("cancelled")
    assert_no_engine_call_after(chromium, stub, rec)


def test_finished_job_shows_player_downloads_and_leaving_asks_nothing(
    chromium, server, conn, started
):
    """Local engine to the end: live progress in order, the video with its subtitles, and no
    dialog on reload or close."""
    page = chromium.first_page()
    job_id = start_job(page, server, started, DATA / "speech.mp4", engine="local")
    expect(page.locator("#status")).to_have_text("finished", timeout=60_000)
    assert status_of(conn, job_id)["status"] == "finished"

    sse = page.evaluate("window.__sse")
    assert sse["opened"] == 1, "the stream never broke, so the page never reopened it"
    events = sse["events"]
    order = ["queued", "running", "finished"]
    statuses = [e["status"] for e in events]
    assert statuses == sorted(statuses, key=order.index), statuses
    done = [e["progress"]["done"] for e in events]
    assert done == sorted(done), done
    assert events[-1]["status"] == "finished"
    total = events[-1]["progress"]["total"]
    assert events[-1]["progress"]["done"] == total >= 3

    expect(page.locator("#fill")).to_have_attribute("style", re.compile(r"width: 100%"))
    expect(page.locator("#progress-text")).to_have_text(f"{total} of {total} steps done")
    names = page.locator("#downloads a").all_inner_texts()
    assert sorted(names) == ["speech.en.json", "speech.en.srt", "speech.en.vtt"]
    for link in page.locator("#downloads a").all():
        response = page.request.get(server.url + link.get_attribute("href"))
        assert response.ok and response.body(), link.get_attribute("href")

    expect(page.locator("#quality")).to_have_text(re.compile(r"^Subtitles: \d+ cues"))
    cue = show_a_subtitle(page)
    # Paused (as it is after the seek), the browser's controls cover the picture's bottom: the
    # cues are lifted above them, and go back down when it plays.
    lines_of = "() => Array.from(document.querySelector('#player video').textTracks[0].cues)" \
               ".map((c) => c.line)"  # fmt: skip
    assert set(page.evaluate(lines_of)) == {-3}
    shot(page, "finished-job.png")
    page.evaluate("document.querySelector('#player video').muted = true")
    page.evaluate("document.querySelector('#player video').play()")
    page.wait_for_function(lines_of + ".every((line) => line === 'auto')")
    page.evaluate("document.querySelector('#player video').pause()")
    page.wait_for_function(lines_of + ".every((line) => line === -3)")
    assert "about 0 s left" not in page.locator("#eta").inner_text()
    # "Subtitles make every video easier to follow." is longer than a line: it shows as two
    # balanced lines, not one wide one.
    lines = cue.split("\n")
    assert len(lines) == 2 and all(0 < len(line) <= 42 for line in lines), cue

    dialogs = Dialogs(page, accept=False)  # a dialog would keep us here: none may come
    page.reload()
    expect(page.locator("#status")).to_have_text("finished")
    touch(page)
    page.close(run_before_unload=True)
    chromium.wait_until(page.is_closed, timeout=5, message="the page to close without asking")
    assert dialogs.seen == []
    assert status_of(conn, job_id)["status"] == "finished"


def show_a_subtitle(page) -> str:
    """Seek the video into its longest cue and wait until Chromium shows it; return its text."""
    page.wait_for_function(
        """() => {
          const v = document.querySelector('#player video');
          const t = v && v.textTracks[0];
          return v && v.readyState >= 1 && t && t.mode === 'showing' && t.cues && t.cues.length;
        }"""
    )
    text = page.evaluate(
        """() => {
          const v = document.querySelector('#player video');
          const cues = Array.from(v.textTracks[0].cues);
          const cue = cues.reduce((a, b) => (b.text.length > a.text.length ? b : a));
          v.preload = 'auto';
          v.currentTime = (cue.startTime + cue.endTime) / 2;
          return cue.text;
        }"""
    )
    page.wait_for_function(
        """() => {
          const v = document.querySelector('#player video');
          const active = v.textTracks[0].activeCues;
          // Whole file buffered (it is tiny): no loading spinner over the frame.
          const idle = v.networkState === HTMLMediaElement.NETWORK_IDLE && v.readyState === 4;
          return !v.seeking && idle && active && active.length > 0;
        }"""
    )
    # Chromium's controls keep the loading spinner of the first load over the frame for a few
    # seconds (an animation has to finish); new controls start without it.
    page.evaluate(
        """async () => {
          const v = document.querySelector('#player video');
          const frame = () => new Promise((r) => requestAnimationFrame(r));
          const frames = () => frame().then(frame);
          v.controls = false;
          await frames();
          v.controls = true;
          await frames();
        }"""
    )
    page.locator("#player video").scroll_into_view_if_needed()
    return text


def hide(chromium, page):
    """Put another tab in front of `page`, as a user switching tabs does."""
    other = chromium.context.new_page()
    other.bring_to_front()
    chromium.wait_until(lambda: page.evaluate("document.visibilityState") == "hidden",
                        timeout=5, message="the job's tab to be hidden")  # fmt: skip
    return other


def test_a_hidden_tab_keeps_its_job_past_the_lease(
    chromium, server, conn, stub, long_speech, started
):
    """Another tab in front for longer than LEASE_SECONDS: the job goes on."""
    page, job_id = running_job(chromium, server, conn, stub, started, long_speech, latency=1.0)

    hide(chromium, page)
    chromium.holds(lambda: status_of(conn, job_id)["status"] == "running",
                   seconds=LEASE_SECONDS + 2, interval=0.1,
                   message="hiding the tab must not cancel the job")  # fmt: skip
    assert page.evaluate("document.visibilityState") == "hidden"

    page.bring_to_front()
    assert page.evaluate("window.__visibility") == ["hidden", "visible"]
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("#leave-note")).to_be_visible()


def test_a_hidden_tab_without_event_stream_keeps_its_job_by_polling(
    chromium, server, conn, stub, long_speech, started
):
    """SSE blocked: the page polls for progress and its heartbeat holds the lease, hidden."""
    stub.reset()
    stub.latency = 1.0
    chromium.context.route("**/events", lambda route: route.abort())
    page = chromium.first_page()
    job_id = start_job(page, server, started, long_speech)
    wait_running(chromium, conn, job_id)
    expect(page.locator("#progress-text")).to_have_text(re.compile(r"^\d+ of \d+ steps done$"))

    hide(chromium, page)
    chromium.holds(lambda: status_of(conn, job_id)["status"] == "running",
                   seconds=LEASE_SECONDS + 2, interval=0.1,
                   message="without its stream, the page must still hold the lease")  # fmt: skip

    page.bring_to_front()
    before = page.locator("#progress-text").inner_text()
    expect(page.locator("#progress-text")).not_to_have_text(before, timeout=5_000)
    assert page.evaluate("window.__sse.events") == []


def test_a_killed_browser_abandons_its_job_after_the_lease(
    chromium, server, env, conn, stub, long_speech, started
):
    """SIGKILL the browser (no pagehide, no beacon): cancelled as abandoned once the lease
    lapses, not before."""
    page, job_id = running_job(chromium, server, conn, stub, started, long_speech, latency=1.0)

    chromium.kill()
    killed = time.monotonic()
    rec = cancelled_within(chromium, conn, env, job_id, seconds=3 * LEASE_SECONDS + 5)
    waited = elapsed_since(killed)
    assert rec["error"]["code"] == "abandoned"
    assert waited >= LEASE_SECONDS - 1.5, f"abandoned after {waited:.1f} s, before the lease"
    assert_no_engine_call_after(chromium, stub, rec)


def test_a_killed_browser_abandons_its_job_after_the_lease_even_mid_call(
    chromium, server, env, conn, stub, long_speech, started
):
    """Killed while a slow engine call is in flight (no progress events to write): still
    abandoned once the lease lapses."""
    stub.reset()
    stub.latency = 30.0
    page = chromium.first_page()
    job_id = start_job(page, server, started, long_speech)
    chromium.wait_until(lambda: stub.calls_snapshot(), timeout=30, message="the first call")
    chromium.kill()
    rec = cancelled_within(chromium, conn, env, job_id, seconds=2 * LEASE_SECONDS + 2)
    assert rec["error"]["code"] == "abandoned"


def test_keep_running_survives_closing_and_the_job_list_finds_it(
    chromium, server, conn, stub, long_speech, started
):
    """Keep running after I leave: no dialog, no cancel; the home page lists the job later."""
    page, job_id = running_job(
        chromium, server, conn, stub, started, long_speech, latency=0.3, keep_running=True
    )
    expect(page.locator("#keep-note")).to_be_visible()
    expect(page.locator("#leave-note")).to_be_hidden()
    touch(page)
    dialogs = Dialogs(page, accept=False)
    page.close(run_before_unload=True)
    chromium.wait_until(page.is_closed, timeout=5, message="the page to close without asking")
    assert dialogs.seen == []
    chromium.holds(lambda: status_of(conn, job_id)["status"] == "running", seconds=1.0,
                   message="closing a keep-running job's page must not cancel it")  # fmt: skip

    home = chromium.context.new_page()
    home.goto(server.url + "/")
    item = home.locator(f"#jobs li[data-job-id='{job_id}']")
    expect(item).to_contain_text("keeps running")
    expect(item.locator(".badge")).to_have_text("finished", timeout=20_000)
    assert status_of(conn, job_id)["status"] == "finished"


def test_cancel_button_then_retry_resumes_from_checkpoints(
    chromium, server, env, conn, stub, long_speech, started
):
    """Cancel → cancelled with the reason and a Retry; Retry finishes without paying twice."""
    page, job_id = running_job(
        chromium, server, conn, stub, started, long_speech, latency=0.3, done=2
    )
    page.click("#cancel")
    expect(page.locator("#status")).to_have_text("cancelled")
    expect(page.locator("#message")).to_contain_text("You cancelled this job")
    expect(page.locator("#cancel")).to_be_hidden()
    expect(page.locator("#leave-note")).to_be_hidden()
    rec = status_of(conn, job_id)
    assert rec["error"]["code"] == "cancelled_by_user"
    assert not temp_dir_of(env, job_id).exists()
    assert_no_engine_call_after(chromium, stub, rec)
    kept = len(record.checkpoints(conn, job_id))
    assert kept >= 2
    calls_before = len(stub.calls_snapshot())

    page.evaluate("""() => {
      // every status and ETA the page shows from the Retry click on
      window.__shown = [];
      const note = () => window.__shown.push(
        [document.getElementById('status').textContent, document.getElementById('eta').textContent,
         document.getElementById('progress-text').textContent]);
      new MutationObserver(note).observe(document.getElementById('job'),
                                         {subtree: true, childList: true, characterData: true});
    }""")
    page.click("#retry")
    expect(page.locator("#status")).to_have_text("finished", timeout=30_000)
    shown = page.evaluate("window.__shown")
    assert not [s for s in shown if s[0] == "cancelled"], "a stale 'cancelled' after Retry"
    assert not [s for s in shown if "about 0 s left" in s[1]], shown
    expect(page.locator("#player audio")).to_have_count(1)
    total = status_of(conn, job_id)["total"]
    assert len(stub.calls_snapshot()) - calls_before == total - kept, "a chunk was paid twice"


def test_pages_answer_pages_and_no_request_is_404(chromium, server):
    """A job or session link opened in another browser is an HTML page with a way home, and
    no page asks for something that is not there (the favicon)."""
    page = chromium.first_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(server.url + "/")
    expect(page.locator("#upload")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert missing == []
    for path in ("/jobs/00000000-0000-4000-8000-000000000000", "/sessions/not-an-id"):
        response = page.goto(server.url + path)
        assert response.status == 404 and "text/html" in response.headers["content-type"]
        expect(page.locator("h1")).to_have_text("Not found")
        page.click("text=Back to the home page")
        page.wait_for_url(server.url + "/")
    page.goto(server.url + "/jobs/00000000-0000-4000-8000-000000000000")
    shot(page, "not-found.png", full_page=False)


def test_the_form_says_what_each_engine_can_do_before_start(chromium, server):
    """The local engine only makes English: choosing it pins the language and says so."""
    page = chromium.first_page()
    page.goto(server.url + "/")
    page.select_option("#engine", "gemini")
    page.select_option("#target_language", "fa")
    expect(page.locator(".engine-note")).to_contain_text("any of these languages")
    page.select_option("#engine", "local")
    expect(page.locator("#target_language")).to_be_disabled()
    expect(page.locator("#target_language")).to_have_value("en")
    expect(page.locator(".engine-note")).to_contain_text("English subtitles of English speech")
    shot(page, "form-local-engine.png", full_page=False)
    page.select_option("#engine", "gemini")
    expect(page.locator("#target_language")).to_be_enabled()


def test_choosing_a_file_shows_what_it_will_cost_before_start(chromium, server):
    """The browser reads the chosen video's length and shows the server's estimate at once; it
    follows the engine (free for the local one, whose cap field goes away) and the language,
    and nothing is uploaded or started meanwhile."""
    page = chromium.first_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(server.url + "/")
    page.select_option("#engine", "gemini")
    page.set_input_files("#file", str(DATA / "speech.mp4"))
    estimate = page.locator("#estimate")
    expect(estimate).to_contain_text(re.compile(r"Estimate: about \$0\.\d{4}, at most \$0\.\d{4} "
                                                r"· \d+ Gemini calls? · about \d+ s"))  # fmt: skip
    expect(page.locator("#max_cost_usd")).to_be_visible()
    shot(page, "form-estimate.png", full_page=False)
    paid = estimate.text_content()
    page.select_option("#engine", "local")
    expect(estimate).to_contain_text("Estimate: free (runs on this server)")
    expect(page.locator("#max_cost_usd")).to_be_hidden()
    page.select_option("#engine", "gemini")
    expect(estimate).to_have_text(paid)
    assert posts == [], "an estimate uploads nothing and starts nothing"


def test_the_session_page_follows_its_jobs_without_replacing_their_buttons(chromium, server):
    """A job started on a session: its row changes as the job runs (through its event stream),
    and its Delete button stays the same element the whole time."""
    page = chromium.first_page()
    page.goto(server.url + "/")
    with open(DATA / "speech.wav", "rb") as f:
        made = page.request.post(
            server.url + "/api/sessions",
            multipart={"file": {"name": "speech.wav", "mimeType": "audio/wav", "buffer": f.read()}},
        )
    assert made.status == 201, made.text()
    session_id = made.json()["id"]
    page.goto(f"{server.url}/sessions/{session_id}")
    expect(page.locator("#files li")).to_have_count(1)
    page.select_option("#start-job select[name=engine]", "local")
    page.click("#start-job button[type=submit]")
    button = page.locator("#session-jobs button").element_handle()
    expect(page.locator("#session-jobs .badge")).to_have_text("finished", timeout=60_000)
    assert page.evaluate("(b) => b === document.querySelector('#session-jobs button')", button)
    assert page.evaluate("window.__sse.opened") >= 1, "the page never followed the job's events"
    expect(page.locator("#session-jobs a")).to_contain_text("transcribe speech.wav (local)")
    shot(page, "session.png")
    button.click()
    expect(page.locator("#session-jobs li")).to_have_count(0)
    expect(page.locator("#no-jobs")).to_be_visible()


def new_session(page, server, path: Path) -> str:
    """A session holding the file at `path`, made through the API as the page's owner."""
    upload = {"name": path.name, "mimeType": "application/octet-stream",
              "buffer": path.read_bytes()}  # fmt: skip
    made = page.request.post(server.url + "/api/sessions", multipart={"file": upload})
    assert made.status == 201, made.text()
    return made.json()["id"]


TRACKS = """(media) => Array.from(document.querySelector(media).textTracks)
  .map((t) => ({label: t.label, language: t.language, mode: t.mode}))"""

CUES = """([media, index]) => Array.from(document.querySelector(media).textTracks[index].cues || [])
  .map((c) => c.text)"""


def test_two_languages_give_two_tracks_and_the_switcher_shows_either(
    chromium, server, stub, started
):
    """Gemini, German first and French too: the player carries both tracks, German showing;
    the switcher shows French (its cues from speech.fr.vtt) and hides German, through the
    browser's own text track list."""
    stub.reset()
    page = chromium.first_page()
    page.goto(server.url + "/")
    page.select_option("#engine", "gemini")
    page.select_option("#target_language", "de")
    page.click("#more_languages summary")
    expect(page.locator("#also_en")).to_be_visible()
    expect(page.locator("#also_de")).to_be_hidden()  # the first language is not "also"
    page.check("#also_fr")
    expect(page.locator("#more_languages .more-picked")).to_have_text("French")
    page.set_input_files("#file", str(DATA / "speech.wav"))
    expect(page.locator("#estimate")).to_contain_text("(the text translations included)")
    shot(page, "form-two-languages.png")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]
    started.append(job_id)
    expect(page.locator("#status")).to_have_text("finished", timeout=30_000)
    params = page.request.get(f"{server.url}/api/jobs/{job_id}").json()["params"]
    assert params["target_languages"] == ["de", "fr"]

    for code, name in (("de", "German (de)"), ("fr", "French (fr)")):
        group = page.locator(f"#downloads li[data-language={code}]")
        expect(group.locator(".group-name")).to_have_text(name)
        names = sorted(group.locator("a").all_inner_texts())
        assert names == [f"speech.{code}.json", f"speech.{code}.srt", f"speech.{code}.vtt"]

    media = "#player audio"
    expect(page.locator(media)).to_have_count(1)
    page.wait_for_function(
        f"() => ({CUES})(['{media}', 0]).length && ({CUES})(['{media}', 1]).length"
    )
    assert page.evaluate(TRACKS, media) == [
        {"label": "German (de)", "language": "de", "mode": "showing"},
        {"label": "French (fr)", "language": "fr", "mode": "hidden"},
    ]
    german, french = (page.evaluate(CUES, [media, i]) for i in (0, 1))
    assert german and all(text.startswith("[de] ") for text in german), german
    french_vtt = page.request.get(
        server.url + page.locator("#downloads a", has_text="speech.fr.vtt").get_attribute("href")
    ).text()
    assert french and all(t.startswith("[fr] ") and t in french_vtt for t in french), french
    expect(page.locator("#player .track-choice")).to_have_value("de")

    page.select_option("#player .track-choice", "fr")
    modes = [t["mode"] for t in page.evaluate(TRACKS, media)]
    assert modes == ["hidden", "showing"]
    page.evaluate(f"""() => {{
      const a = document.querySelector('{media}');
      const cue = a.textTracks[1].cues[0];
      a.currentTime = (cue.startTime + cue.endTime) / 2;
    }}""")
    page.wait_for_function(f"""() => {{
      const active = document.querySelector('{media}').textTracks[1].activeCues;
      return active && active.length && active[0].text.startsWith('[fr] ');
    }}""")
    shot(page, "job-two-languages.png")

    # chosen in the browser's own captions menu instead: the switcher follows
    page.evaluate(f"""() => {{
      const tracks = document.querySelector('{media}').textTracks;
      tracks[1].mode = 'hidden';
      tracks[0].mode = 'showing';
    }}""")
    expect(page.locator("#player .track-choice")).to_have_value("de")
    page.select_option("#player .track-choice", "")
    assert [t["mode"] for t in page.evaluate(TRACKS, media)] == ["hidden", "hidden"]


def test_the_glossary_is_saved_and_there_after_a_reload(chromium, server):
    """Two terms added and saved are there after a reload; a row without a term is refused
    with the API's message, and what was saved stays."""
    page = chromium.first_page()
    page.goto(server.url + "/")
    session_id = new_session(page, server, DATA / "speech.wav")
    page.goto(f"{server.url}/sessions/{session_id}")
    expect(page.locator("#glossary-empty")).to_be_visible()
    entries = [
        {"term": "Subcue", "translation": "Subcue", "note": "the product: never translated"},
        {"term": "cue", "translation": "Untertitel", "note": ""},
    ]
    for number, entry in enumerate(entries, start=1):
        page.click("#glossary-add")
        row = page.locator("#glossary tbody tr").nth(number - 1)
        for field, value in entry.items():
            row.locator(f"input[name={field}]").fill(value)
    page.click("#glossary-add")  # left blank: dropped on save
    asks_again = f"**/api/estimate?*session_id={session_id}*"  # the estimate counts the glossary
    with page.expect_request(asks_again):
        page.click("#glossary-save")
    expect(page.locator("#glossary-status")).to_have_text("Saved: 2 terms.")
    expect(page.locator("#glossary tbody tr")).to_have_count(2)

    page.reload()
    expect(page.locator("#glossary tbody tr")).to_have_count(2)
    shown = page.evaluate("""() => Array.from(document.querySelectorAll('#glossary tbody tr'))
      .map((tr) => Object.fromEntries(Array.from(tr.querySelectorAll('input'))
        .map((i) => [i.name, i.value])))""")
    assert shown == entries
    shot(page, "session-glossary.png")

    page.click("#glossary-add")
    page.locator("#glossary tbody tr").nth(2).locator("input[name=note]").fill("no term")
    page.click("#glossary-save")
    expect(page.locator("#glossary-status")).to_have_text("Glossary entry 3 has no term.")
    expect(page.locator("#glossary-status")).to_have_class("error")
    saved = page.request.get(f"{server.url}/api/sessions/{session_id}").json()["glossary"]
    assert saved == entries


def test_a_subtitle_file_is_listed_by_its_cues_and_translated_without_a_player(
    chromium, server, stub, started, tmp_path
):
    """A session of one .srt: listed with its cue count; a Gemini job over it has downloads
    in its language and no player (there is nothing to play)."""
    stub.reset()
    srt = tmp_path / "talk.srt"
    srt.write_text(SUBTITLES)
    page = chromium.first_page()
    page.goto(server.url + "/")
    session_id = new_session(page, server, srt)
    page.goto(f"{server.url}/sessions/{session_id}")
    expect(page.locator("#files li")).to_have_text(
        re.compile(r"^talk\.srt — SRT subtitles, 2 cues")
    )
    page.select_option("#start-job select[name=engine]", "gemini")
    page.select_option("#start-job select[name=target_language]", "de")
    expect(page.locator("#start-job .estimate")).to_have_text(re.compile(
        r"^Estimate: about \$0\.0\d{3}, at most \$0\.\d{4} · 1 Gemini call · about .*"
        r"\(the text translations included\)\.$"))  # fmt: skip
    page.click("#start-job button[type=submit]")
    link = page.locator("#session-jobs a")
    expect(link).to_contain_text("translate talk.srt → de (gemini)")
    started.append(link.get_attribute("href").rsplit("/", 1)[1])
    link.click()
    expect(page.locator("#status")).to_have_text("finished", timeout=30_000)
    group = page.locator("#downloads li[data-language=de]")
    expect(group.locator("a")).to_have_text(["talk.de.srt", "talk.de.vtt", "talk.de.json"])
    expect(page.locator("#player")).to_be_hidden()
    expect(page.locator("#player audio, #player video")).to_have_count(0)


def test_a_burned_video_plays_on_the_finished_page(chromium, server, stub, started):
    """video=burn from the form: the finished page plays the burned .mp4 (the subtitles are in
    the picture, so no track) and the downloads list it under Video. (The burn's progress in
    seconds is the API's, checked in test_video.)"""
    stub.reset()
    page = chromium.first_page()
    page.goto(server.url + "/")
    page.select_option("#engine", "gemini")
    page.select_option("#target_language", "de")
    page.select_option("#video", "burn")
    page.set_input_files("#file", str(DATA / "speech.mp4"))
    page.click("#submit")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    started.append(page.url.rsplit("/", 1)[1])
    expect(page.locator("#status")).to_have_text("finished", timeout=60_000)
    expect(page.locator("#progress-text")).to_have_text(re.compile(r"^(\d+) of \1 steps done$"))
    video = page.locator("#player video")
    expect(video).to_have_count(1)
    assert video.get_attribute("src").endswith("/speech.burned.mp4?inline=1")
    page.wait_for_function("() => document.querySelector('#player video').readyState >= 1")
    assert page.evaluate("() => document.querySelector('#player video').textTracks.length") == 0
    expect(page.locator("#player figcaption")).to_contain_text("German (de) subtitles burned in")
    expect(page.locator("#downloads")).to_contain_text("speech.burned.mp4")
    expect(page.locator("#editor .cue").first).to_be_visible()  # the editor plays the burn
    expect(page.locator("#player figure")).to_be_visible()
    expect(page.locator("#editor")).not_to_have_class(re.compile(r"\bno-media\b"))
    shot(page, "job-burned.png")
