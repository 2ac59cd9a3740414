"""The cue editor on the job page, in a real headless Chromium against gunicorn, a real worker
and Redis, the Gemini stand-in answering at once: an edit is saved as a revision and is in the
downloads, a stale tab is refused, unsaved edits survive a reload, a revision restored is the
undo; the keys, splitting and merging, what to check first and a refused save on a two-minute
clip, with screenshots of it at 1280x800 and in a narrow window."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import srt
from playwright.sync_api import expect

from .browser import SUBTITLES, Dialogs, shot
from .helpers import DATA, gemini_env

pytestmark = pytest.mark.browser


LONG = (
    "This sentence is far too long to be read in the three seconds it stays on the screen, "
    "so the editor marks it"
)
"""A phrase the stand-in answers for some cues: too fast to read, so worth a look first."""


# --- fixtures ---


@pytest.fixture(scope="module")
def env(base_env, stub) -> dict:
    """Settings shared by gunicorn and the worker: own queue, the stand-in."""
    return gemini_env(base_env, stub.url, "subcue-editor-browser")


@pytest.fixture(scope="module")
def two_minute_clip(tmp_path_factory) -> Path:
    """A 16:9 video of two minutes: a plain picture and the spoken clip over and over."""
    path = tmp_path_factory.mktemp("editor-media") / "talk.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x23395d:s=640x360:r=10",
         "-stream_loop", "6", "-i", str(DATA / "speech.wav"), "-t", "120", "-c:v", "libx264",
         "-preset", "veryfast", "-crf", "38", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


# --- helpers ---


def finished_job(chromium, page, server, media: Path, **form: str) -> str:
    """A Gemini job over `media` (German, unless `form` says otherwise), started through the
    API as the page's owner and run to the end; returns its id."""
    made = page.request.post(
        server.url + "/api/jobs",
        multipart={
            "file": {"name": media.name, "mimeType": "application/octet-stream",
                     "buffer": media.read_bytes()},
            "engine": "gemini",
            "target_language": "de",
            **form,
        },
    )  # fmt: skip
    assert made.status == 202, made.text()
    job_id = made.json()["id"]

    def status():
        return page.request.get(f"{server.url}/api/jobs/{job_id}").json()["status"]

    chromium.wait_until(lambda: status() in {"finished", "failed", "cancelled"}, timeout=60,
                        message="the job to end")  # fmt: skip
    assert status() == "finished"
    return job_id


def open_editor(page, server, job_id: str):
    """The job's page with its editor loaded; returns the cue rows."""
    page.goto(f"{server.url}/jobs/{job_id}")
    expect(page.locator("#editor")).to_be_visible(timeout=10_000)
    rows = page.locator("#editor-cues .cue")
    expect(rows.first).to_be_visible()
    return rows


def srt_of(page, server, job_id: str) -> str:
    """The job's German SRT as a download gives it now."""
    outputs = page.request.get(f"{server.url}/api/jobs/{job_id}").json()["outputs"]
    url = next(o["url"] for o in outputs if o["name"].endswith(".de.srt"))
    response = page.request.get(server.url + url)
    assert response.ok, url
    return response.text()


def clock(seconds: float) -> str:
    """Seconds as the editor writes them: mm:ss.mmm."""
    ms = round(seconds * 1000)
    return f"{ms // 60000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def seconds_of(text: str) -> float:
    """mm:ss.mmm back to seconds."""
    minutes, rest = text.split(":")
    return int(minutes) * 60 + float(rest)


def shows(page, revision: str, state: str) -> None:
    """The editor shows that revision, and says whether its edits are saved."""
    expect(page.locator("#editor-revision")).to_have_value(revision)
    expect(page.locator("#editor-state")).to_have_text(state)


PLAYER_TIME = "() => document.querySelector('#editor-media video, #editor-media audio').currentTime"
TRACK_TEXTS = """() => Array.from(document.querySelector('#editor-media video, #editor-media audio')
  .textTracks[0].cues || []).map((c) => c.text)"""


# --- tests ---


def test_an_edit_is_saved_downloaded_refused_in_a_stale_tab_kept_unsaved_and_undone(
    chromium, server, stub
):
    """Edit a text and nudge both ends, save with Ctrl+S: revision 1, in the SRT and the
    player's track, there after a reload. A second tab still on revision 0 is refused with the
    server's message and reloads. Unsaved edits are offered back after a reload. Restoring
    revision 0 gives back the SRT the engine made."""
    stub.reset()
    page = chromium.first_page()
    dialogs = Dialogs(page)
    job_id = finished_job(chromium, page, server, DATA / "speech.wav")
    original = srt_of(page, server, job_id)
    rows = open_editor(page, server, job_id)
    shows(page, "0", "All saved")
    stale = chromium.context.new_page()
    open_editor(stale, server, job_id)
    page.bring_to_front()

    second = rows.nth(1)
    start = seconds_of(second.locator(".cue-start").inner_text())
    end = seconds_of(second.locator(".cue-end").inner_text())
    text = second.locator(".cue-text")
    text.fill("Eine Förderung der Stadt.")
    shows(page, "0", "Unsaved edits")
    text.press("Alt+BracketRight")  # start 0.1 s later, the player there
    expect(second.locator(".cue-start")).to_have_text(clock(start + 0.1))
    assert page.evaluate(PLAYER_TIME) == pytest.approx(start + 0.1, abs=0.01)
    second.locator(".nudge[data-edge=end][data-step='-1']").click()  # end 0.1 s earlier
    expect(second.locator(".cue-end")).to_have_text(clock(end - 0.1))
    text.press("Control+s")
    expect(page.locator("#editor-status")).to_contain_text("Saved as revision 1: ")
    shows(page, "1", "All saved")
    page.wait_for_function(f"() => ({TRACK_TEXTS})()[1] === 'Eine Förderung der Stadt.'")

    page.reload()  # nothing unsaved: no question
    expect(rows.nth(1).locator(".cue-text")).to_have_value("Eine Förderung der Stadt.")
    expect(rows.nth(1).locator(".cue-start")).to_have_text(clock(start + 0.1))
    shows(page, "1", "All saved")
    assert dialogs.seen == []
    cue = list(srt.parse(srt_of(page, server, job_id)))[1]
    assert cue.content == "Eine Förderung der Stadt."
    assert cue.start.total_seconds() == pytest.approx(start + 0.1, abs=0.001)
    assert cue.end.total_seconds() == pytest.approx(end - 0.1, abs=0.001)

    # The other tab still shows revision 0: its save is refused, and nothing changes.
    saved = srt_of(page, server, job_id)
    stale.bring_to_front()
    stale.locator("#editor-cues .cue-text").first.fill("Veraltet.")
    stale.keyboard.press("Control+s")
    offer = stale.locator("#editor-offer")
    expect(offer).to_contain_text("saved elsewhere meanwhile (revision 1")
    shot(stale, "editor-conflict.png")
    assert srt_of(page, server, job_id) == saved
    offer.get_by_role("button", name="Reload").click()
    shows(stale, "1", "All saved")
    expect(stale.locator("#editor-cues .cue-text").nth(1)).to_have_value(
        "Eine Förderung der Stadt."
    )
    stale.close()

    # Unsaved edits: leaving asks, and the reloaded page offers them back.
    page.bring_to_front()
    third = rows.nth(2).locator(".cue-text")
    third.click()
    third.fill("Noch nicht gespeichert.")
    page.reload()
    assert dialogs.seen == ["beforeunload"]
    expect(page.locator("#editor-offer")).to_contain_text("edits of revision 1 that were not saved")
    expect(rows.nth(2).locator(".cue-text")).not_to_have_value("Noch nicht gespeichert.")
    page.get_by_role("button", name="Restore unsaved edits").click()
    expect(rows.nth(2).locator(".cue-text")).to_have_value("Noch nicht gespeichert.")
    shows(page, "1", "Unsaved edits")
    page.click("#editor-discard")
    expect(rows.nth(2).locator(".cue-text")).not_to_have_value("Noch nicht gespeichert.")
    shows(page, "1", "All saved")
    assert dialogs.seen == ["beforeunload", "confirm"]

    # Undo: revision 0, looked at and restored, is the SRT the engine made.
    page.select_option("#editor-revision", "0")
    shows(page, "0", "Read-only")
    expect(rows.nth(1).locator(".cue-text")).not_to_have_value("Eine Förderung der Stadt.")
    page.get_by_role("button", name="Restore this revision").click()
    expect(page.locator("#editor-status")).to_contain_text("Revision 0 restored as revision 2")
    shows(page, "2", "All saved")
    assert srt_of(page, server, job_id) == original


def test_a_two_minute_clip_is_worked_through_by_keys_and_what_to_check_first(
    chromium, server, stub, two_minute_clip
):
    """On a two-minute video at 1280x800: the marked cues are counted and reached one by one
    (the player following), split and merge at the caret, a refused save names its cue, the
    list follows the player, the last save is undone, the other language is picked; and the
    screenshots to look at."""
    stub.reset()
    stub.configure({"script": [LONG if k % 9 == 4 else f"Sentence number {k + 1} of the talk."
                               for k in range(60)]})  # fmt: skip
    page = chromium.first_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    job_id = finished_job(chromium, page, server, two_minute_clip, target_languages="de,fr",
                          bilingual="true")  # fmt: skip
    rows = open_editor(page, server, job_id)
    shot(page, "editor-page.png", full_page=False)
    assert rows.count() >= 30
    page.wait_for_function("() => document.querySelector('#editor-media video').readyState >= 1")
    marked = page.locator("#editor-cues .cue.marked")
    assert marked.count() >= 5
    expect(page.locator("#editor-to-check")).to_have_text(f"{marked.count()} to check")
    page.locator("#editor").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.querySelector('#editor').offsetTop - 8)")
    shot(page, "editor-1280.png", full_page=False)

    # Next to check, from the first cue: the marked ones in turn, focused, the player there.
    marked_numbers = [int(n) for n in marked.locator(".cue-number").all_inner_texts()]
    rows.first.locator(".cue-text").focus()
    number = 1
    for press in (lambda: page.click("#editor-next-check"), lambda: page.keyboard.press("Alt+n")):
        for _ in range(2):
            press()
            number = next(n for n in marked_numbers if n > number)
            target = rows.nth(number - 1)
            expect(target.locator(".cue-text")).to_be_focused()
            start = seconds_of(target.locator(".cue-start").inner_text())
            page.wait_for_function(f"() => Math.abs(({PLAYER_TIME})() - {start}) < 0.01")
    expect(target.locator(".reason").first).to_be_visible()
    page.keyboard.press("Alt+ArrowUp")
    expect(rows.nth(number - 2).locator(".cue-text")).to_be_focused()  # the cue before it
    page.keyboard.press("Alt+ArrowDown")
    expect(target.locator(".cue-text")).to_be_focused()
    page.wait_for_function(
        """() => {
          const v = document.querySelector('#editor-media video');
          return !v.seeking && v.readyState >= 2 && v.textTracks[0].activeCues.length;
        }"""
    )
    shot(page, "editor-marked.png", full_page=False)

    # Split at the caret (at the line break), then merge back: the text as it was.
    count = rows.count()
    words = target.locator(".cue-text").input_value()
    cut = words.index("\n") if "\n" in words else words.index(" ", len(words) // 2)
    target.locator(".cue-text").evaluate(f"(t) => t.setSelectionRange({cut}, {cut})")
    page.keyboard.press("Alt+Enter")
    expect(rows).to_have_count(count + 1)
    first, second = rows.nth(number - 1), rows.nth(number)
    expect(first.locator(".cue-text")).to_have_value(words[:cut].strip())
    expect(second.locator(".cue-text")).to_have_value(words[cut:].strip())
    expect(second.locator(".cue-text")).to_be_focused()
    assert first.locator(".cue-end").inner_text() == second.locator(".cue-start").inner_text()
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+m")
    expect(rows).to_have_count(count)
    expect(first.locator(".cue-text")).to_have_value(
        f"{words[:cut].strip()}\n{words[cut:].strip()}"
    )
    end = seconds_of(first.locator(".cue-end").inner_text())
    page.keyboard.press("Alt+Shift+BracketLeft")  # its end 0.1 s earlier
    expect(first.locator(".cue-end")).to_have_text(clock(end - 0.1))

    # A cue without text is refused by the server: the message, and that cue shown.
    rows.nth(20).locator(".cue-text").fill("   ")
    page.keyboard.press("Control+s")
    expect(page.locator("#editor-status")).to_have_text(
        "Not saved: Cue 21 has no text; delete it instead."
    )
    expect(rows.nth(20)).to_have_class(re.compile(r"\bbad\b"))
    expect(rows.nth(20).locator(".cue-text")).to_be_focused()
    shot(page, "editor-refused.png", full_page=False)
    rows.nth(20).locator(".delete").click()
    expect(rows).to_have_count(count - 1)
    page.keyboard.press("Control+s")
    expect(page.locator("#editor-status")).to_contain_text("Saved as revision 1")
    expect(page.locator("#editor-undo")).to_be_visible()

    # The player moved on (by its own controls): the cue it is in is shown in the list.
    page.focus("#editor-media video")
    spoken = rows.nth(26)
    start, end = (seconds_of(spoken.locator(s).inner_text()) for s in (".cue-start", ".cue-end"))
    page.evaluate(
        f"document.querySelector('#editor-media video').currentTime = {(start + end) / 2}"
    )
    expect(spoken).to_have_class(re.compile(r"\bspeaking\b"))
    expect(page.locator("#editor-cues .cue.speaking")).to_have_count(1)
    assert spoken.evaluate("""(row) => {
      const list = row.parentElement.getBoundingClientRect(), box = row.getBoundingClientRect();
      return box.top >= list.top && box.bottom <= list.bottom;
    }""")
    shot(page, "editor-midway.png", full_page=False)

    # Play and pause by keys, and from a cue's start time.
    video = "document.querySelector('#editor-media video')"
    page.keyboard.press("Alt+p")
    page.wait_for_function(f"() => !{video}.paused")
    page.keyboard.press("Control+Space")
    page.wait_for_function(f"() => {video}.paused")
    start = seconds_of(rows.nth(3).locator(".cue-start").inner_text())
    rows.nth(3).locator(".cue-start").click()
    page.wait_for_function(f"() => !{video}.paused && {video}.currentTime >= {start}")
    expect(rows.nth(3)).to_have_class(re.compile(r"\bspeaking\b"))
    page.keyboard.press("Alt+p")
    page.wait_for_function(f"() => {video}.paused")

    # Undo the last save: the deleted cue is back.
    page.click("#editor-undo")
    expect(page.locator("#editor-status")).to_contain_text(
        "Last save undone: revision 2 has the cues of revision 0."
    )
    expect(rows).to_have_count(count)
    shows(page, "2", "All saved")

    # The other language: its cues, and its track showing in the player.
    page.select_option("#editor-language", "fr")
    expect(rows.first.locator(".cue-text")).to_have_value(re.compile(r"^\[fr\] "))
    shows(page, "0", "All saved")
    showing = """() => Array.from(document.querySelector('#editor-media video').textTracks)
      .filter((t) => t.mode === 'showing').map((t) => t.language)"""
    assert page.evaluate(showing) == ["fr"]
    expect(page.locator("#editor-not-remade")).to_be_hidden()  # bilingual files follow a save

    page.set_viewport_size({"width": 600, "height": 900})
    page.locator("#editor").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.querySelector('#editor').offsetTop - 8)")
    shot(page, "editor-narrow.png", full_page=False)


def test_a_translated_subtitle_file_is_edited_without_a_player(chromium, server, stub, tmp_path):
    """A translated .srt has nothing to play: the list takes the width, its last cue cannot
    end after the file did, and an edit is saved into its SRT."""
    stub.reset()
    path = tmp_path / "talk.srt"
    path.write_text(SUBTITLES)
    page = chromium.first_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    job_id = finished_job(chromium, page, server, path)
    rows = open_editor(page, server, job_id)
    expect(rows).to_have_count(2)
    expect(page.locator("#editor")).to_have_class(re.compile(r"\bno-media\b"))
    expect(page.locator("#editor-media")).to_be_hidden()
    last = rows.nth(1).locator(".cue-text")
    last.press("Alt+Shift+BracketRight")
    expect(page.locator("#editor-status")).to_have_text(
        "Cue 2 cannot end later: a translated subtitle file keeps its length."
    )
    last.fill("leichter zu folgen.")
    page.click("#editor-save")
    expect(page.locator("#editor-status")).to_contain_text("Saved as revision 1: 2 cues")
    assert list(srt.parse(srt_of(page, server, job_id)))[1].content == "leichter zu folgen."
    shot(page, "editor-subtitle-file.png", full_page=False)
