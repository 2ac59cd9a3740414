"""Media is read only as media (issue 24), with real ffmpeg: an upload that is a playlist naming
files on the server's disk is refused whatever it is called, a stored file is only ever read
with the demuxer its upload was probed with, and decoding is bounded in length and disk."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import pytest
import redis
from rq.worker import Worker

from jobs.errors import UnsupportedMedia
from jobs.media import probe, video

from .helpers import DATA, WorkerProcess, make_app, temp_dir_of, upload, wait_for, wait_for_status

SEGMENTS = ("mp3", "ts", "mkv", "flac", "ogg")
"""Kinds of media file a playlist can name (the issue read each of them from the disk)."""

UPLOAD_NAMES = ("talk.mp3", "talk.mp4", "talk.wav", "talk.m3u8")

FFMPEG = probe.ffmpeg_binary()


@pytest.fixture(scope="module")
def segments(tmp_path_factory) -> dict[str, Path]:
    """Two seconds of a tone as each kind of segment: the server's files a playlist names."""
    folder = tmp_path_factory.mktemp("server-files")
    made = {}
    for kind in SEGMENTS:
        made[kind] = folder / f"secret.{kind}"
        subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=2",
                        "-ar", "16000", str(made[kind])], check=True)  # fmt: skip
    return made


def hls(*lines: str, each_s: int = 2) -> bytes:
    """An HLS playlist naming `lines` as its segments."""
    body = "".join(f"#EXTINF:{each_s},\n{line}\n" for line in lines)
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:{each_s}\n{body}#EXT-X-ENDLIST\n".encode()


def kept(env: dict) -> list[Path]:
    """Every stored file and every staged upload left behind."""
    roots = [Path(env["STORAGE_URL"].removeprefix("file://")), Path(env["TEMP_DIR"]) / "uploads"]
    return sorted(p for r in roots if r.exists() for p in r.rglob("*") if p.is_file())


def send(client, content: bytes, name: str):
    """POST /api/sessions with one file (no job: the refusal needs no worker)."""
    return client.post("/api/sessions", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")  # fmt: skip


def test_a_plain_ffmpeg_reads_the_server_files_these_playlists_name(segments, tmp_path):
    """What the refusals below guard against is real: ffmpeg left to guess opens each
    playlist as HLS and decodes the file it names, whatever the playlist is called."""
    for kind, segment in segments.items():
        playlist = tmp_path / f"upload-{kind}.mp3"
        playlist.write_bytes(hls(str(segment)))
        said = subprocess.run([FFMPEG, "-hide_banner", "-i", str(playlist)],
                              capture_output=True, text=True).stderr  # fmt: skip
        assert probe.demuxer_of(said) == "hls" and "Audio:" in said, said


@pytest.mark.parametrize("name", UPLOAD_NAMES)
@pytest.mark.parametrize("kind", SEGMENTS)
def test_a_playlist_naming_a_server_file_is_refused_whatever_it_is_called(
    client, base_env, segments, kind, name
):
    """415 unsupported_media, nothing stored; and the same answer when the named file does
    not exist, so the answer tells nothing about the server's disk."""
    before = kept(base_env)
    refused = send(client, hls(str(segments[kind])), name)
    assert refused.status_code == 415, refused.get_json()
    assert refused.get_json()["error"]["code"] == "unsupported_media"
    assert name in refused.get_json()["error"]["message"]
    assert kept(base_env) == before
    missing = send(client, hls(str(segments[kind].with_name(f"missing.{kind}"))), name)
    assert (missing.status_code, missing.get_json()) == (415, refused.get_json())


def trick(kind: str, segments: dict[str, Path]) -> bytes:
    """One of the classic ways to make ffmpeg read another file, aimed at `segments`."""
    mp3, ogg = segments["mp3"], segments["ogg"]
    return {
        "file-url": hls(f"file:{mp3}"),
        "concat-protocol": hls(f"concat:{mp3}|{ogg}"),
        "subfile-protocol": hls(f"subfile,,start,0,end,0,,:{mp3}"),
        "ffconcat": f"ffconcat version 1.0\nfile '{mp3}'\n".encode(),
        "dash": (
            f'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'
            f"<BaseURL>file://{mp3}</BaseURL></MPD>"
        ).encode(),  # fmt: skip
        "bom-and-blank-lines": b"\xef\xbb\xbf\n\n" + hls(str(mp3)),
        "segment-list-without-header": f"#EXTINF:2,\n{mp3}\n".encode(),
        "repeating-playlist": hls(*[str(mp3)] * 200, each_s=16),  # the 200 x 16 s
    }[kind]


@pytest.mark.parametrize("kind", [
    "file-url", "concat-protocol", "subfile-protocol", "ffconcat", "dash",
    "bom-and-blank-lines", "segment-list-without-header", "repeating-playlist",
])  # fmt: skip
def test_classic_tricks_to_read_another_file_stay_refused(client, base_env, segments, kind):
    """Protocols inside playlists, ffconcat, DASH, and a playlist that repeats one clip 200
    times (a decode bomb): all 415, nothing stored."""
    before = kept(base_env)
    refused = send(client, trick(kind, segments), "clip.mp4")
    assert refused.status_code == 415, refused.get_json()
    assert kept(base_env) == before


def test_ffmpeg_itself_opens_no_playlist_under_the_allow_list(segments, tmp_path):
    """Even past the first-bytes check, the arguments every probe uses leave ffmpeg unable to
    open a playlist: no input is opened and no audio found."""
    playlist = tmp_path / "0"
    playlist.write_bytes(hls(str(segments["mp3"])))
    said = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", *probe.input_args(playlist)],
                          capture_output=True, text=True).stderr  # fmt: skip
    assert probe.demuxer_of(said) == "" and "Audio:" not in said, said
    with pytest.raises(UnsupportedMedia if probe.refused_demuxer(said) else probe.NotMedia):
        probe.parse_probe(said)


def test_a_stored_file_is_read_only_with_the_demuxer_it_was_probed_with(segments, tmp_path):
    """A file recorded as MP3 stays MP3 whatever its name or bytes: a playlist there (a record
    from before this check, or a swapped file) reads as broken MP3, not as the files it names,
    in extraction and in muxing; real MP3 named `.m3u8` reads fine."""
    playlist = tmp_path / "input-0.m3u8"
    playlist.write_bytes(hls(str(segments["mp3"])))
    wav = tmp_path / "audio.wav"
    with pytest.raises(probe.ExtractError):
        probe.extract_audio(playlist, wav, FFMPEG, "mp3", 60)
    assert not wav.exists() or wav.stat().st_size < 1000
    mkv = tmp_path / "out.mkv"
    with pytest.raises(RuntimeError):
        video.mux(FFMPEG, playlist, "mp3", [], mkv, 10**8)
    assert not mkv.exists() or mkv.stat().st_size < 1000
    disguised = tmp_path / "input-1.m3u8"
    disguised.write_bytes(segments["mp3"].read_bytes())
    probe.extract_audio(disguised, wav, FFMPEG, "mp3", 60)
    assert wav.stat().st_size > probe.WAV_BYTES_PER_S  # about 2 s of audio


def test_extraction_stops_at_its_limit_and_keeps_nothing(tmp_path):
    """Audio longer than extraction was allowed (17.6 s given 5 s): TooMuchAudio, no WAV."""
    wav = tmp_path / "audio.wav"
    with pytest.raises(probe.TooMuchAudio):
        probe.extract_audio(DATA / "speech.wav", wav, FFMPEG, "wav", 5)
    assert not wav.exists()


def test_a_video_that_would_pass_the_room_left_is_cut_off_and_not_kept(tmp_path):
    """Mux and burn write with ffmpeg's `-fs` at the job's room left: past it, TooBig and no
    partial video."""
    mkv, mp4 = tmp_path / "out.mkv", tmp_path / "out.mp4"
    with pytest.raises(video.TooBig):
        video.mux(FFMPEG, DATA / "speech.mp4", "mov", [], mkv, 20_000)
    assert not mkv.exists()
    subtitles = tmp_path / "s.ass"
    subtitles.write_text("[Script Info]\nScriptType: v4.00+\n")
    with pytest.raises(video.TooBig):
        video.burn(FFMPEG, DATA / "speech.mp4", "mov", subtitles, mp4, 20_000,
                   lambda _: None, lambda: False)  # fmt: skip
    assert not mp4.exists()
    video.mux(FFMPEG, DATA / "speech.mp4", "mov", [], mkv, 10**7)
    assert mkv.stat().st_size > 20_000


def one_hertz_wav() -> bytes:
    """The issue's decode bomb: 64 KB of samples whose header says 1 sample a second (9 h)."""
    data = bytes(64 * 1024)
    fmt = struct.pack("<HHIIHH", 1, 1, 1, 2, 2, 16)  # PCM, mono, 1 Hz, 2 B/s, 16-bit
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data))
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) + len(data)) + b"WAVE" + chunks + data


@pytest.mark.parametrize("name", ["bomb.wav", "bomb.mp4"])
def test_a_wav_whose_header_says_nine_hours_is_refused_at_upload(client, base_env, name):
    """413 media_too_long naming MAX_MEDIA_MINUTES (240), before anything is decoded or
    stored."""
    before = kept(base_env)
    refused = send(client, one_hertz_wav(), name)
    assert refused.status_code == 413, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "media_too_long"
    assert "546.1 minutes" in error["message"] and "240 minutes" in error["message"]
    assert "MAX_MEDIA_MINUTES" in error["message"]
    assert kept(base_env) == before


def test_max_media_minutes_is_the_deployments_to_set(base_env, long_speech):
    """MAX_MEDIA_MINUTES=1 refuses 70 s of speech and takes the 17 s clip."""
    client = make_app({**base_env, "MAX_MEDIA_MINUTES": "1"}).test_client()
    refused = send(client, long_speech.read_bytes(), "long.wav")
    assert refused.status_code == 413 and "at most 1 minutes" in refused.get_json()["error"][
        "message"]  # fmt: skip
    assert send(client, (DATA / "speech.wav").read_bytes(), "short.wav").status_code == 201


def test_a_job_past_its_temp_budget_fails_naming_the_limit(base_env, start_worker):
    """JOB_TEMP_MB=1: the clip's audio would not fit, so the job fails clearly, decodes
    nothing, and leaves no temp dir."""
    env = {**base_env, "QUEUE_NAME": "subcue-tight", "JOB_TEMP_MB": "1"}
    tight = start_worker(env)
    client = make_app(env).test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    job = wait_for_status(client, job["id"], {"finished", "failed"}, timeout=60)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "temp_budget"
    assert "1 MB" in job["error"]["message"] and "JOB_TEMP_MB" in job["error"]["message"]
    assert env["TEMP_DIR"] not in job["error"]["message"]
    assert not temp_dir_of(env, job["id"]).exists()
    wait_for(lambda: idle(tight, env), timeout=30, message="the worker to finish the job")


def idle(proc: WorkerProcess, env: dict) -> bool:
    """True once the worker has done with its job (RQ's bookkeeping included), so stopping it
    interrupts nothing."""
    conn = redis.Redis.from_url(env["REDIS_URL"])
    return any(w.pid == proc.proc.pid and w.get_state() == "idle"
               for w in Worker.all(connection=conn))  # fmt: skip


@pytest.fixture(scope="module")
def speechless_video(tmp_path_factory) -> Path:
    """A picture over the committed near-silence (the same noise every run, so the engine's
    verdict cannot vary): a video with nothing to subtitle."""
    path = tmp_path_factory.mktemp("media") / "quiet.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "color=c=teal:s=64x48:r=10:d=2",
         "-i", str(DATA / "silence.wav"), "-c:v", "libx264", "-c:a", "aac", "-shortest",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_mux_on_a_video_without_speech_gives_the_video_and_says_why_it_has_no_track(
    client, worker, speechless_video, tmp_path
):
    """No speech, no cues: the `.subtitled.mkv` has the picture and sound and no (empty)
    subtitle track, and the job's warnings say so, with no server path."""
    job = upload(client, speechless_video, engine="local", video="mux").get_json()
    job = wait_for_status(client, job["id"], {"finished", "failed"})
    assert job["status"] == "finished", job["error"]
    mkv = tmp_path / "out.mkv"
    output = next(o for o in job["outputs"] if o["name"] == "quiet.subtitled.mkv")
    mkv.write_bytes(client.get(output["url"]).data)
    said = subprocess.run([FFMPEG, "-hide_banner", "-i", str(mkv)], capture_output=True,
                          text=True).stderr  # fmt: skip
    assert "Video:" in said and "Audio:" in said and "Subtitle:" not in said, (said, job)
    notes = [w for w in job["warnings"] if w["code"] == "no_subtitle_track"]
    assert len(notes) == 1 and "quiet.mp4" in notes[0]["message"], job
    assert "no subtitle track" in notes[0]["message"] and "/" not in notes[0]["message"]
