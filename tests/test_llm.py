"""The text engine `llm` end to end: a real worker, the real `openai` client, the chat-completions
stand-in (tests/llm_stub.py). A subtitle file into two languages cue for cue at its times, with
no Gemini call; forgotten cues asked again; a 429's Retry-After honoured; a server without
JSON schema support still used; the local engine's English translated into German; a cancel
hangs up on the server and no request follows it."""

from __future__ import annotations

import json
import time

import pysubs2
import pytest
import redis

from jobs import keys

from .helpers import DATA, WorkerProcess, gemini_env, job_of, make_app, stays, upload, wait_for
from .helpers import wait_for_status as wait_status
from .llm_stub import LlmStub
from .test_subtitle_files import forty_cues, output, post_file

END = {"finished", "failed", "cancelled"}
LLM_KEY = "sk-llm-test-SECRET-5678"
"""The key the LLM stand-in demands: distinctive, so a test can look for it where it must not
be."""


@pytest.fixture(scope="module")
def llm():
    """One chat-completions stand-in for the module."""
    with LlmStub(api_key=LLM_KEY) as s:
        yield s


@pytest.fixture(autouse=True)
def clean_stubs(stub, llm):
    """Forget the previous test's calls, faults and capabilities."""
    stub.reset()
    llm.reset()


@pytest.fixture(scope="module")
def env(base_env, stub, llm) -> dict:
    """Gemini configured too (its stand-in must see no call), and the LLM, ten cues a call."""
    return gemini_env(base_env, stub.url, "subcue-llm", LLM_BASE_URL=llm.base_url,
                      LLM_MODEL="stub-model", LLM_API_KEY=LLM_KEY, LLM_CUES_PER_CALL="10",
                      LLM_CONCURRENCY="2")  # fmt: skip


@pytest.fixture(scope="module")
def llm_worker(env, tmp_path_factory):
    """A real worker with the LLM settings."""
    worker = WorkerProcess(env, tmp_path_factory.mktemp("llm") / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture
def client(env, llm_worker):
    return make_app(env).test_client()


def translated_file(client, source: str, languages: str = "de,fr", timeout: float = 60) -> dict:
    """Submit a subtitle file for translator=llm and wait for the job's end."""
    response = post_file(client, "film.en.srt", source, engine="gemini", translator="llm",
                         target_languages=languages)  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return wait_status(client, response.get_json()["id"], END, timeout=timeout)


def same_cues_translated(client, job: dict, source: str, languages=("de", "fr")) -> None:
    """Each language's SRT has the source's cues at their exact times, each with its own
    translation."""
    original = pysubs2.SSAFile.from_string(source, keep_html_tags=True)
    for language in languages:
        made = pysubs2.SSAFile.from_string(output(client, job, f"film.{language}.srt"),
                                           keep_html_tags=True)  # fmt: skip
        assert len(made) == len(original) == 40
        for before, after in zip(original, made, strict=True):
            assert (after.start, after.end) == (before.start, before.end)
            assert after.text == f"[{language}] {before.text}"


def test_a_40_cue_srt_in_two_languages_through_the_llm_never_touches_gemini(client, stub, llm,
                                                                           llm_worker):  # fmt: skip
    """translator=llm: both languages cue for cue at the input's times; forgotten cues are
    asked again, those and their suspect neighbours only, and marked to check; no Gemini call; the usage is the LLM's; the
    key is nowhere in the worker's log or the job."""
    source = forty_cues()
    llm.faults = [("forget", {}) if n % 3 == 0 else ("ok", {}) for n in range(30)]
    job = translated_file(client, source)
    assert job["status"] == "finished", job["error"]
    same_cues_translated(client, job, source)
    assert stub.calls_snapshot() == []
    calls = llm.calls_snapshot()
    assert all(c["authorization"] and c["temperature"] == 0 for c in calls)
    assert {c["response_format"] for c in calls} == {"json_schema"}
    first = [c for c in calls if "were missing" not in c["prompt"]]
    assert len(first) == 8 and all(len(c["cue_indexes"]) == 10 for c in first)
    again = [c for c in calls if "were missing" in c["prompt"]]
    assert again and all(len(c["cue_indexes"]) <= 2 for c in again)  # a forgotten cue (and
    # a neighbour whose answer looks too long for it: "*" -> "[de] *") asked again, no more
    assert sum(len(c["cue_indexes"]) for c in calls) <= 100
    for language in ("de", "fr"):
        document = json.loads(output(client, job, f"film.{language}.json"))
        marked = {n for n, s in enumerate(document["segments"]) if s.get("unsure")}
        assert marked == {i for c in again if c["lang"] == language for i in c["cue_indexes"]}
    engines = client.get("/api/usage").get_json()["today"]["engines"]
    assert engines["llm"]["engine_calls"] == len(calls) and "gemini" not in engines
    assert job["usage"]["input_tokens"] == sum(c["tokens_in"] for c in calls)
    assert LLM_KEY not in llm_worker.output() and LLM_KEY not in json.dumps(job)


def test_a_429_s_retry_after_is_waited_for_and_said(client, llm):
    """The server asks to wait 2 s: the next request comes no sooner, the job says it waits
    for the LLM's quota meanwhile, and it finishes."""
    llm.faults = [("429", {"retry_after": 2})]
    response = post_file(client, "film.en.srt", forty_cues(), engine="gemini", translator="llm",
                         target_languages="de")  # fmt: skip
    job_id = response.get_json()["id"]
    said = wait_for(lambda: (job_of(client, job_id).get("waiting") or {}).get("message"),
                    timeout=20, message="the job to say it waits")  # fmt: skip
    assert said.startswith("waiting for the LLM quota")
    job = wait_status(client, job_id, END, timeout=60)
    assert job["status"] == "finished", job["error"]
    calls = llm.calls_snapshot()
    (refused,) = [c for c in calls if c["status"] == 429]
    retried = [c for c in calls if c["cue_indexes"] == refused["cue_indexes"]
               and c["arrived"] > refused["arrived"]]  # fmt: skip
    assert retried and retried[0]["arrived"] - refused["finished"] >= 1.9


def test_a_server_without_json_schema_is_asked_in_json_mode(client, llm):
    """json_schema refused with a 400: the engine steps down to JSON mode and stays there."""
    llm.json_schema = False
    source = forty_cues()
    job = translated_file(client, source)
    assert job["status"] == "finished", job["error"]
    same_cues_translated(client, job, source)
    calls = sorted(llm.calls_snapshot(), key=lambda c: c["arrived"])
    formats = [c["response_format"] for c in calls]
    assert "json_schema" in formats and formats[-1] == "json_object"
    assert formats.count("json_schema") <= 2  # at most the ones in flight when it was refused
    assert formats.count("json_object") == 8


def test_a_server_with_neither_is_asked_by_prompt(client, llm):
    """No structured output at all: the answer comes fenced in prose, and is still read."""
    llm.json_schema = llm.json_object = False
    source = forty_cues()
    job = translated_file(client, source)
    assert job["status"] == "finished", job["error"]
    same_cues_translated(client, job, source)
    assert sum(c["response_format"] is None for c in llm.calls_snapshot()) == 8


def test_the_local_engine_s_english_goes_into_german_through_the_llm(client, stub, llm):
    """engine=local hears English; German is the LLM's translation of its cues, at the same
    times, cue for cue."""
    response = upload(client, DATA / "speech.wav", engine="local", target_languages="en,de",
                      translator="llm")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_status(client, response.get_json()["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    english = pysubs2.SSAFile.from_string(output(client, job, "speech.en.srt"))
    german = pysubs2.SSAFile.from_string(output(client, job, "speech.de.srt"))
    assert len(english) > 2 and len(german) == len(english)
    assert [(c.start, c.end) for c in german] == [(c.start, c.end) for c in english]
    assert all(c.plaintext.startswith("[de] ") for c in german)
    assert {c["lang"] for c in llm.calls_snapshot()} == {"de"} and stub.calls_snapshot() == []


def test_a_cancel_hangs_up_on_the_server_and_no_request_follows(client, llm, redis_url):
    """The server never answers: a cancel answers at once, the stand-in sees the client hang
    up, and no request arrives after the cancel's answer; nothing stays reserved."""
    llm.always = "hang"
    response = post_file(client, "film.en.srt", forty_cues(), engine="gemini", translator="llm",
                         target_languages="de")  # fmt: skip
    job_id = response.get_json()["id"]
    llm.wait_for_calls(2, timeout=20)  # LLM_CONCURRENCY=2: both in flight
    asked = time.monotonic()
    assert client.post(f"/api/jobs/{job_id}/cancel").get_json()["status"] == "cancelled"
    answered = time.time()
    assert time.monotonic() - asked < 1.0
    wait_for(lambda: all(c["client_disconnected"] for c in llm.calls_snapshot()), timeout=10,
             message=lambda: llm.calls_snapshot())  # fmt: skip
    stays(lambda: all(c["arrived"] < answered for c in llm.calls_snapshot()), 1.5,
          message="a request after the cancel")  # fmt: skip
    conn = redis.Redis.from_url(redis_url)
    wait_for(lambda: not [f for f in conn.hkeys(keys.spend(job_id)) if f.startswith(b"r:")],
             timeout=10, message="the job's reservations to be released")  # fmt: skip
