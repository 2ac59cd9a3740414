"""The "Translated by" choice in a real headless Chromium against gunicorn and Redis: with an
LLM configured, the local engine offers every language, the estimate prices each part by who
does it, the form posts the translator, and the owner's spend shows the LLM like Gemini
(screenshots in tests/artifacts/).

No worker drains the module's queue: the jobs stay queued, so no engine is ever called (the
LLM is "configured" at an address nobody answers).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jobs.spend import ledger
from jobs.spend.usage import Usage

from .browser import Gunicorn, shot
from .helpers import DATA, gemini_env

pytestmark = pytest.mark.browser

MODEL = "qwen2.5:7b"
"""LLM_MODEL, as the form shows it."""


@pytest.fixture(scope="module")
def env(base_env, stub) -> dict:
    """Gemini (the stand-in) and an LLM, on a queue of the module's own."""
    return gemini_env(base_env, stub.url, "subcue-translator-browser",
                      LLM_BASE_URL="http://127.0.0.1:9/v1", LLM_MODEL=MODEL)  # fmt: skip


@pytest.fixture(scope="module")
def web(env, tmp_path_factory):
    """gunicorn serving the app, and no worker: what the form starts stays queued."""
    server = Gunicorn(env, tmp_path_factory.mktemp("translator-web") / "gunicorn.log")
    yield server
    server.stop()


def test_the_local_engine_with_the_llm_offers_every_language_and_posts_the_translator(
    chromium, web
):
    """Local engine: "Translated by" the LLM, German on offer, the estimate free (the LLM
    has no LLM_PRICES), and the job the form starts is the LLM's to translate."""
    page = chromium.first_page()
    page.goto(web.url + "/")
    translator = page.locator("#translator")
    expect(translator.locator("option")).to_have_text(["Gemini", f"LLM: {MODEL}"])
    page.select_option("#engine", "local")
    expect(translator).to_have_value("llm")
    expect(page.locator("#target_language")).to_be_enabled()
    page.select_option("#target_language", "de")
    expect(page.locator(".engine-note")).to_contain_text(
        "it hears English speech; the translator makes every other language from its "
        f"English. Translations: The OpenAI-compatible server this deployment runs or pays for "
        f"({MODEL})."
    )
    expect(page.locator("#more_languages")).to_be_visible()
    expect(page.locator("#max_cost_usd")).to_be_hidden()  # nothing paid: nothing to cap
    page.set_input_files("#file", str(DATA / "speech.mp4"))
    expect(page.locator("#estimate")).to_have_text(
        re.compile(r"^Estimate: free \(runs on this server; the LLM is priced at \$0\), about ")
    )
    shot(page, "form-translator.png", full_page=False)

    page.click("#submit")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    job = page.request.get(web.url + "/api" + page.url.split(web.url, 1)[1]).json()
    assert job["params"]["translator"] == "llm" and job["params"]["target_language"] == "de"
    assert job["description"] == "translate speech.mp4 → de (local + llm)"
    page.request.post(f"{web.url}/api/jobs/{job['id']}/cancel")


def test_gemini_hearing_and_the_llm_translating_shows_each_part(chromium, web):
    """Gemini's jobs are Gemini's to translate by default; choosing the LLM for a second
    language prices the audio at Gemini's and the text as the LLM's, on one line."""
    page = chromium.first_page()
    page.goto(web.url + "/")
    page.select_option("#engine", "gemini")
    expect(page.locator("#translator")).to_have_value("gemini")
    page.select_option("#target_language", "de")
    page.locator("#more_languages summary").click()
    page.check("#also_fr")
    page.set_input_files("#file", str(DATA / "speech.mp4"))
    estimate = page.locator("#estimate")
    expect(estimate).to_contain_text(re.compile(r"\d+ Gemini calls · about .*\(the text "
                                                r"translations included\)\.$"))  # fmt: skip
    page.select_option("#translator", "llm")
    expect(estimate).to_have_text(re.compile(
        r"^Estimate: about \$0\.\d{4}, at most \$0\.\d{4} · \d+ Gemini \+ 1 LLM calls · about "
        r".*\(audio by Gemini: about \$0\.\d{4}, text by LLM: free\)\.$"))  # fmt: skip
    expect(page.locator(".engine-note")).to_contain_text("Translations: The OpenAI-compatible")
    shot(page, "form-translator-gemini.png", full_page=False)


def test_the_session_form_offers_the_translator_and_the_spend_shows_the_llm(chromium, web,
                                                                            conn):  # fmt: skip
    """The session page's form has the same choice; the owner's spend names the LLM's calls
    as it names Gemini's, even at $0."""
    page = chromium.first_page()
    page.goto(web.url + "/")
    owner = page.request.get(web.url + "/api/me").json()["owner"]
    ledger.settle_reservation(
        conn,
        "no-job",
        owner,
        None,
        2500,
        engine="llm",
        usage=Usage(engine_calls=3, input_tokens=900, output_tokens=400),
    )
    ledger.settle_reservation(conn, "no-job", owner, None, 0, engine="local",
                              usage=Usage(engine_calls=5))  # fmt: skip
    page.reload()
    expect(page.locator("#usage-line")).to_have_text(
        "Spent today: $0.0025 (llm: 3 calls) · this month: $0.0025."
    )
    with open(DATA / "speech.wav", "rb") as f:
        session = page.request.post(web.url + "/api/sessions", multipart={"file": {
            "name": "speech.wav", "mimeType": "audio/wav", "buffer": f.read()}}).json()  # fmt: skip
    page.goto(f"{web.url}/sessions/{session['id']}")
    form = page.locator("#start-job")
    form.locator("select[name=engine]").select_option("local")
    expect(form.locator("select[name=translator]")).to_have_value("llm")
    form.locator("select[name=target_language]").select_option("fr")
    expect(form.locator(".estimate")).to_contain_text("Estimate: free")
    shot(page, "session-translator.png")
