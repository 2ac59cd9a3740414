"""Subtitle files in, many languages out, with the Gemini stand-in and the real google-genai
client: cue for cue at the input's times, answers that forget cues asked again (only those),
one audio call for several languages, the glossary in every call, broken files refused, and
cancel/delete of a text translation."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pysubs2
import pytest

from .helpers import (
    DATA,
    job_of,
    make_app,
    stays,
    upload,
    wait_for,
    wait_for_status,
)

END = {"finished", "failed", "cancelled"}
GEMINI_SETTINGS = {"GEMINI_CUES_PER_CALL": "10", "CHUNK_SECONDS": "30"}


@pytest.fixture(autouse=True)
def clean_stub(stub):
    stub.reset()


@pytest.fixture
def client(module_gemini_env, module_gemini_worker):
    return make_app(module_gemini_env).test_client()


def forty_cues() -> str:
    """A 40-cue SRT with what real subtitles carry: italics, two-line cues, music notes, an
    asterisk line; times at odd milliseconds."""
    special = {0: "<i>Where are you going?</i>", 1: "I told you.\nI'm going home.",
               2: "♪ la la la ♪", 3: "*"}  # fmt: skip
    texts = [special.get(n % 7, f"Line number {n + 1}, said plainly.") for n in range(40)]
    blocks = []
    for n, text in enumerate(texts):
        start, end = 1.234 + n * 2.5, 1.234 + n * 2.5 + 1.987
        blocks.append(f"{n + 1}\n{_srt_time(start)} --> {_srt_time(end)}\n{text}\n")
    return "\n".join(blocks)


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def post_file(client, name: str, text: str, **form):
    """POST /api/jobs with one in-memory file."""
    data = {"file": (io.BytesIO(text.encode()), name), **form}
    return client.post("/api/jobs", data=data, content_type="multipart/form-data")


def output(client, job: dict, name: str) -> str:
    """The text of one output of a finished job."""
    found = next(o for o in job["outputs"] if o["name"] == name)
    return client.get(found["url"]).get_data(as_text=True)


def check_cue_for_cue(client, job: dict, source: str, name: str, language: str) -> str:
    """The job's output `name` has every cue of the subtitle file `source` at its exact times,
    each '[language] <its own text>' (the stand-ins' translation); returns the output."""
    text = output(client, job, name)
    original = pysubs2.SSAFile.from_string(source, keep_html_tags=True)
    translated = pysubs2.SSAFile.from_string(text, keep_html_tags=True)
    assert len(translated) == len(original)
    for before, after in zip(original, translated, strict=True):
        assert (after.start, after.end) == (before.start, before.end)
        assert after.text == f"[{language}] {before.text}"  # its own cue's translation
    return text


def test_a_40_cue_srt_in_two_languages_keeps_every_cue_and_its_time(client, stub):
    """The stand-in forgets a cue in every third answer: both outputs still have the 40 cues at
    the input's exact times, each with its own translation and its tags, and the cues sent
    for translation are at most 25 % more than the 80 needed."""
    source = forty_cues()
    stub.faults = [("forget", {}) if n % 3 == 0 else ("ok", {}) for n in range(30)]
    response = post_file(client, "film.en.srt", source, engine="gemini",
                         target_languages="de,fr")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    names = {o["name"] for o in job["outputs"]}
    assert {"film.de.srt", "film.de.vtt", "film.de.json", "film.fr.srt", "film.fr.vtt",
            "film.fr.json"} <= names  # fmt: skip
    for language in ("de", "fr"):
        srt = check_cue_for_cue(client, job, source, f"film.{language}.srt", language)
        assert "<i>Where are you going?</i>" in srt
    text_calls = [c for c in stub.calls_snapshot() if c.get("kind") == "text"]
    assert any(c["fault"] == "forget" for c in text_calls)
    asked_again = {(c["lang"], i) for c in text_calls if "were missing" in c["prompt"]
                   for i in c["cue_indexes"]}  # fmt: skip
    for language in ("de", "fr"):  # the cues asked again are the ones marked to check first
        document = json.loads(output(client, job, f"film.{language}.json"))
        marked = {n for n, s in enumerate(document["segments"]) if s.get("unsure")}
        assert marked == {i for lang, i in asked_again if lang == language}
    sent = sum(len(c["cue_indexes"]) for c in text_calls)
    assert 80 < sent <= 100, sent  # the forgotten cues were asked again, and only they


def test_a_vtt_in_gives_a_vtt_out(client, stub):
    """A WebVTT file comes back as WebVTT (and SRT), same cues, same times."""
    source = ("WEBVTT\n\nNOTE made by hand\n\nintro\n00:00:00.500 --> 00:00:02.000\nHello there."
              "\n\n00:00:02.500 --> 00:00:04.250 align:start\n<i>Two</i>\nlines.\n")  # fmt: skip
    response = post_file(client, "talk.vtt", source, engine="gemini", target_language="es")
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    vtt = output(client, job, "talk.es.vtt")
    assert vtt.startswith("WEBVTT")
    cues = pysubs2.SSAFile.from_string(vtt, keep_html_tags=True)
    assert [(c.start, c.end) for c in cues] == [(500, 2000), (2500, 4250)]
    assert cues[1].text == "[es] <i>Two</i>\\Nlines."
    assert "talk.es.srt" in {o["name"] for o in job["outputs"]}


def test_an_ass_file_keeps_its_styles_and_override_tags(client, stub):
    """ASS in, ASS out: the styles section and a cue's position tag survive."""
    source = "\n".join([
        "[Script Info]", "ScriptType: v4.00+", "", "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        "Style: Sign,Arial,30,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,"
        "2,0,8,10,10,10,1", "", "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        r"Dialogue: 0,0:00:01.00,0:00:03.00,Sign,,0,0,0,,{\an8}Exit this way",
        r"Dialogue: 0,0:00:03.50,0:00:05.00,Default,,0,0,0,,It was {\i1}never{\i0} here.",
    ])  # fmt: skip
    response = post_file(client, "show.ass", source, engine="gemini", target_language="de")
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    made = output(client, job, "show.de.ass")
    ass = pysubs2.SSAFile.from_string(made)
    assert "Sign" in ass.styles
    assert [e.text for e in ass] == [r"{\an8}[de] Exit this way",
                                     r"[de] It was {\i1}never{\i0} here."]  # fmt: skip
    sent = next(c for c in stub.calls_snapshot() if c.get("kind") == "text")
    assert "{\\\\an8}" not in sent["prompt"]  # the position is kept aside, not translated

    # A correction in the editor writes the SRT, VTT and JSON again, never this file's ASS.
    url = f"/api/jobs/{job['id']}/cues"
    cues = client.get(url).get_json()["cues"]
    cues[1]["text"] = "Korrigiert."
    assert client.put(url, json={"base_revision": 0, "cues": cues}).status_code == 200
    assert output(client, job, "show.de.ass") == made
    assert "Korrigiert." in output(client, job, "show.de.srt")


def test_one_chunk_of_audio_in_two_languages_is_heard_once(client, stub):
    """Audio is heard once: the second language is a text translation of its cues, at the
    same times."""
    job = upload(client, DATA / "speech.wav", engine="gemini", target_languages="de,fr",
                 bilingual="true", source_language="en").get_json()  # fmt: skip
    job = wait_for_status(client, job["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    assert len([c for c in calls if c["audio_seconds"] > 0]) == 1
    assert job["progress"]["done"] == job["progress"]["total"] == len(calls)  # chunk + text
    assert {c["lang"] for c in calls if c.get("kind") == "text"} == {"fr"}
    german = pysubs2.SSAFile.from_string(output(client, job, "speech.de.srt"))
    french = pysubs2.SSAFile.from_string(output(client, job, "speech.fr.srt"))
    assert [(c.start, c.end) for c in german] == [(c.start, c.end) for c in french]
    assert all(c.plaintext.startswith("[fr] ") for c in french)
    both = pysubs2.SSAFile.from_string(output(client, job, "speech.en-fr.srt"))
    assert len(both) == len(french)
    assert all("[fr]" in c.plaintext and "[fr]" not in c.plaintext.split("\n")[0]
               for c in both)  # fmt: skip
    assert {o["language"] for o in job["outputs"]} == {"de", "fr", "en-de", "en-fr"}


def test_speech_nobody_hears_in_two_languages_finishes_with_empty_subtitles(client, stub):
    """The audio call hears nothing (an empty answer), so nothing is translated: both
    languages' files exist, empty, and no text call is made."""
    stub.always = "empty"
    job = upload(client, DATA / "silence.wav", engine="gemini", target_languages="de,fr")
    job = wait_for_status(client, job.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    assert {"silence.de.srt", "silence.fr.srt"} <= {o["name"] for o in job["outputs"]}
    assert output(client, job, "silence.fr.srt").strip() == ""
    assert all(c.get("kind") != "text" for c in stub.calls_snapshot())


def test_the_glossary_goes_with_every_call_of_the_session_s_jobs(client, stub):
    """A session's glossary is in the request of every call, audio and text."""
    with open(DATA / "speech.wav", "rb") as wav:
        created = client.post("/api/sessions", data={"file": [
            (wav, "speech.wav"), (io.BytesIO(forty_cues().encode()), "film.srt")]},
            content_type="multipart/form-data").get_json()  # fmt: skip
    sid = created["id"]
    glossary = [{"term": "Subcue", "translation": "Subcue", "note": "a product name"},
                {"term": "council", "translation": "Rat", "note": ""}]  # fmt: skip
    saved = client.put(f"/api/sessions/{sid}/glossary", json={"glossary": glossary})
    assert saved.status_code == 200 and saved.get_json()["glossary"] == glossary
    assert client.get(f"/api/sessions/{sid}").get_json()["glossary"] == glossary
    job = client.post(f"/api/sessions/{sid}/jobs", json={"engine": "gemini",
                      "target_languages": ["de", "fr"]}).get_json()  # fmt: skip
    job = wait_for_status(client, job["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    assert {c.get("kind") for c in calls} == {None, "text"}  # audio calls and text calls
    for call in calls:
        assert "- Subcue → Subcue (a product name)" in call["prompt"]
        assert "- council → Rat" in call["prompt"]

    stub.reset()  # an analysis of the session (its media file) carries the glossary too
    job = client.post(f"/api/sessions/{sid}/jobs", json={"kind": "analyze",
                      "engine": "gemini"}).get_json()  # fmt: skip
    job = wait_for_status(client, job["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    (call,) = stub.calls_snapshot()
    assert call["kind"] == "analysis" and "- council → Rat" in call["prompt"]

    bad = client.put(f"/api/sessions/{sid}/glossary", json={"glossary": [{"term": ""}]})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_glossary"
    assert client.get(f"/api/sessions/{sid}").get_json()["glossary"] == glossary


def test_the_session_s_estimate_counts_its_glossary(client, module_gemini_env):
    """GET /api/estimate?session_id=: every call carries the session's glossary, so a long one
    costs more; another owner's session is not found."""
    files = {"file": [(io.BytesIO(forty_cues().encode()), "film.srt")]}
    sid = client.post("/api/sessions", data=files, content_type="multipart/form-data")
    sid = sid.get_json()["id"]
    query = "/api/estimate?engine=gemini&duration_s=600&target_languages=de,fr"

    def estimate(extra: str = "") -> dict:
        answer = client.get(query + extra)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    assert estimate(f"&session_id={sid}") == estimate()  # no glossary yet
    glossary = [{"term": f"Term {n}", "translation": f"Begriff {n}", "note": "a name"}
                for n in range(150)]  # fmt: skip
    assert (
        client.put(f"/api/sessions/{sid}/glossary", json={"glossary": glossary}).status_code == 200
    )
    plain, with_it = estimate(), estimate(f"&session_id={sid}")
    assert with_it["calls"] == plain["calls"]
    assert (
        with_it["cost_usd"] > plain["cost_usd"] and with_it["max_cost_usd"] > plain["max_cost_usd"]
    )
    stranger = make_app(module_gemini_env).test_client()
    assert stranger.get(query + f"&session_id={sid}").status_code == 404


def test_a_broken_srt_is_refused_with_its_line_and_nothing_is_kept(client):
    """No valid timing line: 400 naming the line; no session, no stored file."""
    before = client.get("/api/jobs").get_json()
    broken = "1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n2\n00:00:03 --> 00:00:04\nBroken.\n"
    response = post_file(client, "broken.srt", broken, engine="gemini", target_language="de")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_subtitles" and error["line"] == 6
    assert "line 6" in error["message"]
    assert client.get("/api/jobs").get_json() == before
    assert post_file(client, "empty.vtt", "WEBVTT\n\n", engine="gemini").status_code == 400


def test_the_local_engine_refuses_a_subtitle_file(client):
    """Translating text takes Gemini: 422 with the reason, nothing stored."""
    response = post_file(client, "film.srt", forty_cues(), engine="local")
    assert response.status_code == 422
    assert "Gemini" in response.get_json()["error"]["message"]


def test_cancel_and_delete_during_a_subtitle_translation(client, stub, module_gemini_env):
    """As for audio: cancel answers `cancelled` and no call arrives after; delete leaves
    nothing stored."""
    stub.latency = 5.0
    job = post_file(client, "film.srt", forty_cues(), engine="gemini",
                    target_languages="de,fr").get_json()  # fmt: skip
    stub.wait_for_calls(1, timeout=20)
    assert client.post(f"/api/jobs/{job['id']}/cancel").get_json()["status"] == "cancelled"
    answered = time.time()
    stays(lambda: all(c["arrived"] < answered for c in stub.calls_snapshot()), 1.0,
          message="no call after the cancel answered")  # fmt: skip
    assert all(c["client_disconnected"] or c["finished"] <= answered + 0.5
               for c in stub.calls_snapshot())  # fmt: skip

    stub.reset()
    stub.latency = 5.0
    job = post_file(client, "film.srt", forty_cues(), engine="gemini",
                    target_language="de").get_json()  # fmt: skip
    stub.wait_for_calls(1, timeout=20)
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    answered = time.time()
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    storage = module_gemini_env["STORAGE_URL"].removeprefix("file://")
    wait_for(lambda: not list((Path(storage) / "jobs").glob(f"{job['id']}*")), timeout=5,
             message="the job's outputs to be gone")  # fmt: skip
    stays(lambda: all(c["arrived"] < answered for c in stub.calls_snapshot()), 1.0,
          message="no call after the delete answered")  # fmt: skip
    assert job_of(client, job["id"]).get("error", {}).get("code") == "not_found"


def test_a_video_and_its_srt_in_one_upload_are_each_handled_by_kind(client, stub):
    """speech.mp4 with speech.en.srt, into German: the video is heard (one audio call), the
    subtitle file translated as text at its own times, and neither output overwrites the other."""
    srt_text = "".join(f"{n}\n00:00:0{n},000 --> 00:00:0{n},800\nLine {n}.\n\n"
                       for n in range(1, 5))  # fmt: skip
    with open(DATA / "speech.mp4", "rb") as video:
        data = {"file": [(video, "speech.mp4"), (io.BytesIO(srt_text.encode()), "speech.en.srt")],
                "target_language": "de", "engine": "gemini"}  # fmt: skip
        response = client.post("/api/jobs", data=data, content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    kinds = sorted(c.get("kind", "audio") for c in stub.calls_snapshot())
    assert kinds.count("audio") == 1 and "text" in kinds, kinds
    names = [o["name"] for o in job["outputs"]]
    assert len(names) == len(set(names)), names  # speech.de.srt and speech-2.de.srt
    files = client.get(f"/api/sessions/{job['session_id']}").get_json()["files"]
    assert sorted(f["kind"] for f in files) == ["media", "subtitles"]
    subtitles_id = next(f["id"] for f in files if f["kind"] == "subtitles")
    name = next(o["name"] for o in job["outputs"]
                if o["file_id"] == subtitles_id and o["format"] == "srt")  # fmt: skip
    translated = pysubs2.SSAFile.from_string(output(client, job, name))
    assert [(e.start, e.end) for e in translated.events] == [(n * 1000, n * 1000 + 800)
                                                             for n in range(1, 5)]  # fmt: skip
    assert all(e.text.startswith("[de] Line ") for e in translated.events)
    assert len({o["file_id"] for o in job["outputs"] if o["format"] == "srt"}) == 2
