"""The `translator` on the form and in the API (issue 29): offered only where an LLM is
configured, who translates what, the job's line, and the estimate priced part by part.

The LLM is "configured" (LLM_BASE_URL and LLM_MODEL) at an address nobody answers: no job
runs here (each app has a queue no worker drains), so no call is made.
"""

from __future__ import annotations

import json

import pytest

from jobs.spend import pricing

from .helpers import DATA, GEMINI_KEY, make_app, upload

LLM = {"LLM_BASE_URL": "http://127.0.0.1:9/v1", "LLM_MODEL": "some-model"}
"""Settings that configure the LLM without a server behind them."""

SRT = "1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n2\n00:00:02,500 --> 00:00:04,000\nBye.\n"
"""A two-cue subtitle file."""


def app_with(base_env, **settings):
    """An app with `settings` on a queue no worker drains (its jobs stay queued)."""
    return make_app({**base_env, "QUEUE_NAME": "subcue-translator-fields", **settings})


@pytest.fixture
def with_llm(base_env):
    """A client of an app with an LLM and no Gemini."""
    return app_with(base_env, **LLM).test_client()


@pytest.fixture
def without_llm(base_env):
    """A client of an app with neither an LLM nor Gemini."""
    return app_with(base_env).test_client()


@pytest.fixture
def srt(tmp_path):
    """talk.srt on disk."""
    path = tmp_path / "talk.srt"
    path.write_text(SRT)
    return path


def new_session(client, path) -> str:
    """A session holding `path`; its id."""
    with open(path, "rb") as f:
        answer = client.post("/api/sessions", data={"file": (f, path.name)},
                             content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def error_of(answer) -> tuple[int, str]:
    """An error answer's status and code."""
    return answer.status_code, answer.get_json()["error"]["code"]


# --- the form ---


def test_the_form_offers_a_translator_only_where_an_llm_is_configured(with_llm, without_llm,
                                                                      base_env):  # fmt: skip
    """With LLM_*: "Translated by" on the upload form and the session's form, the local engine
    translated by the LLM by default; without: no such field, the local engine English only."""
    page = with_llm.get("/").get_data(as_text=True)
    assert 'name="translator"' in page and ">LLM: some-model</option>" in page
    assert 'value="local" data-languages="en"' in page and 'data-translator="llm"' in page
    assert "the translator makes every other language" in page
    assert "Local Whisper (free, hears English)" in page
    session = new_session(with_llm, DATA / "silence.wav")
    assert 'name="translator"' in with_llm.get(f"/sessions/{session}").get_data(as_text=True)

    plain = without_llm.get("/").get_data(as_text=True)
    assert 'name="translator"' not in plain and "Translated by" not in plain
    assert 'data-translator=""' in plain and "this server has neither" in plain
    assert "Local Whisper (free, English)" in plain
    session = new_session(without_llm, DATA / "silence.wav")
    assert 'name="translator"' not in without_llm.get(f"/sessions/{session}").get_data(
        as_text=True)  # fmt: skip


def test_the_model_s_name_is_escaped_on_the_form(base_env):
    """LLM_MODEL comes from the configuration, and is still written as text, never markup."""
    model = 'qwen"><script>alert(1)</script>'
    client = app_with(base_env, **{**LLM, "LLM_MODEL": model}).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "LLM: qwen&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</option>" in page


# --- jobs ---


def test_local_into_german_is_translated_by_the_llm_and_refused_without_one(with_llm, without_llm):
    """engine=local, target_languages=de: the local engine hears English, the LLM makes the
    German (the job says so); without an LLM, 422 as before."""
    job = upload(with_llm, DATA / "silence.wav", engine="local", target_languages="de")
    assert job.status_code == 202, job.get_json()
    body = job.get_json()
    assert body["params"]["translator"] == "llm" and body["params"]["target_language"] == "de"
    assert body["description"] == "translate silence.wav → de (local + llm)"
    english = upload(with_llm, DATA / "silence.wav", engine="local").get_json()
    assert english["description"] == "transcribe silence.wav (local)"

    refused = upload(without_llm, DATA / "silence.wav", engine="local", target_languages="de")
    assert error_of(refused) == (422, "engine_unsupported")
    assert "translator=llm" in refused.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"translator": "llm"}, (422, "engine_not_configured")),
        ({"translator": "gemini"}, (422, "engine_not_configured")),
        ({"translator": "bogus"}, (400, "unknown_translator")),
        ({"engine": "llm"}, (400, "unknown_engine")),
    ],
)
def test_a_translator_this_server_lacks_or_that_is_no_engine_is_refused(without_llm, fields,
                                                                        expected):  # fmt: skip
    """Upload and session job alike: the translator must be one this server has; the LLM
    hears no audio, so it is never an engine; nothing is started."""
    assert error_of(upload(without_llm, DATA / "silence.wav", **fields)) == expected
    session = new_session(without_llm, DATA / "silence.wav")
    answer = without_llm.post(f"/api/sessions/{session}/jobs",
                              json={"kind": "translate", **fields})  # fmt: skip
    assert error_of(answer) == expected
    assert without_llm.get("/api/jobs").get_json()["jobs"] == []


def test_engine_llm_is_refused_even_where_an_llm_is_configured(with_llm):
    """It translates text only: 400, naming what to send instead."""
    answer = upload(with_llm, DATA / "silence.wav", engine="llm", target_language="de")
    assert error_of(answer) == (400, "unknown_engine")
    assert "translator=llm" in answer.get_json()["error"]["message"]


def test_a_subtitle_file_is_translated_by_the_llm_without_a_gemini_key(with_llm, without_llm,
                                                                       srt):  # fmt: skip
    """translator=llm takes a subtitle file on a server without Gemini; without a translator
    it is refused as before."""
    session = new_session(with_llm, srt)
    answer = with_llm.post(f"/api/sessions/{session}/jobs",
                           json={"kind": "translate", "translator": "llm",
                                 "target_languages": ["de", "fr"]})  # fmt: skip
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()
    assert job["params"]["translator"] == "llm" and job["params"]["engine"] == "local"
    assert job["description"] == "translate talk.srt → de, fr (local + llm)"

    session = new_session(without_llm, srt)
    refused = without_llm.post(f"/api/sessions/{session}/jobs",
                               json={"kind": "translate", "target_language": "de"})  # fmt: skip
    assert error_of(refused) == (422, "engine_unsupported")


def test_a_gemini_job_names_the_llm_when_it_translates(base_env):
    """Gemini hears, the LLM translates the second language: '(gemini + llm)'; Gemini alone
    stays '(gemini)'."""
    client = app_with(base_env, **LLM, GEMINI_API_KEY=GEMINI_KEY).test_client()
    both = upload(client, DATA / "silence.wav", engine="gemini", translator="llm",
                  target_languages="de,fr").get_json()  # fmt: skip
    assert both["params"]["translator"] == "llm"
    assert both["description"] == "translate silence.wav → de, fr (gemini + llm)"
    alone = upload(client, DATA / "silence.wav", engine="gemini",
                   target_languages="de,fr").get_json()  # fmt: skip
    assert alone["params"]["translator"] == "gemini"
    assert alone["description"] == "translate silence.wav → de, fr (gemini)"


# --- the estimate ---


def estimate(client, query: str) -> dict:
    """GET /api/estimate?<query>, which must answer 200."""
    answer = client.get(f"/api/estimate?{query}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_estimate_prices_each_part_by_who_does_it(base_env, with_llm):
    """local + LLM into German: free without LLM_PRICES, the text part priced with it; Gemini
    hearing and the LLM translating: the audio at Gemini's prices, the text at the LLM's; the
    totals are the parts' sums."""
    free = estimate(with_llm, "engine=local&target_languages=de&duration_s=600")
    assert free["translator"] == "llm" and free["free"] is True and free["cost_usd"] == 0
    assert [(p["engine"], p["what"]) for p in free["parts"]] == [
        ("local", "audio"),
        ("llm", "text"),
    ]
    assert free["parts"][1]["prices"]["source"] == "unset" and free["parts"][1]["calls"] == 2
    assert free["calls"] == sum(p["calls"] for p in free["parts"])
    assert "LLM_PRICES is not set" in free["note"]

    priced = app_with(base_env, **LLM, LLM_PRICES="0.5,1.5").test_client()
    paid = estimate(priced, "engine=local&target_languages=de&duration_s=600")
    assert paid["free"] is False and paid["parts"][0]["free"] is True
    text = paid["parts"][1]
    assert text["prices"]["source"] == "LLM_PRICES" and text["model"] == "some-model"
    assert (text["prices"]["input_per_million_usd"], text["prices"]["output_per_million_usd"]) \
        == (0.5, 1.5)  # fmt: skip
    assert paid["cost_usd"] == text["cost_usd"] > 0 and paid["max_cost_usd"] > paid["cost_usd"]
    assert paid["model"] == "tiny.en + some-model"

    mixed = app_with(base_env, **LLM, LLM_PRICES="0.5,1.5", GEMINI_API_KEY=GEMINI_KEY)
    both = estimate(
        mixed.test_client(), "engine=gemini&translator=llm&target_languages=de,fr&duration_s=600"
    )
    audio, text = both["parts"]
    assert (audio["engine"], audio["model"], text["engine"]) == ("gemini", "gemini-2.5-flash",
                                                                 "llm")  # fmt: skip
    assert audio["prices"]["source"] == pricing.PRICES_SOURCE
    assert both["cost_usd"] == pytest.approx(audio["cost_usd"] + text["cost_usd"], abs=1e-6)
    assert both["prices"] == audio["prices"] and both["translator"] == "llm"


def test_the_estimate_takes_subtitle_files_with_an_llm_and_refuses_what_it_cannot_price(
    with_llm, without_llm
):
    """Subtitle files need a translator, not Gemini; a translator this server lacks, or no
    translator for another language, are the job's own refusals."""
    text = estimate(with_llm, "translator=llm&target_language=de&text_chars=9000")
    assert [(p["engine"], p["what"], p["calls"]) for p in text["parts"]] == [("llm", "text", 2)]
    for query, expected in (("text_chars=900&target_language=de", (422, "engine_unsupported")),
                            ("duration_s=60&translator=llm", (422, "engine_not_configured")),
                            ("duration_s=60&translator=bogus", (400, "unknown_translator")),
                            ("duration_s=60&engine=llm", (400, "unknown_engine")),
                            ("duration_s=60&target_language=de",
                             (422, "engine_unsupported"))):  # fmt: skip
        assert error_of(without_llm.get(f"/api/estimate?{query}")) == expected, query


def test_the_contract_describes_the_translator_and_the_estimate_s_parts(with_llm):
    """OpenAPI: translator (gemini or llm) on both job requests and the estimate, engine
    without llm, and the estimate's translator and parts."""
    spec = with_llm.get("/api/openapi.json").get_json()
    upload_fields = spec["paths"]["/api/jobs"]["post"]["requestBody"]["content"][
        "multipart/form-data"]["schema"]["properties"]  # fmt: skip
    session_fields = spec["paths"]["/api/sessions/{session_id}/jobs"]["post"]["requestBody"][
        "content"]["application/json"]["schema"]["properties"]  # fmt: skip
    for fields in (upload_fields, session_fields):
        assert fields["translator"]["enum"] == ["gemini", "llm"]
        assert fields["engine"]["enum"] == ["local", "gemini"]
        assert "unknown_engine" in fields["engine"]["description"]
    query = {p["name"]: p for p in spec["paths"]["/api/estimate"]["get"]["parameters"]}
    assert query["translator"]["schema"]["enum"] == ["gemini", "llm"]
    schemas = spec["components"]["schemas"]
    assert {"translator", "parts"} <= set(schemas["Estimate"]["properties"])
    part = schemas["EstimatePart"]["properties"]
    assert part["what"]["enum"] == ["audio", "text"] and "llm" in part["engine"]["enum"]
    json.dumps(spec)  # serialisable as it is served
