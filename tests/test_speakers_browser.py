"""Speakers on the job page, in a real headless Chromium against gunicorn, a real worker and
Redis, the Gemini stand-in answering two people: the editor shows who speaks each cue, renames
one speaker everywhere in one step, and the saved name is there after a reload and in the
downloads; the player shows a cue two people share (screenshot)."""

from __future__ import annotations

import re

import pysubs2
import pytest
from playwright.sync_api import expect

from .browser import ARTIFACTS, shot
from .helpers import DATA, gemini_env
from .test_speakers import CHUNK_S, conversation

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def env(base_env, stub) -> dict:
    """Settings shared by gunicorn and the worker: own queue, the stand-in, three chunks."""
    return gemini_env(base_env, stub.url, "subcue-speakers-browser", GEMINI_CONCURRENCY="1",
                      CHUNK_SECONDS=CHUNK_S)  # fmt: skip


def output_of(page, server, job_id: str, suffix: str) -> str:
    """The job's output ending in `suffix` as a download gives it now."""
    outputs = page.request.get(f"{server.url}/api/jobs/{job_id}").json()["outputs"]
    url = next(o["url"] for o in outputs if o["name"].endswith(suffix))
    return page.request.get(server.url + url).text()


def test_a_speaker_renamed_everywhere_is_saved_and_shown(chromium, server, stub):
    """S1 becomes Marco in every cue in one step; saved, reloaded, and in the WebVTT's voice
    tags. The player shows a cue of Anna and Marco with a dash on each line."""
    stub.reset()
    conversation(stub)
    page = chromium.first_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    media = DATA / "speech.mp4"
    made = page.request.post(server.url + "/api/jobs", multipart={
        "file": {"name": media.name, "mimeType": "video/mp4", "buffer": media.read_bytes()},
        "engine": "gemini", "target_language": "en"})  # fmt: skip
    assert made.status == 202, made.text()
    job_id = made.json()["id"]

    def status() -> str:
        return page.request.get(f"{server.url}/api/jobs/{job_id}").json()["status"]

    chromium.wait_until(lambda: status() in {"finished", "failed"}, timeout=60,
                        message="the job to end")  # fmt: skip
    assert status() == "finished"
    page.goto(f"{server.url}/jobs/{job_id}")
    speakers = page.locator("#editor-cues .cue-speaker")
    expect(speakers.first).to_have_value(re.compile("Anna"), timeout=10_000)
    said = speakers.evaluate_all("(fields) => fields.map((f) => f.value)")
    assert set(said) <= {"Anna", "S1", "Anna / S1", "S1 / Anna"}, said
    assert {"Anna / S1", "S1 / Anna"} & set(said), said  # cues both people share

    page.select_option("#editor-speaker-from", "S1")
    page.fill("#editor-speaker-to", "Marco")
    page.click("#editor-speaker-rename")
    expect(page.locator("#editor-status")).to_contain_text("S1 is Marco in")
    renamed = speakers.evaluate_all("(fields) => fields.map((f) => f.value)")
    assert renamed == [v.replace("S1", "Marco") for v in said]
    page.click("#editor-save")
    expect(page.locator("#editor-status")).to_contain_text("Saved as revision 1")

    page.reload()
    expect(speakers.first).to_have_value(re.compile("Anna"), timeout=10_000)
    assert speakers.evaluate_all("(fields) => fields.map((f) => f.value)") == renamed
    vtt = output_of(page, server, job_id, ".en.vtt")
    assert "<v Marco>" in vtt and "<v S1>" not in vtt
    names = [e.name for e in pysubs2.SSAFile.from_string(output_of(page, server, job_id, ".ass"))]
    assert any("Marco" in n for n in names) and not any("S1" in n for n in names)
    expect(page.locator("#editor-not-remade")).to_be_hidden()  # the .ass is written again too

    # The player at a cue two people share: both lines shown, each with its dash.
    dual = next(n for n, v in enumerate(renamed) if " / " in v)
    page.locator("#editor-cues .cue-start").nth(dual).click()
    page.wait_for_function(
        """() => {
          const v = document.querySelector('#editor-media video');
          return !v.seeking && v.readyState >= 2 && v.textTracks[0].activeCues.length;
        }"""
    )
    page.evaluate("() => document.querySelector('#editor-media video').pause()")
    shown = page.evaluate("""() => Array.from(
        document.querySelector('#editor-media video').textTracks[0].activeCues)
        .map((c) => c.getCueAsHTML().textContent)""")  # fmt: skip
    assert any(text.count("- ") == 2 for text in shown), shown
    player = page.locator("#editor-media video")
    player.scroll_into_view_if_needed()
    shot(page, "speakers-page.png", full_page=False)
    player.screenshot(path=str(ARTIFACTS / "speakers-player.png"))
