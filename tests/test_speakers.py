"""Speaker labels end to end: the Gemini stand-in answers two people across three chunks, one
chunk calling them by other labels and one naming a speaker; every output says who speaks."""

from __future__ import annotations

import json
import math

import pysubs2
import pytest
import srt

from jobs.media.audio import plan_chunks

from .gemini_stub import GeminiStub
from .helpers import DATA, WorkerProcess, gemini_env, make_app, upload, wait_for_status

SEGMENT_S = 0.75
"""Each answered segment's length: short turns, so some cues hold both people."""

CHUNK_S = "7"
"""speech.wav (17.6 s) in three chunks."""


@pytest.fixture(scope="module")
def speakers_worker(base_env, stub, tmp_path_factory):
    """(env, client) of a worker hearing one chunk at a time, so each chunk's prompt names the
    previous chunk's speakers."""
    env = gemini_env(
        base_env, stub.url, "subcue-speakers", GEMINI_CONCURRENCY="1", CHUNK_SECONDS=CHUNK_S
    )
    worker = WorkerProcess(env, tmp_path_factory.mktemp("speakers") / "worker.log")
    yield env, make_app(env).test_client()
    worker.stop()


def conversation(stub: GeminiStub) -> list[str]:
    """Script the stand-in: Anna ("Alpha n.") and Marco ("Mike n.") take turns, segment by
    segment; each chunk starts with whoever ended the one before. Chunk 1 labels them S1 and
    S2; chunk 2 ignores what it was told and says SPEAKER_02 and SPEAKER_01; chunk 3 names
    Anna and keeps chunk 2's label for Marco. Returns who truly speaks each segment."""
    chunks = plan_chunks(DATA / "speech.wav", float(CHUNK_S))
    assert len(chunks) == 3
    truth, labels, script = [], [], []
    for number, chunk in enumerate(chunks):
        count = math.ceil(chunk.duration / SEGMENT_S - 1e-9)
        first = truth[-1] if truth else "Anna"
        other = "Marco" if first == "Anna" else "Anna"
        turns = [first if k % 2 == 0 else other for k in range(count)]
        if number == 0:
            names = {"Anna": "S1", "Marco": "S2"}
        elif number == 1:
            names = renamed = {first: "SPEAKER_02", other: "SPEAKER_01"}
        else:
            names = {"Anna": "Anna", "Marco": renamed["Marco"]}
        labels.append([names[turns[0]], names[turns[1]]])
        script += [
            f"{'Alpha' if who == 'Anna' else 'Mike'} {len(script) + k + 1}."
            for k, who in enumerate(turns)
        ]
        truth += turns
    stub.segment_seconds, stub.script[:], stub.speakers[:] = SEGMENT_S, script, labels
    return truth


def fetch(client, job: dict, suffix: str) -> str:
    """The text of the job's output ending in `suffix`."""
    output = next(o for o in job["outputs"] if o["name"].endswith(suffix))
    return client.get(output["url"]).get_data(as_text=True)


def test_two_speakers_across_three_chunks_are_named_in_every_output(speakers_worker, stub):
    """Chunk 2's other labels and chunk 3's name are reconciled: Anna is Anna from the first
    cue on, Marco the file's one unnamed speaker (S1); no line mixes them; cues holding both
    have a dash on each line; the VTT has voice tags, the ASS names, the SRT plain dashes."""
    stub.reset()
    conversation(stub)
    _, client = speakers_worker
    response = upload(client, DATA / "speech.wav", engine="gemini", target_language="en")
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], {"finished", "failed"}, 60)
    assert job["status"] == "finished", job["error"]
    assert job["notes"] == []
    calls = stub.calls_snapshot()
    assert [c["speakers_told"] for c in calls] == [[], ["S1", "S2"], ["SPEAKER_02", "SPEAKER_01"]]

    who = {"Alpha": "Anna", "Mike": "S1"}  # what the words say, and so who must be named
    segments = json.loads(fetch(client, job, ".json"))["segments"]
    dual = [s for s in segments if len(s.get("speakers", [])) == 2]
    assert dual, "short turns make some cues that both people share"
    for s in segments:
        lines = s["text"].split("\n")
        heard = [{who[w] for w in line.split() if w in who} for line in lines]
        assert all(len(h) == 1 for h in heard), s  # no line mixes speakers
        spoken = [h.pop() for h in heard]
        assert s["speaker"] == spoken[0], s
        if s in dual:
            assert s["speakers"] == spoken and all(line.startswith("- ") for line in lines)
        else:
            assert not any(line.startswith("-") for line in lines), s

    vtt = fetch(client, job, ".vtt")
    for block in vtt.split("\n\n")[1:]:
        for line in block.strip().split("\n")[1:]:
            word = next((w for w in line.split() if w in who), None)
            assert word, (line, block)
            speaker = who[word]
            assert line.startswith(f"<v {speaker}>") or "<v" not in line, line
    assert "<v Anna>" in vtt and "<v S1>" in vtt

    ass = pysubs2.SSAFile.from_string(fetch(client, job, ".ass"))
    assert [e.name for e in ass.events] == [" / ".join(s.get("speakers") or [s["speaker"]])
                                            for s in segments]  # fmt: skip

    subtitles = list(srt.parse(fetch(client, job, ".srt")))
    assert [s.content for s in subtitles] == [s["text"] for s in segments]
    assert "<v" not in fetch(client, job, ".srt")


def test_speaker_names_put_each_name_before_its_lines(speakers_worker, stub):
    """speaker_names=true: "ANNA: " where Anna starts speaking, in SRT and WebVTT alike."""
    stub.reset()
    conversation(stub)
    _, client = speakers_worker
    response = upload(client, DATA / "speech.wav", engine="gemini", target_language="en",
                      speaker_names="true")  # fmt: skip
    job = wait_for_status(client, response.get_json()["id"], {"finished", "failed"}, 60)
    assert job["status"] == "finished", job["error"]
    assert job["params"]["speaker_names"] is True
    for sub in srt.parse(fetch(client, job, ".srt")):
        for line in sub.content.split("\n"):
            said = line.removeprefix("- ")
            assert said.startswith(("ANNA: [en] Alpha", "S1: [en] Mike")), line
    assert "<v Anna>ANNA: " in fetch(client, job, ".vtt").replace("<v Anna>- ", "<v Anna>")


def test_an_analysis_says_who_speaks_how_long_and_in_each_moment(speakers_worker, stub):
    """analyze + gemini: each file's speakers with their speaking time and share, and who
    speaks in its notable moment."""
    stub.reset()
    stub.segment_seconds, stub.speakers[:] = 2.0, [["Anna", "S2", "Anna"]]
    _, client = speakers_worker
    with open(DATA / "speech.wav", "rb") as media:
        session = client.post("/api/sessions", data={"file": [(media, "speech.wav")]},
                              content_type="multipart/form-data").get_json()  # fmt: skip
    response = client.post(f"/api/sessions/{session['id']}/jobs",
                           json={"kind": "analyze", "engine": "gemini"})  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], {"finished", "failed"}, 60)
    assert job["status"] == "finished", job["error"]
    (found,) = json.loads(client.get(job["outputs"][0]["url"]).data)["files"]
    names = [s["speaker"] for s in found["speakers"]]
    assert names == ["Anna", "S2"]  # Anna speaks two segments in three, the most
    assert sum(s["seconds"] for s in found["speakers"]) == pytest.approx(17.574, abs=0.05)
    assert found["speakers"][0]["share"] > 0.5 > found["speakers"][1]["share"]
    assert found["moments"][0]["speakers"][0] in names
