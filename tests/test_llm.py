"""The text engine `llm` with the real `openai` client against the chat-completions stand-in
(tests/llm_stub.py) and real workers: a 40-cue SRT into two languages and a local transcript
into German, cue for cue at the same times; forgotten cues asked again; a 429 whose
Retry-After is honoured; a server without json_schema, streaming, and a cancel mid-request;
a cap the bill does not pass with several calls in flight, and a retry that pays for no batch
twice; a priced server ignoring max_tokens stopped after one call; the glossary in every call;
the key nowhere to be read."""

from __future__ import annotations

import json
import time

import pysubs2
import pytest

from .gemini_stub import GeminiStub
from .helpers import (
    DATA,
    GEMINI_KEY,
    WorkerProcess,
    scan_redis,
    stays,
    upload,
    wait_for,
    wait_for_status,
)
from .helpers import make_app as app_of
from .llm_stub import LlmStub
from .test_subtitle_files import check_cue_for_cue, forty_cues, output, post_file

END = {"finished", "failed", "cancelled"}
LLM_KEY = "sk-llm-test-KEY-5678"
"""The key the stand-in asks for: distinctive enough to grep for."""


@pytest.fixture(scope="module")
def llm():
    """One chat-completions stand-in for the module, asking for LLM_KEY."""
    with LlmStub(api_key=LLM_KEY) as found:
        yield found


@pytest.fixture(scope="module")
def gemini():
    """A Gemini stand-in that no job of this module may call (translator=llm never does)."""
    with GeminiStub(api_key=GEMINI_KEY) as found:
        yield found


@pytest.fixture(autouse=True)
def clean_stubs(llm, gemini):
    llm.reset()
    gemini.reset()


def llm_env(base_env: dict, llm: LlmStub, gemini: GeminiStub, queue: str, **extra) -> dict:
    """Settings with the LLM pointed at the stand-in (and Gemini configured too, at a
    stand-in that must stay silent), on a queue of its own."""
    return {**base_env, "QUEUE_NAME": queue, "LLM_BASE_URL": llm.base_url,
            "LLM_MODEL": "stub-model", "LLM_API_KEY": LLM_KEY, "LLM_CUES_PER_CALL": "10",
            "GEMINI_API_KEY": GEMINI_KEY, "GEMINI_BASE_URL": gemini.url, **extra}  # fmt: skip


@pytest.fixture(scope="module")
def env(base_env, llm, gemini) -> dict:
    """The module's settings: LLM_CONCURRENCY=2, no streaming, LLM_RESPONSE_FORMAT=auto."""
    return llm_env(base_env, llm, gemini, "subcue-llm")


@pytest.fixture(scope="module")
def module_worker(env, tmp_path_factory):
    """A real worker with the module's settings."""
    proc = WorkerProcess(env, tmp_path_factory.mktemp("llm") / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture
def client(env, module_worker):
    return app_of(env).test_client()


def cues_of(client, job: dict, name: str) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text with its lines joined by a space) of an SRT output."""
    found = pysubs2.SSAFile.from_string(output(client, job, name), keep_html_tags=True)
    return [(e.start, e.end, " ".join(e.text.split("\\N"))) for e in found]


def test_a_40_cue_srt_into_two_languages_with_the_llm_never_calls_gemini(client, llm, gemini):
    """Every third answer forgets a cue: both languages still have the 40 cues at the input's
    times, each with its own translation; the forgotten ones were asked again (only they),
    with the glossary-free prompt, the context and json_schema; Gemini heard nothing."""
    source = forty_cues()
    llm.faults = [("forget", {}) if n % 3 == 0 else ("ok", {}) for n in range(30)]
    response = post_file(client, "film.en.srt", source, translator="llm",
                         target_languages="de,fr")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["params"]["translator"] == "llm"
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    for language in ("de", "fr"):
        check_cue_for_cue(client, job, source, f"film.{language}.srt", language)
    calls = llm.calls_snapshot()
    assert any(c["fault"] == "forget" for c in calls)
    assert {c["response_format"] for c in calls} == {"json_schema"}
    sent = sum(len(c["cue_indexes"]) for c in calls)
    assert 80 < sent <= 100, sent  # the forgotten cues were asked again, and only they
    assert all(c["authorization"] for c in calls)
    later = [c for c in calls if c["cue_indexes"] and min(c["cue_indexes"]) >= 10]
    assert later and all("Context only" in c["prompt"] for c in later)
    assert gemini.calls_snapshot() == []
    usage = client.get("/api/usage").get_json()["today"]["engines"]
    assert usage["llm"]["engine_calls"] >= len(calls) - 1 and "gemini" not in usage


def test_a_local_transcript_into_german_cue_for_cue(client, llm, gemini):
    """engine=local with en,de: the English heard, the German made by the LLM from it, cue
    for cue at the same times; with de alone, only the German is written, the same."""
    both = upload(client, DATA / "speech.wav", engine="local", target_languages="en,de")
    assert both.status_code == 202, both.get_json()
    assert both.get_json()["params"]["translator"] == "llm"
    job = wait_for_status(client, both.get_json()["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    english, german = cues_of(client, job, "speech.en.srt"), cues_of(client, job, "speech.de.srt")
    assert len(english) >= 3 and len(german) == len(english)
    for (start, end, text), (start_de, end_de, text_de) in zip(english, german, strict=True):
        assert (start_de, end_de) == (start, end)
        assert text_de == f"[de] {text}"
    assert {c["lang"] for c in llm.calls_snapshot()} == {"de"}

    alone = upload(client, DATA / "speech.wav", engine="local", target_language="de")
    assert alone.status_code == 202, alone.get_json()
    only = wait_for_status(client, alone.get_json()["id"], END, timeout=120)
    assert only["status"] == "finished", only["error"]
    assert {o["language"] for o in only["outputs"]} == {"de"}
    assert cues_of(client, only, "speech.de.srt") == german
    assert gemini.calls_snapshot() == []


def test_a_429_waits_as_long_as_its_retry_after_says(client, llm):
    """The first answer is a 429 asking for 2 s: its batch is asked again no sooner, and the
    job finishes. (The other batch of LLM_CONCURRENCY=2 went at the same time as the refused
    one, before anyone knew of the 429: the retry is what must wait.)"""
    llm.faults = [("429", {"retry_after": 2})]
    response = post_file(client, "short.srt", forty_cues(), translator="llm",
                         target_language="de")  # fmt: skip
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    calls = llm.calls_snapshot()
    assert calls[0]["status"] == 429
    again = [c for c in calls[1:] if c["cue_indexes"] == calls[0]["cue_indexes"]]
    assert again and again[0]["arrived"] - calls[0]["finished"] >= 1.9


def test_an_answer_that_stays_unusable_fails_the_job_clearly(client, llm):
    """A server answering garbage every time: the job fails with llm_bad_answer after
    bounded attempts, and says so."""
    llm.always = "malformed"
    response = post_file(client, "bad.srt", forty_cues(), translator="llm", target_language="de")
    job = wait_for_status(client, response.get_json()["id"], END, timeout=120)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "llm_bad_answer", job["error"]
    assert len(llm.calls_snapshot()) <= 10


def test_cancel_mid_request_aborts_it_and_no_request_follows(client, llm):
    """The server takes its time: cancel answers `cancelled`, the request in flight is cut,
    and no request arrives after the answer."""
    llm.always = "hang"
    response = post_file(client, "slow.srt", forty_cues(), translator="llm",
                         target_languages="de,fr")  # fmt: skip
    # Both requests LLM_CONCURRENCY lets go at once are in: one sent just before the cancel
    # could otherwise reach the stand-in after the answer.
    llm.wait_for_calls(2, timeout=20)
    job_id = response.get_json()["id"]
    assert client.post(f"/api/jobs/{job_id}/cancel").get_json()["status"] == "cancelled"
    answered = time.time()
    wait_for(lambda: all(c["client_disconnected"] for c in llm.calls_snapshot()), timeout=3,
             message="the request in flight to be cut")  # fmt: skip
    stays(lambda: all(c["arrived"] < answered for c in llm.calls_snapshot()), 1.5,
          message="no request after the cancel answered")  # fmt: skip


@pytest.mark.parametrize("stream", ["on", "off"])
def test_without_json_schema_it_steps_down_and_still_translates(base_env, llm, gemini,
                                                                start_worker, stream):  # fmt: skip
    """A server that refuses json_schema (LM Studio refuses json_object, DeepSeek json_schema):
    JSON mode, then a strict prompt; streamed or not, the cues come back the same."""
    env = llm_env(base_env, llm, gemini, f"subcue-llm-modes-{stream}", LLM_STREAM=stream)
    start_worker(env)
    client = app_of(env).test_client()
    llm.json_schema = False
    response = post_file(client, "film.srt", forty_cues(), translator="llm", target_language="de")
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    assert len(cues_of(client, job, "film.de.srt")) == 40
    answered = [c for c in llm.calls_snapshot() if c["status"] == 200]
    assert {c["response_format"] for c in answered} == {"json_object"}
    assert all(c["stream"] == (stream == "on") for c in answered)

    llm.reset()
    llm.json_schema = llm.json_object = False
    response = post_file(client, "film.srt", forty_cues(), translator="llm", target_language="fr")
    job = wait_for_status(client, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    texts = [text for _, _, text in cues_of(client, job, "film.fr.srt")]
    assert len(texts) == 40 and all(t.startswith("[fr] ") for t in texts)
    answered = [c for c in llm.calls_snapshot() if c["status"] == 200]
    assert answered and {c["response_format"] for c in answered} == {None}


def test_a_cap_holds_with_several_calls_in_flight(base_env, llm, gemini, start_worker):
    """Priced at $10 per million tokens both ways, three calls at a time, capped below what
    the whole job costs: it stops with budget_exhausted, and what the stand-in billed costs
    no more than the cap."""
    env = llm_env(base_env, llm, gemini, "subcue-llm-cap", LLM_PRICES="10,10",
                  LLM_CONCURRENCY="3", LLM_CUES_PER_CALL="4")  # fmt: skip
    start_worker(env)
    client = app_of(env).test_client()
    llm.latency = 0.5
    cap = 0.05  # a call reserves about $0.02 (its bounds) and costs about $0.004: two fit
    response = post_file(client, "film.srt", forty_cues(), translator="llm",
                         target_languages="de,fr", max_cost_usd=str(cap))  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(client, response.get_json()["id"], END, timeout=120)
    assert job["status"] == "failed" and job["error"]["code"] == "budget_exhausted", job
    calls = llm.calls_snapshot()
    billed = sum(c["tokens_in"] * 10 + c["tokens_out"] * 10 for c in calls) / 1e6
    assert 0 < billed <= cap
    assert llm.max_in_flight() >= 2, "the cap must hold with several calls in flight"
    assert job["usage"]["cost_usd"] <= cap
    assert job["usage"]["cost_usd"] >= billed - 1e-6  # counted, never less
    assert len(calls) < 20  # the job wanted 20 calls

    llm.latency = 0.0  # a retry with room finishes, and pays for no batch twice
    again = client.post(f"/api/jobs/{job['id']}/retry", json={"max_cost_usd": 1.0})
    assert again.status_code == 202, again.get_json()
    job = wait_for_status(client, job["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    answered = [(c["lang"], tuple(c["cue_indexes"])) for c in llm.calls_snapshot()
                if c["status"] == 200]  # fmt: skip
    assert len(answered) == len(set(answered)) == 20  # each batch answered once, all in all


def test_a_paid_server_that_bills_past_max_tokens_stops_the_job_after_that_call(
    base_env, llm, gemini, start_worker, client
):
    """A model that rambles on after its answer on a server that ignores max_tokens: each
    call could cost any amount, so no reservation bounds it. Priced, the job fails
    llm_unbounded after the first such call, billed as the server reported (the cap is not
    passed by a second); free (LLM_PRICES unset), the same answers are only text to dig out."""
    llm.ramble = 3000  # 18,000 tokens of "That is all, and so on." after every answer
    env = llm_env(base_env, llm, gemini, "subcue-llm-ramble", LLM_PRICES="10,10",
                  LLM_CONCURRENCY="1")  # fmt: skip
    start_worker(env)
    paid = app_of(env).test_client()
    response = post_file(paid, "film.srt", forty_cues(), translator="llm",
                         target_language="de", max_cost_usd="5")  # fmt: skip
    assert response.status_code == 202, response.get_json()
    job = wait_for_status(paid, response.get_json()["id"], END, timeout=60)
    assert job["status"] == "failed" and job["error"]["code"] == "llm_unbounded", job
    (call,) = llm.calls_snapshot()
    assert call["tokens_out"] > call["max_tokens"]
    assert f"billed {call['tokens_out']} output tokens" in job["error"]["message"]
    billed = (call["tokens_in"] * 10 + call["tokens_out"] * 10) / 1e6
    assert job["usage"]["cost_usd"] == pytest.approx(billed, abs=2e-6)

    llm.reset()
    llm.ramble = 3000
    free = post_file(client, "film.srt", forty_cues(), translator="llm", target_language="de")
    job = wait_for_status(client, free.get_json()["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    assert job["usage"]["cost_usd"] == 0


def test_the_glossary_goes_with_every_llm_call(client, llm):
    """A session's glossary is in every request the LLM gets for the session's jobs."""
    created = post_file(client, "film.srt", forty_cues(), translator="llm", target_language="de")
    job = wait_for_status(client, created.get_json()["id"], END, timeout=60)
    sid = job["session_id"]
    glossary = [{"term": "Subcue", "translation": "Subcue", "note": "a product name"},
                {"term": "council", "translation": "Rat", "note": ""}]  # fmt: skip
    saved = client.put(f"/api/sessions/{sid}/glossary", json={"glossary": glossary})
    assert saved.status_code == 200, saved.get_json()
    llm.reset()
    job = client.post(f"/api/sessions/{sid}/jobs", json={"translator": "llm",
                      "target_languages": ["de", "fr"]}).get_json()  # fmt: skip
    job = wait_for_status(client, job["id"], END, timeout=60)
    assert job["status"] == "finished", job["error"]
    calls = llm.calls_snapshot()
    assert len(calls) == 8  # 40 cues, 10 a call, two languages
    for call in calls:
        assert "- Subcue → Subcue (a product name)" in call["prompt"]
        assert "- council → Rat" in call["prompt"]


def test_the_llm_key_never_reaches_redis_logs_or_pages(client, llm, conn, module_worker):
    """After a finished and a failed LLM job, the key is nowhere to be read."""
    jobs = []
    for fault, language in (("ok", "de"), ("400", "it")):
        llm.always = fault
        sent = post_file(client, "film.srt", forty_cues(), translator="llm",
                         target_language=language)  # fmt: skip
        jobs.append(wait_for_status(client, sent.get_json()["id"], END, timeout=60))
    assert [j["status"] for j in jobs] == ["finished", "failed"]
    assert jobs[1]["error"]["code"] == "llm_rejected"
    assert conn.dbsize() > 0
    assert scan_redis(conn, LLM_KEY.encode()) == []
    assert LLM_KEY not in module_worker.output()
    assert "event=" in module_worker.output()  # a real log was read
    for url in ("/healthz", "/api/jobs", *(f"/api/jobs/{j['id']}" for j in jobs)):
        body = client.get(url).get_data(as_text=True)
        assert LLM_KEY not in body, url
    assert json.dumps(jobs[1]["params"]).find("sk-") == -1
