"""Drive the real google-genai client against tests.gemini_stub."""

import asyncio
import io
import json
import threading
import time
import wave
from pathlib import Path

import httpx2
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from tests.gemini_stub import GeminiStub, audio_seconds, retry_delay
from tests.helpers import check_control_refuses_typos_and_resets, stub_control, stub_process

MODEL = "gemini-2.5-flash"
PROMPT = "Transcribe and translate.\nTarget language: Persian (fa).\nReturn JSON."


class Segment(BaseModel):
    """One subtitle segment as the engine asks for it."""

    start: float
    end: float
    source_text: str
    text: str


class Transcript(BaseModel):
    """The structured answer schema."""

    segments: list[Segment]


def make_wav(seconds: float, rate: int = 16000) -> bytes:
    """Return `seconds` of 16-bit mono silence as WAV bytes."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


def wait_until(pred, timeout: float = 10.0, what: str = "condition"):
    """Poll pred until it returns truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not (result := pred()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
    return result


def make_client(url: str, key: str = "test-key", **opts) -> genai.Client:
    """A real google-genai client pointed at the stub."""
    opts.setdefault("api_version", "v1beta")
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url, **opts))


def audio_part(seconds: float) -> types.Part:
    """An inline WAV part."""
    return types.Part.from_bytes(data=make_wav(seconds), mime_type="audio/wav")


@pytest.fixture
def stub():
    with GeminiStub() as s:
        yield s


@pytest.fixture
def client(stub):
    c = make_client(stub.url)
    yield c
    c.close()


def generate(client, seconds=2.5, prompt=PROMPT, **config):
    """One structured generateContent call with inline audio."""
    cfg = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=Transcript, **config
    )
    return client.models.generate_content(
        model=MODEL, contents=[audio_part(seconds), prompt], config=cfg
    )


def test_structured_response_and_usage(stub, client):
    resp = generate(client, 2.5, system_instruction="You are a subtitler.")
    assert isinstance(resp.parsed, Transcript)
    segs = resp.parsed.segments
    assert [(s.start, s.end) for s in segs] == [(0.0, 2.5)]
    assert segs[0].text == f"[fa] {segs[0].source_text}"
    assert json.loads(resp.text)["segments"][0]["source_text"] == segs[0].source_text
    usage = resp.usage_metadata
    assert usage.prompt_token_count >= 80  # 32 tokens per second of audio
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count > 80
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    assert resp.model_version == MODEL
    (call,) = stub.calls
    assert call["status"] == 200 and call["audio_seconds"] == 2.5 and call["lang"] == "fa"
    assert call["model"] == MODEL and call["api_version"] == "v1beta"
    assert call["had_context"] is False and call["finished"] >= call["arrived"]


def test_segments_cover_audio_script_and_context(stub, client):
    stub.script = ["hello there", "general Kenobi"]
    resp = generate(client, 12.0, prompt=PROMPT + "\nPrevious chunk text: earlier words")
    segs = resp.parsed.segments
    assert segs[0].start == 0.0 and segs[-1].end == 12.0 and len(segs) == 3
    assert all(s.end - s.start <= 5.0 for s in segs)
    assert [s.source_text for s in segs[:2]] == ["hello there", "general Kenobi"]
    assert segs[2].source_text == "Segment 3 of chunk 1." and stub.script == []
    resp = client.models.generate_content(model=MODEL, contents=[audio_part(1.0), "no lang"])
    assert json.loads(resp.text)["segments"][0]["text"].startswith("[xx] ")
    assert [c["had_context"] for c in stub.calls] == [True, False]


def test_speakers_are_answered_per_call_in_turn_and_what_the_prompt_told_is_logged(stub, client):
    stub.speakers = [["S1", "S2"], ["Anna"]]
    told = PROMPT + "\nSpeakers heard in the previous clip: S1, S2; it ended with S2 speaking."
    first = json.loads(generate(client, 12.0, prompt=told).text)["segments"]
    assert [s["speaker"] for s in first] == ["S1", "S2", "S1"]
    second = json.loads(generate(client, 6.0).text)["segments"]
    assert [s["speaker"] for s in second] == ["Anna", "Anna"]
    third = json.loads(generate(client, 3.0).text)["segments"]
    assert "speaker" not in third[0] and stub.speakers == []
    assert [c["speakers_told"] for c in stub.calls] == [["S1", "S2"], [], []]


def test_429_retry_info_and_daily_quota(stub, client):
    stub.faults.append(("429", {"retry_delay": 1.5}))
    with pytest.raises(errors.ClientError) as exc:
        generate(client)
    err = exc.value
    assert err.code == 429 and err.status == "RESOURCE_EXHAUSTED"
    (info,) = err.details["error"]["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.RetryInfo"
    assert info["retryDelay"] == "1.5s" and retry_delay(err) == 1.5
    stub.faults.append(("quota", {}))
    with pytest.raises(errors.ClientError) as exc:
        generate(client)
    assert exc.value.code == 429 and "per day" in exc.value.message
    assert retry_delay(exc.value) is None
    assert generate(client).parsed.segments  # faults are one-shot
    assert [c["status"] for c in stub.calls] == [429, 429, 200]


def test_server_errors_and_no_retry_by_default(stub, client):
    stub.always = "500"
    for _ in range(2):
        with pytest.raises(errors.ServerError) as exc:
            generate(client)
        assert exc.value.code == 500 and exc.value.status == "INTERNAL"
    # Two calls, two requests: the client does not retry unless retry_options is set.
    assert [c["status"] for c in stub.calls] == [500, 500]
    stub.always = None
    stub.faults.append(("503", {}))
    with pytest.raises(errors.ServerError) as exc:
        generate(client)
    assert exc.value.code == 503 and exc.value.status == "UNAVAILABLE"


def test_client_retry_options_retry_server_errors(stub):
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0)
    with make_client(stub.url, retry_options=retry) as retrying:
        stub.faults.extend([("503", {}), ("500", {})])
        assert generate(retrying).parsed.segments
    assert [c["status"] for c in stub.calls] == [503, 500, 200]


def test_bad_answers(stub, client):
    stub.faults.extend([("malformed", {}), ("empty", {}), ("out_of_range", {})])
    with pytest.raises(json.JSONDecodeError):
        json.loads(generate(client).text)
    assert json.loads(generate(client).text) == {"segments": []}
    segs = json.loads(generate(client, 12.0).text)["segments"]
    starts = [s["start"] for s in segs]
    assert min(starts) < 0 and max(s["end"] for s in segs) > 12.0
    assert starts != sorted(starts)
    assert any(a["start"] < b["end"] for a, b in zip(segs[1:], segs, strict=False))


def test_api_key_checked(stub):
    stub.api_key = "right"
    with make_client(stub.url, key="wrong") as wrong:
        with pytest.raises(errors.ClientError) as exc:
            generate(wrong)
    assert exc.value.code == 400 and "API key not valid" in exc.value.message
    with make_client(stub.url, key="right") as right:
        assert generate(right).parsed.segments
    assert [c["status"] for c in stub.calls] == [400, 200]


def test_files_upload_generate_delete(stub, client, tmp_path: Path):
    path = tmp_path / "chunk.wav"
    path.write_bytes(make_wav(7.0))
    # Pass mime_type: guessed from ".wav" it would be "audio/x-wav".
    f = client.files.upload(file=path, config={"display_name": "chunk 1", "mime_type": "audio/wav"})
    assert f.name.startswith("files/") and f.state == types.FileState.ACTIVE
    assert f.size_bytes == path.stat().st_size and f.mime_type == "audio/wav"
    assert list(stub.files) == [f.name] and client.files.get(name=f.name).uri == f.uri
    part = types.Part(file_data=types.FileData(file_uri=f.uri, mime_type=f.mime_type))
    resp = client.models.generate_content(model=MODEL, contents=[part, PROMPT])
    assert [s["end"] for s in json.loads(resp.text)["segments"]] == [3.5, 7.0]
    assert stub.calls[-1]["audio_seconds"] == 7.0
    client.files.delete(name=f.name)
    assert stub.files == {}
    with pytest.raises(errors.ClientError) as exc:
        client.files.get(name=f.name)
    assert exc.value.code == 404
    with pytest.raises(errors.ClientError) as exc:  # a deleted file can no longer be used
        client.models.generate_content(model=MODEL, contents=[part, PROMPT])
    assert exc.value.code == 403


def test_async_client_upload_generate_delete(stub, client):
    async def run():
        aio = client.aio
        f = await aio.files.upload(
            file=io.BytesIO(make_wav(4.0)), config={"mime_type": "audio/wav"}
        )
        cfg = types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=Transcript
        )
        resp = await aio.models.generate_content(model=MODEL, contents=[f, PROMPT], config=cfg)
        await aio.files.delete(name=f.name)
        return resp

    resp = asyncio.run(run())
    assert [(s.start, s.end) for s in resp.parsed.segments] == [(0.0, 4.0)]
    assert resp.usage_metadata.prompt_token_count >= 128
    assert stub.files == {} and stub._uploads == {}


def test_latency_and_concurrency(stub):
    stub.latency = 0.4
    clients = [make_client(stub.url) for _ in range(4)]
    results = []
    t0 = time.monotonic()
    threads = [threading.Thread(target=lambda c=c: results.append(generate(c))) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    elapsed = time.monotonic() - t0
    assert len(results) == 4 and 0.4 <= elapsed < 1.5  # served in parallel
    assert all(c["finished"] - c["arrived"] >= 0.4 for c in stub.calls)
    for c in clients:
        c.close()


def test_async_cancellation_is_seen_as_disconnect(stub, client):
    stub.latency = 30

    async def run():
        task = asyncio.create_task(client.aio.models.generate_content(model=MODEL, contents="hi"))
        deadline = time.monotonic() + 10
        while not stub.calls:
            assert time.monotonic() < deadline, "request never arrived"
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    wait_until(lambda: stub.calls[0]["finished"], 5, "the stub to abandon the call")
    call = stub.calls[0]
    assert call["client_disconnected"] is True and call["status"] is None
    assert call["finished"] - call["arrived"] < 5


def test_transport_failures_are_not_api_errors(stub):
    stub.faults.append(("disconnect", {}))
    with make_client(stub.url, timeout=300) as c:
        with pytest.raises(httpx2.RemoteProtocolError):
            generate(c)
        stub.latency = 5
        with pytest.raises(httpx2.TimeoutException):
            generate(c)
    calls = stub.wait_for_calls(2, timeout=5, finished=True)
    assert calls[0]["fault"] == "disconnect" and calls[0]["status"] is None
    assert (
        calls[1]["client_disconnected"] is True and calls[1]["finished"] - calls[1]["arrived"] < 2
    )


def test_wav_duration_helpers():
    assert audio_seconds(make_wav(2.5)) == 2.5
    assert audio_seconds(make_wav(1.0, rate=44100)) == 1.0


def test_subprocess_and_control_endpoints():
    with stub_process("tests.gemini_stub", "--port", "0", "--api-key", "k") as line:
        assert line.startswith("GEMINI_STUB_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1]
        cfg = {"faults": [["503", {}]], "script": ["from afar"], "latency": 0.05}
        stub_control(url + "/_stub/config", cfg)
        with make_client(url, key="k") as c:
            with pytest.raises(errors.ServerError):
                generate(c)
            resp = generate(c)
        assert resp.parsed.segments[0].source_text == "from afar"
        calls = stub_control(url + "/_stub/calls")["calls"]
        assert [c["status"] for c in calls] == [503, 200]
        assert all(c["finished"] - c["arrived"] >= 0.05 for c in calls)
        check_control_refuses_typos_and_resets(url)
