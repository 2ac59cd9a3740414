"""The cue editor's API: read a finished job's cues, save a correction as a new revision (the
SRT, VTT and JSON written again), refuse a stale or broken save without changing anything, read
an older revision and undo to it; only finished jobs, only the owner's, nothing left after
delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import srt

from .helpers import DATA, job_of, make_app, upload, wait_for_status

END = {"finished", "failed", "cancelled"}


@pytest.fixture
def client(module_gemini_env, module_gemini_worker):
    return make_app(module_gemini_env).test_client()


@pytest.fixture
def job(client, stub) -> dict:
    stub.reset()
    found = upload(client, DATA / "speech.wav", engine="gemini", target_language="de").get_json()
    found = wait_for_status(client, found["id"], END, timeout=60)
    assert found["status"] == "finished", found["error"]
    return found


def files(client, job_id: str) -> dict[str, bytes]:
    """Every output's bytes, by name."""
    fresh = client.get(f"/api/jobs/{job_id}").get_json()
    return {o["name"]: client.get(o["url"]).data for o in fresh["outputs"]}


def test_a_correction_is_saved_as_a_revision_and_written_into_every_output(client, job):
    url = f"/api/jobs/{job['id']}/cues"
    first = client.get(url).get_json()
    assert first["revision"] == first["latest"] == 0 and first["language"] == "de"
    assert first["file_id"] == job["outputs"][0]["file_id"]
    assert len(first["cues"]) >= 3 and first["duration_s"] == pytest.approx(17.574, abs=0.01)
    assert all({"start", "end", "text", "source_text", "check"} <= set(c) for c in first["cues"])
    original = files(client, job["id"])

    cues = [dict(c) for c in first["cues"]]
    cues[1]["text"] = "Eine Förderung der Stadt."
    cues[1]["start"] = round(cues[1]["start"] + 0.25, 3)
    saved = client.put(url, json={"base_revision": 0, "cues": cues})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["revision"] == 1
    after = files(client, job["id"])
    subs = list(srt.parse(after["speech.de.srt"].decode()))
    assert subs[1].content == "Eine Förderung der Stadt."
    assert subs[1].start.total_seconds() == pytest.approx(cues[1]["start"], abs=0.001)
    assert "Eine Förderung der Stadt." in after["speech.de.vtt"].decode()
    document = json.loads(after["speech.de.json"])
    assert document["segments"][1]["text"] == "Eine Förderung der Stadt."
    assert client.get(url).get_json()["revision"] == 1
    assert client.get(f"{url}?revision=0").get_json()["cues"] == first["cues"]

    # A second tab, still on revision 0: refused, nothing changed.
    stale = client.put(url, json={"base_revision": 0, "cues": first["cues"]})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    assert files(client, job["id"]) == after

    # Undo: revision 0's cues saved again, the outputs as the engine made them.
    undo = client.put(url, json={"base_revision": 1, "cues": first["cues"]})
    assert undo.status_code == 200 and undo.get_json()["revision"] == 2
    assert files(client, job["id"]) == original


def test_the_speech_detected_reaches_the_editor_and_a_save_keeps_it(client, job):
    """The speech regions the job detected (SPEECH_TIMING is on) are in the JSON output and
    the cues API, in order, to the millisecond, within the media; a save carries them on."""
    url = f"/api/jobs/{job['id']}/cues"
    first = client.get(url).get_json()
    speech = first["speech"]
    assert len(speech) >= 2, speech  # the clip has pauses between its sentences
    assert speech == sorted(speech)
    assert all(0 <= a < b <= first["duration_s"] + 0.001 for a, b in speech)
    assert all(round(t, 3) == t for pair in speech for t in pair)
    assert sum(b - a for a, b in speech) < 0.95 * first["duration_s"]  # the pauses are not in it
    assert first["min_gap_s"] == pytest.approx(2 / 24, abs=0.01)  # netflix: two frames
    assert json.loads(files(client, job["id"])["speech.de.json"])["speech"] == speech

    cues = [dict(c) for c in first["cues"]]
    cues[0]["text"] = "Von Hand."
    assert client.put(url, json={"base_revision": 0, "cues": cues}).status_code == 200
    assert client.get(url).get_json()["speech"] == speech
    assert json.loads(files(client, job["id"])["speech.de.json"])["speech"] == speech


def test_a_correction_is_written_into_the_bilingual_files_of_its_language(client, stub):
    """bilingual=true, English heard, German and French: saving German cues writes
    speech.en-de.srt/.vtt again (the source line above the corrected translation) and leaves
    the French pair alone."""
    stub.reset()
    job = upload(client, DATA / "speech.wav", engine="gemini", target_languages="en,de,fr",
                 bilingual="true", source_language="en").get_json()  # fmt: skip
    job = wait_for_status(client, job["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    url = f"/api/jobs/{job['id']}/cues?language=de"
    cues = [dict(c) for c in client.get(url).get_json()["cues"]]
    before = files(client, job["id"])
    cues[0]["text"] = "Korrigiert von Hand."
    assert client.put(url, json={"base_revision": 0, "cues": cues}).status_code == 200
    after = files(client, job["id"])

    pair = list(srt.parse(after["speech.en-de.srt"].decode()))
    assert pair[0].content.split("\n")[-1] == "Korrigiert von Hand."
    assert pair[0].content.split("\n")[0] in cues[0]["source_text"]  # the heard line first
    assert "Korrigiert von Hand." in after["speech.en-de.vtt"].decode()
    for name in ("speech.en-fr.srt", "speech.en-fr.vtt", "speech.fr.srt", "speech.en.srt"):
        assert after[name] == before[name], name
    assert "speech.en-de.json" not in after


@pytest.mark.parametrize(
    ("change", "number", "words"),
    [
        (lambda cues: cues[2].update(end=cues[2]["start"] - 0.5), 3, "ends before it starts"),
        (lambda cues: cues[0].update(end=cues[1]["start"] + 0.4), 1, "overlaps the next"),
        (lambda cues: cues[-1].update(end=60.0), None, "after the media ends"),
        (lambda cues: cues[1].update(text="word " * 60), 2, "more text than a subtitle"),
        (lambda cues: cues[1].update(text="  "), 2, "has no text"),
        (lambda cues: cues[2].update(speaker="A" * 41), 3, "at most 40 characters"),
        (lambda cues: cues[0].update(speaker="<b>Anna</b>"), 1, "cannot hold tags"),
        (
            lambda cues: cues[1].update(text="One line.", speakers=["Anna", "Marco"]),
            2,
            "two for a cue of two",
        ),
    ],
)
def test_a_broken_save_names_the_cue_and_changes_nothing(client, job, change, number, words):
    url = f"/api/jobs/{job['id']}/cues"
    cues = [dict(c) for c in client.get(url).get_json()["cues"]]
    before = files(client, job["id"])
    change(cues)
    refused = client.put(url, json={"base_revision": 0, "cues": cues})
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "bad_cue" and error["cue"] == (number or len(cues))
    assert words in error["message"]
    assert files(client, job["id"]) == before
    assert client.get(url).get_json()["latest"] == 0


def test_only_the_owner_s_finished_jobs_are_edited_and_delete_removes_every_revision(
    client, job, module_gemini_env, stub
):
    url = f"/api/jobs/{job['id']}/cues"
    cues = client.get(url).get_json()["cues"]
    assert client.put(url, json={"base_revision": 0, "cues": cues}).status_code == 200
    stranger = make_app(module_gemini_env).test_client()
    assert stranger.get(url).status_code == 404
    assert stranger.put(url, json={"base_revision": 1, "cues": cues}).status_code == 404
    assert client.get(f"{url}?language=fr").status_code == 404
    assert client.get(f"{url}?revision=7").status_code == 404

    storage = Path(module_gemini_env["STORAGE_URL"].removeprefix("file://")) / "jobs" / job["id"]
    assert list(storage.rglob("revisions/*/*/*.json"))
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert not storage.exists()

    stub.reset()  # a running job (its call held by the stand-in) cannot be edited
    stub.latency = 30.0
    running = upload(client, DATA / "speech.wav", engine="gemini").get_json()
    stub.wait_for_calls(1, timeout=20)
    assert job_of(client, running["id"])["status"] == "running"
    refused = client.put(f"/api/jobs/{running['id']}/cues",
                         json={"base_revision": 0, "cues": cues})  # fmt: skip
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_editable"
    assert client.post(f"/api/jobs/{running['id']}/cancel").status_code == 200
    stub.latency = 0.0
