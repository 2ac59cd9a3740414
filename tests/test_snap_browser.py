"""Snap to speech in the cue editor, in a real headless Chromium against gunicorn, a real worker
and Redis, the Gemini stand-in answering: a cue moved off its speech is put back on the speech
the job detected by one key, saved, and still there after a reload; the strip under the player
draws the speech; the snapping keeps clear of neighbours and of far speech."""

from __future__ import annotations

import pytest
import srt
from playwright.sync_api import expect

from .browser import shot
from .helpers import DATA, gemini_env
from .test_editor_browser import clock, finished_job, open_editor, seconds_of, shows, srt_of

pytestmark = pytest.mark.browser

OFF_S = 0.3
"""How far the test moves a cue's start later and its end earlier before snapping it back."""


@pytest.fixture(scope="module")
def env(base_env, stub) -> dict:
    """Settings shared by gunicorn and the worker: own queue, the stand-in."""
    return gemini_env(base_env, stub.url, "subcue-snap-browser")


SPEECH_DRAWN = """() => {
  const strip = document.getElementById("editor-speech");
  if (!strip.width || !strip.height) return false;
  const dots = strip.getContext("2d").getImageData(0, 0, strip.width, strip.height).data;
  let green = 0;
  for (let i = 0; i < dots.length; i += 4) if (dots[i] < 120 && dots[i + 1] > 130) green += 1;
  return green > 100;
}"""
"""The strip under the player shows speech: green among its pixels."""


def snappable(answer: dict) -> tuple[int, float, float]:
    """A cue that, moved OFF_S inwards at both ends, has a speech onset and offset to go back
    to: within 1 s, farther than a nudge, clear of its neighbours by the style's gap. Returns
    its index and the onset and offset it should land on."""
    cues, gap = answer["cues"], answer["min_gap_s"]
    onsets = [a for a, _ in answer["speech"]]
    offsets = [b for _, b in answer["speech"]]
    for k in range(1, len(cues) - 1):
        start, end = cues[k]["start"] + OFF_S, cues[k]["end"] - OFF_S
        if end - start < 0.5:
            continue
        onset = min(onsets, key=lambda t: abs(t - start))
        offset = min(offsets, key=lambda t: abs(t - end))
        if (0.15 < abs(onset - start) < 0.9 and 0.15 < abs(offset - end) < 0.9
                and onset >= cues[k - 1]["end"] + gap and offset <= cues[k + 1]["start"] - gap
                and offset - onset > 0.5):  # fmt: skip
            return k, onset, offset
    raise AssertionError(f"no cue to snap among {cues} over {answer['speech']}")


def test_a_cue_moved_off_its_speech_snaps_back_by_key_and_stays_after_a_reload(
    chromium, server, stub
):
    """The stand-in's cues, put on the detected speech by the job; one moved 0.3 s inwards at
    both ends with the nudge keys and saved so, then Alt+S: its start and end are on the speech's
    onset and offset (to 50 ms), unsaved until Ctrl+S, and in the SRT and the list after a
    reload."""
    stub.reset()
    page = chromium.first_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    job_id = finished_job(chromium, page, server, DATA / "speech.wav")
    answer = page.request.get(f"{server.url}/api/jobs/{job_id}/cues").json()
    k, onset, offset = snappable(answer)
    rows = open_editor(page, server, job_id)
    expect(page.locator("#editor-speech")).to_be_visible()
    page.wait_for_function(SPEECH_DRAWN)
    row = rows.nth(k)
    text = row.locator(".cue-text")
    text.click()
    for _ in range(round(OFF_S / 0.1)):
        text.press("Alt+BracketRight")
        text.press("Alt+Shift+BracketLeft")
    start, end = answer["cues"][k]["start"] + OFF_S, answer["cues"][k]["end"] - OFF_S
    expect(row.locator(".cue-start")).to_have_text(clock(start))
    expect(row.locator(".cue-end")).to_have_text(clock(end))
    text.press("Control+s")  # saved off its speech, as a careless edit would leave it
    expect(page.locator("#editor-status")).to_contain_text("Saved as revision 1: ")

    text.press("Alt+s")
    expect(page.locator("#editor-status")).to_contain_text(f"Cue {k + 1} snapped to the speech")
    shows(page, "1", "Unsaved edits")
    times = row.locator(".cue-start"), row.locator(".cue-end")
    snapped = [seconds_of(t.inner_text()) for t in times]
    assert snapped[0] == pytest.approx(onset, abs=0.05)
    assert snapped[1] == pytest.approx(offset, abs=0.05)
    page.locator("#editor").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.querySelector('#editor').offsetTop - 8)")
    shot(page, "editor-snap.png", full_page=False)

    text.press("Control+s")
    expect(page.locator("#editor-status")).to_contain_text("Saved as revision 2: ")
    page.reload()
    shows(page, "2", "All saved")
    expect(times[0]).to_have_text(clock(snapped[0]))
    expect(times[1]).to_have_text(clock(snapped[1]))
    cue = list(srt.parse(srt_of(page, server, job_id)))[k]
    assert cue.start.total_seconds() == pytest.approx(onset, abs=0.05)
    assert cue.end.total_seconds() == pytest.approx(offset, abs=0.05)

    # Speech too far, or taken by a neighbour: that edge stays; nothing near: nothing moves.
    cases = page.evaluate("""async () => {
      const { snapped } = await import("/static/editor/speech.js");
      const cue = (start, end) => ({ start, end, text: "x" });
      const times = (found) => found.cues.map((c) => [c.start, c.end]);
      return [
        times(snapped([cue(5, 6)], [0], [[4.5, 6.4]])),
        snapped([cue(5, 6)], [0], [[3.9, 7.2]]).moved,
        times(snapped([cue(1, 2), cue(2.5, 3.5)], [0, 1], [[0.9, 2.3], [2.35, 3.4]],
                      { gap: 0.083 })),
        snapped([cue(0, 1), cue(1.2, 2)], [0], [[1.1, 1.9]], { gap: 0.083 }).moved,
        times(snapped([cue(8, 9)], [0], [[7.5, 9.6]], { mediaEnd: 9.2 })),
      ];
    }""")  # fmt: skip
    assert cases == [
        [[4.5, 6.4]],
        [],
        [[0.9, 2.3], [2.5, 3.4]],  # the second's start stays: the onset is within the gap
        [],
        [[7.5, 9]],  # the offset is past the media's end
    ]
