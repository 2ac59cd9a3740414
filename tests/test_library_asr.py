"""The whisper-asr-webservice API driven as Bazarr's Whisper provider drives it: raw PCM with
`encode=false` in the part `audio_file`, `/detect-language` first, the token in the URL, against
gunicorn and a real worker with the local engine."""

from __future__ import annotations

import io
import socket
import subprocess
import threading
import uuid

import pytest
import requests
import srt

from jobs.life import record

from .browser import Gunicorn
from .helpers import DATA, make_app, wait_for
from .library import TOKEN
from .test_translate import SPOKEN, in_order_ratio, words


@pytest.fixture(scope="module")
def server(library_env, library_worker, tmp_path_factory):
    """gunicorn serving the app with the library on; the library tests' worker runs the jobs."""
    web = Gunicorn(library_env, tmp_path_factory.mktemp("asr-web") / "gunicorn.log")
    yield web
    web.stop()


@pytest.fixture(scope="module")
def pcm(tmp_path_factory) -> bytes:
    """tests/data/speech.wav as Bazarr sends audio: 16 kHz mono s16le PCM, no header."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(DATA / "speech.wav"), "-f", "s16le",
         "-acodec", "pcm_s16le", "-ac", "1", "-ar", "16000", "-"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out.stdout


def bazarr_url(server, path: str) -> str:
    """The endpoint as Bazarr is told it: the token as the URL's password."""
    return f"http://bazarr:{TOKEN}@127.0.0.1:{server.port}{path}"


def not_srt(text: str) -> bool:
    """True when a client that keeps whatever parses as SRT would find no cue in `text`."""
    try:
        return not list(srt.parse(text))
    except srt.SRTParseError:
        return True


def token_jobs(conn) -> list[dict]:
    """The jobs of the token's owner, newest first."""
    return record.list_for_owner(conn, record.token_owner(TOKEN))


def test_bazarr_detects_then_gets_srt_with_the_spoken_words(server, pcm, conn):
    """Status without a token, language detection, then SRT whose words are the clip's."""
    status = requests.get(f"{server.url}/status", timeout=10)
    assert status.status_code == 200 and set(status.json()) == {"version"}

    found = requests.post(bazarr_url(server, "/detect-language"), params={"encode": "false"},
                          files={"audio_file": pcm}, timeout=(5, 120))  # fmt: skip
    assert found.status_code == 200, found.text
    assert found.json()["language_code"] == "en"
    assert found.json()["detected_language"] == "english"
    assert 0 < found.json()["confidence"] <= 1

    answer = requests.post(
        bazarr_url(server, "/asr"),
        params={"task": "transcribe", "language": "en", "output": "srt", "encode": "false",
                "video_file": "/media/tv/Show/Season 1/Show S01E01.mkv"},
        files={"audio_file": pcm}, timeout=(5, 300),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    cues = list(srt.parse(answer.text))
    assert cues and all(c.end > c.start for c in cues)
    heard = words(" ".join(c.content for c in cues))
    assert in_order_ratio(words(SPOKEN), heard) >= 0.7, heard

    kinds = [(j["kind"], j["status"]) for j in token_jobs(conn)[:2]]
    assert kinds == [("translate", "finished"), ("detect", "finished")]
    assert "Show S01E01" in token_jobs(conn)[0]["description"]


def test_every_output_format_from_one_job(server, pcm, conn):
    """vtt, txt, tsv and json asked at once for the same audio: one job serves all four."""
    before = len(token_jobs(conn))
    answers: dict[str, requests.Response] = {}

    def ask(output: str) -> None:
        answers[output] = requests.post(
            f"{server.url}/asr", params={"output": output, "encode": "false", "token": TOKEN,
                                         "language": "en", "task": "transcribe"},
            files={"audio_file": ("audio_file", pcm)}, timeout=(5, 300),
        )  # fmt: skip

    threads = [threading.Thread(target=ask, args=(o,)) for o in ("vtt", "txt", "tsv", "json")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert {o: r.status_code for o, r in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["vtt"].text.startswith("WEBVTT")
    text = answers["txt"].text
    assert in_order_ratio(words(SPOKEN), words(text)) >= 0.7, text
    rows = answers["tsv"].text.splitlines()
    assert rows[0] == "start\tend\ttext"
    starts = [int(r.split("\t")[0]) for r in rows[1:]]
    assert starts == sorted(starts) and all(len(r.split("\t")) == 3 for r in rows[1:])
    body = answers["json"].json()
    assert body["language"] == "en" and body["segments"]
    assert " ".join(words(body["text"])) == " ".join(words(text))
    assert len(token_jobs(conn)) == before + 1  # the four joined one job


def test_without_the_token_nothing_is_stored(server, pcm, conn, base_env):
    """No token, or a wrong one: 401 with a challenge, and no job, session or file."""
    before = set(conn.keys("subcue:*"))
    for auth in (None, ("bazarr", "wrong"), ("bazarr", "")):
        answer = requests.post(f"{server.url}/asr", params={"encode": "false"}, auth=auth,
                               files={"audio_file": pcm}, timeout=10)  # fmt: skip
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
        assert not_srt(answer.text)
    bearer = requests.post(f"{server.url}/detect-language", files={"audio_file": pcm},
                           headers={"Authorization": "Bearer nope"}, timeout=10)  # fmt: skip
    assert bearer.status_code == 401
    assert set(conn.keys("subcue:*")) - before <= {b"subcue:changes"}


def test_a_client_that_hangs_up_cancels_its_job(server, conn, long_speech):
    """A raw socket sends the request, waits until the job runs, and closes: cancelled."""
    audio = long_speech.read_bytes()
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio_file\"; "
            f"filename=\"talk.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode() + audio + \
        f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
    head = (f"POST /asr?output=srt&token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
    before = {j["id"] for j in token_jobs(conn)}
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client.sendall(head + body)

    def running_job():
        new = [j for j in token_jobs(conn) if j["id"] not in before]
        return new[0] if new and new[0]["status"] == "running" else None

    job = wait_for(running_job, timeout=60, message="the request's job to run")
    client.close()
    ended = wait_for(lambda: (r := record.get(conn, job["id"]))["status"] in
                     ("cancelled", "finished", "failed") and r, timeout=15,
                     message="the job to be cancelled")  # fmt: skip
    assert ended["status"] == "cancelled"
    assert ended["error"]["code"] == "client_gone"


def test_everything_is_off_without_asr_token(base_env):
    """No ASR_TOKEN: the routes do not exist, even /status."""
    client = make_app({**base_env, "ASR_TOKEN": ""}).test_client()
    assert client.get("/status").status_code == 404
    assert client.post(f"/asr?token={TOKEN}").status_code == 404
    assert client.post("/detect-language").status_code == 404


def test_raw_pcm_is_refused_when_empty(server):
    """An empty upload is a short text error, not subtitles."""
    answer = requests.post(f"{server.url}/asr", params={"encode": "false", "token": TOKEN},
                           files={"audio_file": b""}, timeout=10)  # fmt: skip
    assert answer.status_code == 400 and "empty" in answer.text and not_srt(answer.text)


def test_the_token_never_reaches_the_access_log(server, pcm):
    """`?token=` (how Plex and Jellyfin authenticate) is redacted from gunicorn's log lines."""
    answer = requests.post(f"{server.url}/asr", params={"encode": "false", "token": TOKEN},
                           files={"audio_file": b""}, timeout=10)  # fmt: skip
    assert answer.status_code == 400
    log = wait_for(lambda: "token=[redacted]" in (text := server.output()) and text, timeout=5,
                   message="the request's access-log line")  # fmt: skip
    assert TOKEN not in log


@pytest.mark.parametrize("query, part, status", [
    ("encode=true", ("x.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n"), 415),
    ("encode=true", ("x.mp3", b"not media at all"), 415),
    ("encode=false&task=transcribe&language=de", ("audio_file", b"\0" * 64000), 422),
    ("output=docx", ("audio_file", b"\0" * 64000), 400),
    ("encode=maybe", ("audio_file", b"\0" * 64000), 400),
])  # fmt: skip
def test_what_cannot_be_done_is_a_short_text_and_nothing_stored(library_env, conn, query,
                                                                  part, status):  # fmt: skip
    """A subtitle file, non-media, German with the local engine, an unknown format or flag."""
    client = make_app(library_env).test_client()
    before = set(conn.keys("subcue:*"))
    name, data = part
    answer = client.post(f"/asr?token={TOKEN}&{query}",
                         data={"audio_file": (io.BytesIO(data), name)})  # fmt: skip
    assert answer.status_code == status
    assert answer.content_type.startswith("text/plain") and not_srt(answer.get_data(as_text=True))
    assert set(conn.keys("subcue:*")) - before <= {b"subcue:changes"}


def test_a_retry_joins_the_job_and_its_first_try_hanging_up_does_not_cancel_it(server, pcm,
                                                                                 conn):  # fmt: skip
    """Bazarr gives up waiting and asks again with the same media: the second request joins
    the job; when the first one's connection closes, the job goes on for the second."""
    query = (f"encode=false&task=transcribe&language=en&output=srt&token={TOKEN}"
             "&video_file=/media/tv/Retry/Retry%20S01E02.mkv")  # fmt: skip
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="audio_file"; '
            'filename="audio_file"\r\n\r\n'
        ).encode()
        + pcm
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (f"POST /asr?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            f"boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
    before = {j["id"] for j in token_jobs(conn)}
    first = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    first.sendall(head + body)
    job = wait_for(lambda: next((j for j in token_jobs(conn) if j["id"] not in before), None),
                   timeout=30, message="the first request's job")  # fmt: skip
    answers = []
    retry = threading.Thread(target=lambda: answers.append(requests.post(
        f"{server.url}/asr?{query}", files={"audio_file": pcm}, timeout=(5, 120))))  # fmt: skip
    retry.start()
    waiters = f"subcue:library:job:{job['id']}:waiters"
    wait_for(lambda: int(conn.get(waiters) or 0) == 2, timeout=30, message="both to wait")
    assert record.status(conn, job["id"]) in ("queued", "running")  # seconds of work left
    first.close()
    retry.join(120)
    assert answers and answers[0].status_code == 200, answers and answers[0].text
    assert list(srt.parse(answers[0].text))
    assert record.get(conn, job["id"])["status"] == "finished"
    assert [j["id"] for j in token_jobs(conn) if j["id"] not in before] == [job["id"]]
