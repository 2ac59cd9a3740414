"""Video out with real ffmpeg: subtitles muxed as language tracks, burned into the picture,
refused for audio, and a burn that stops at once when cancelled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .browser import ROOT, Gunicorn
from .helpers import (
    DATA,
    make_app,
    processes_mentioning,
    temp_dir_of,
    upload,
    wait_for,
    wait_for_status,
)

END = {"finished", "failed", "cancelled"}
GEMINI_SETTINGS = {"CHUNK_SECONDS": "30"}


@pytest.fixture
def client(module_gemini_env, module_gemini_worker, stub):
    stub.reset()
    return make_app(module_gemini_env).test_client()


def streams(path: Path) -> list[dict]:
    """ffprobe's streams of a file."""
    found = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(found.stdout)["streams"]


def frame(path: Path, seconds: float) -> bytes:
    """The picture at `seconds`, as 160x120 grey bytes."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(path), "-frames:v", "1",
         "-vf", "scale=160:120,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip


def saved(client, job: dict, name: str, folder: Path) -> Path:
    """Download one output into `folder`."""
    output = next(o for o in job["outputs"] if o["name"] == name)
    path = folder / name
    path.write_bytes(client.get(output["url"]).data)
    return path


def finished(client, **form) -> dict:
    """speech.mp4 through a Gemini job with `form`, finished."""
    job = upload(client, DATA / "speech.mp4", engine="gemini", **form).get_json()
    job = wait_for_status(client, job["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    return job


def test_mux_adds_a_tagged_subtitle_track_per_language_and_copies_the_streams(client, tmp_path):
    job = finished(client, target_languages="de,fa", video="mux")
    mkv = saved(client, job, "speech.subtitled.mkv", tmp_path)
    found = streams(mkv)
    original = streams(DATA / "speech.mp4")
    video = [s for s in found if s["codec_type"] == "video"]
    assert [s["codec_name"] for s in video] == ["h264"]  # copied, not re-encoded
    assert video[0]["width"] == original[0]["width"]
    subtitles = [s for s in found if s["codec_type"] == "subtitle"]
    assert [(s["tags"]["language"], s["tags"]["title"]) for s in subtitles] == [
        ("ger", "German"), ("per", "Persian")]  # fmt: skip
    assert [s["disposition"]["default"] for s in subtitles] == [1, 0]


def test_burn_renders_the_first_language_into_the_picture(client, tmp_path):
    job = finished(client, target_language="de", video="burn")
    mp4 = saved(client, job, "speech.burned.mp4", tmp_path)
    found = streams(mp4)
    assert sorted(s["codec_type"] for s in found) == ["audio", "video"]  # no subtitle stream
    assert {s["codec_name"] for s in found} == {"h264", "aac"}
    cues = json.loads(saved(client, job, "speech.de.json", tmp_path).read_text())["segments"]
    middle = (cues[0]["start"] + cues[0]["end"]) / 2
    before, after = frame(DATA / "speech.mp4", middle), frame(mp4, middle)
    changed = sum(abs(a - b) > 40 for a, b in zip(before, after, strict=True))
    assert changed > 100  # white letters (6 px high at 120 lines) on the navy picture
    head = mp4.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_video_out_is_refused_for_audio(client):
    for mode in ("burn", "mux"):
        response = upload(client, DATA / "speech.wav", engine="gemini", video=mode)
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "no_video"
        assert "speech.wav has no video stream" in response.get_json()["error"]["message"]
    assert upload(client, DATA / "speech.wav", video="sideways").status_code == 400


def test_cancel_during_a_burn_stops_ffmpeg_at_once_and_leaves_nothing(
    client, module_gemini_env, tmp_path
):
    """A minute of 720p: the burn takes long enough to be cancelled in the middle."""
    source = tmp_path / "talk.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25",
                    "-stream_loop", "-1", "-i", str(DATA / "speech.wav"), "-t", "60",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
                    str(source)], check=True)  # fmt: skip
    job = upload(client, source, engine="gemini", target_language="de", video="burn").get_json()

    def burning():
        found = client.get(f"/api/jobs/{job['id']}").get_json()
        return found if found["stage"] == "burning" and found["progress"]["done"] > 0 else None

    shown = wait_for(burning, timeout=120, message="the burn to show progress")
    assert shown["progress"]["total"] == 60 and shown["status"] == "running"
    temp = temp_dir_of(module_gemini_env, job["id"])
    assert processes_mentioning(str(temp))  # this job's ffmpeg, not another test's
    answer = client.post(f"/api/jobs/{job['id']}/cancel").get_json()
    assert answer["status"] == "cancelled"
    assert not processes_mentioning(str(temp))  # ffmpeg died with the horse
    assert not temp.exists()
    storage = Path(module_gemini_env["STORAGE_URL"].removeprefix("file://")) / "jobs" / job["id"]
    assert not list(storage.rglob("*.mp4"))


def test_the_cli_writes_the_muxed_video_beside_the_subtitles(
    module_gemini_env, module_gemini_worker, tmp_path
):
    """`scripts/translate FILE --to de,fr --video mux`: the outputs land next to FILE, the
    MKV with a German and a French track."""
    media = tmp_path / "clip.mp4"
    media.write_bytes((DATA / "speech.mp4").read_bytes())
    server = Gunicorn(module_gemini_env, tmp_path / "web.log")
    try:
        run = subprocess.run([sys.executable, str(ROOT / "scripts" / "translate"), str(media),
                              "--server", server.url, "--engine", "gemini", "--to", "de,fr",
                              "--video", "mux"],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    written = [Path(line) for line in run.stdout.split()]
    assert tmp_path / "clip.subtitled.mkv" in written and tmp_path / "clip.fr.srt" in written
    tracks = [s["tags"]["language"] for s in streams(tmp_path / "clip.subtitled.mkv")
              if s["codec_type"] == "subtitle"]  # fmt: skip
    assert tracks == ["ger", "fre"]
    refused = subprocess.run([sys.executable, str(ROOT / "scripts" / "translate"), str(media),
                              "--video", "sideways"], capture_output=True, text=True)  # fmt: skip
    assert refused.returncode == 2 and "invalid choice: 'sideways'" in refused.stderr


def test_burn_is_refused_when_the_ffmpeg_has_no_libass(
    module_gemini_env, module_gemini_worker, tmp_path
):
    """Say which ffmpeg cannot burn and how to get one that can; muxing still works."""
    plain = tmp_path / "ffmpeg-without-libass"
    plain.write_text('#!/bin/sh\n[ "$2" = "-filters" ] && { echo " ... scale V->V"; exit 0; }\n'
                     'exec ffmpeg "$@"\n')  # fmt: skip
    plain.chmod(0o755)
    client = make_app({**module_gemini_env, "FFMPEG_BINARY": str(plain)}).test_client()
    refused = upload(client, DATA / "speech.mp4", engine="gemini", video="burn")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "cannot_burn" and str(plain) in error["message"]
    assert "apt-get install ffmpeg" in error["message"]
    assert upload(client, DATA / "speech.mp4", engine="gemini", video="mux").status_code == 202
