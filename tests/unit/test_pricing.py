"""What paid work costs: prices, the most a call can cost, and a job's estimate."""

from __future__ import annotations

import pytest

from jobs.config import parse_override
from jobs.spend import pricing
from jobs.subtitles.speakers import MAX_NAME_CHARS, prompt_lines
from jobs.work.engines.gemini_protocol import (
    ANALYSIS_SCHEMA,
    CONTEXT_CHARS,
    RESPONSE_SCHEMA,
    SYSTEM_INSTRUCTION,
    analysis_prompt,
    prompt,
)

SETUP = pricing.Setup(chunk_seconds=30.0, concurrency=4)


def test_prices_follow_the_longest_known_model_prefix():
    """flash-lite is not priced as flash; an unknown model falls back, and says so."""
    assert pricing.prices_for("gemini-2.5-flash-lite-preview").input == 0.30
    flash = pricing.prices_for("models/gemini-2.5-flash")
    assert (flash.input, flash.output, flash.known) == (1.00, 2.50, True)
    assert pricing.prices_for("gemini-9-ultra").known is False


def test_gemini_prices_overrides_the_table_and_rejects_nonsense():
    """GEMINI_PRICES="input,output" in USD per million tokens; anything else is an error."""
    mine = pricing.prices_for("gemini-2.5-flash", "0.5, 4")
    assert (mine.input, mine.output, mine.overridden) == (0.5, 4.0, True)
    assert mine.as_dict()["source"] == "GEMINI_PRICES"
    for bad in ("1", "a,b", "1,2,3", "-1,2", "nan,1"):
        with pytest.raises(ValueError, match="GEMINI_PRICES"):
            parse_override(bad)


def test_money_is_counted_in_micro_dollars_rounded_up():
    """What Subcue counts is never less than what the tokens cost."""
    flash = pricing.prices_for("gemini-2.5-flash")
    assert flash.micros(1, 0) == 1  # a millionth of a micro-dollar still counts as one
    assert flash.micros(1000, 400) == 2000
    assert flash.micros(1000, 400) >= flash.usd(1000, 400) * 1e6


def test_a_request_s_input_bound_covers_its_audio_and_every_byte_of_its_text():
    """32 tokens a second of audio, and never more tokens than UTF-8 bytes of text."""
    assert pricing.input_bound(30.0, "") == 961
    assert pricing.input_bound(1.0, "ab") == 32 + 1 + 2
    assert pricing.input_bound(0.0, "日本") == 1 + 6


def test_the_request_text_constants_cover_the_real_requests():
    """REQUEST_CHARS and REQUEST_BYTES_MOST hold what Subcue really sends with a full context,
    in Latin and in a three-byte script."""
    many = [{"speaker": c * MAX_NAME_CHARS} for c in "abcdefghij"]  # the longest names
    wide = [{"speaker": chr(0x8A9E + n) * MAX_NAME_CHARS} for n in range(10)]  # 3 bytes each
    for context, speaking in (("x" * CONTEXT_CHARS, many), ("語" * CONTEXT_CHARS, wide)):
        told, _ = prompt_lines(speaking)
        text = pricing.request_text(prompt("ja", 30.0, context, speakers=told), SYSTEM_INSTRUCTION,
                                 RESPONSE_SCHEMA)  # fmt: skip
        assert len(text.encode()) <= pricing.REQUEST_BYTES_MOST
    told, _ = prompt_lines(many)
    latin = pricing.request_text(prompt("en", 30.0, "x" * CONTEXT_CHARS, speakers=told),
                              SYSTEM_INSTRUCTION, RESPONSE_SCHEMA)  # fmt: skip
    assert len(latin) <= pricing.REQUEST_CHARS
    analysis = pricing.request_text(analysis_prompt(7200.0), ANALYSIS_SCHEMA)
    assert len(analysis.encode()) <= pricing.REQUEST_BYTES_MOST


def test_max_output_grows_with_the_chunk():
    """A longer chunk may say more; a tiny one still has room for its JSON."""
    assert pricing.max_output_tokens(0.5) >= pricing.OUTPUT_TOKENS_BASE
    assert pricing.max_output_tokens(30.0) > pricing.max_output_tokens(6.0)


def test_a_gemini_estimate_is_below_its_worst_case_and_grows_with_the_media():
    """Expected <= worst; twice the media costs about twice as much; calls follow chunks."""
    flash = pricing.prices_for("gemini-2.5-flash")
    short = pricing.estimate("gemini", "translate", [300.0], flash, SETUP)
    long = pricing.estimate("gemini", "translate", [600.0], flash, SETUP)
    assert 0 < short["cost_usd"] < short["max_cost_usd"]
    assert long["cost_usd"] == pytest.approx(2 * short["cost_usd"], rel=0.15)
    assert short["calls"] == 11  # 300 s in chunks cut up to 5 s early: about 27.5 s each
    assert short["prices"]["as_of"] == pricing.PRICES_AS_OF and short["free"] is False


def test_several_files_cost_the_sum_of_each():
    """A session's estimate is its files' together (each file is chunked on its own)."""
    flash = pricing.prices_for("gemini-2.5-flash")
    one = pricing.estimate("gemini", "translate", [100.0], flash, SETUP)
    two = pricing.estimate("gemini", "translate", [100.0, 100.0], flash, SETUP)
    assert two["calls"] == 2 * one["calls"]
    assert two["max_cost_usd"] == pytest.approx(2 * one["max_cost_usd"], rel=0.01)


def test_analysis_is_one_call_a_file():
    flash = pricing.prices_for("gemini-2.5-flash")
    found = pricing.estimate("gemini", "analyze", [600.0, 60.0], flash, SETUP)
    assert found["calls"] == 2 and found["max_cost_usd"] > found["cost_usd"] > 0


def test_the_local_engine_is_free_and_says_so():
    found = pricing.estimate("local", "translate", [600.0], None, SETUP)
    assert found["cost_usd"] == found["max_cost_usd"] == 0 and found["free"] is True
    assert "Free" in found["note"] and found["seconds"] > 0


def test_a_rate_limit_lengthens_the_expected_wall_time():
    """With GEMINI_RPM=10, 40 calls need about three more minutes, whatever the concurrency."""
    flash = pricing.prices_for("gemini-2.5-flash")
    free = pricing.estimate("gemini", "translate", [1200.0], flash, SETUP)
    limited = pricing.estimate("gemini", "translate", [1200.0], flash,
                            pricing.Setup(30.0, 4, rpm=10))  # fmt: skip
    assert limited["seconds"] >= 3 * 60 > free["seconds"]


def test_dollars_read_as_people_write_them():
    assert pricing.usd(0.01234) == "$0.0123"
    assert pricing.usd(1234.5) == "$1,234.50"


def test_more_languages_are_text_calls_and_a_subtitle_file_costs_less_than_its_audio():
    """Audio is heard once: a second language adds text calls that cost a fraction of the
    audio's; a subtitle file of the same speech costs less than the audio itself."""
    flash = pricing.prices_for("gemini-2.5-flash")
    one = pricing.estimate("gemini", "translate", [600.0], flash, SETUP)
    two = pricing.estimate("gemini", "translate", [600.0], flash, SETUP, languages=2)
    assert two["calls"] == one["calls"] + 2  # 9,000 characters of speech: two text calls
    assert one["cost_usd"] < two["cost_usd"] < 1.5 * one["cost_usd"]
    assert two["max_cost_usd"] > one["max_cost_usd"]
    text = pricing.estimate("gemini", "translate", [], flash, SETUP, text_chars=[9000])
    assert text["calls"] == 2 and 0 < text["cost_usd"] < one["cost_usd"] / 3
    assert text["cost_usd"] < text["max_cost_usd"]


def test_a_text_call_s_own_text_fits_what_the_estimate_counts():
    """Instruction, system text, schema and three cues of context (no glossary)."""
    from jobs.work.engines.cue_text import (
        CUES_INSTRUCTION,
        CUES_SCHEMA,
        context_part,
        cues_prompt,
    )

    context = context_part([(i, "A line of about forty characters, said.") for i in range(3)])
    own = pricing.request_text(cues_prompt("fa", 100), CUES_INSTRUCTION, CUES_SCHEMA, context)
    assert len(own) <= pricing.TEXT_CALL_CHARS


def test_a_glossary_is_paid_with_every_call():
    """A session's glossary goes with every call, audio and text: the estimate grows by its
    tokens times the calls, and the worst case by its bytes times the most calls there may be
    (chunks cut early make a few more)."""
    flash = pricing.prices_for("gemini-2.5-flash")
    glossary = "\n".join(["Glossary: always use these translations:"]
                         + [f"- Term number {n} → Begriff {n}" for n in range(200)])  # fmt: skip
    plain = pricing.estimate("gemini", "translate", [600.0], flash, SETUP, languages=2)
    with_it = pricing.estimate("gemini", "translate", [600.0], flash, SETUP, languages=2,
                            glossary=glossary)  # fmt: skip
    assert with_it["calls"] == plain["calls"] == 24
    tokens = -(-len(glossary) // pricing.CHARS_PER_TOKEN) * 24
    assert with_it["cost_usd"] - plain["cost_usd"] == pytest.approx(
        flash.usd(tokens, 0), abs=2e-6)  # fmt: skip
    per_call = flash.usd(len(glossary.encode()), 0)
    extra_worst = with_it["max_cost_usd"] - plain["max_cost_usd"]
    assert 24 * per_call - 2e-6 <= extra_worst <= 30 * per_call


LLM_FREE = pricing.Prices("qwen2.5:7b", 0.0, 0.0, known=False, source=pricing.LLM_FREE)
"""An LLM without LLM_PRICES: its calls count at $0."""

LLM_PAID = pricing.Prices("gpt-4o-mini", 0.15, 0.60, overridden=True, source="LLM_PRICES")
"""An LLM with LLM_PRICES=0.15,0.60."""


def test_local_hearing_and_an_unpriced_llm_translating_is_free():
    """The local engine hears English; every other language is the LLM's text, and with
    LLM_PRICES unset the whole job is free, each part saying who does it."""
    found = pricing.estimate("local", "translate", [600.0], None, SETUP, languages=1,
                             translator="llm", text_prices=LLM_FREE, translated=1)  # fmt: skip
    audio, text = found["parts"]
    assert (audio["engine"], audio["what"], text["engine"], text["what"]) == (
        "local", "audio", "llm", "text")  # fmt: skip
    assert found["free"] is True and found["cost_usd"] == found["max_cost_usd"] == 0
    assert text["calls"] == 2 and text["free"] is True and text["prices"]["source"] == "unset"
    assert found["calls"] == audio["calls"] + text["calls"] and found["prices"] is None
    assert found["note"].startswith("Free: the local engine runs on this server; the LLM's")


def test_local_hearing_and_a_priced_llm_pays_for_the_text_only():
    """With LLM_PRICES the text part costs its tokens at the LLM's prices; the audio stays
    free; the totals are the text's."""
    found = pricing.estimate("local", "translate", [600.0], None, SETUP, translator="llm",
                             text_prices=LLM_PAID, translated=2)  # fmt: skip
    audio, text = found["parts"]
    assert audio["free"] is True and audio["cost_usd"] == 0
    assert 0 < text["cost_usd"] < text["max_cost_usd"] and text["free"] is False
    assert text["prices"]["source"] == "LLM_PRICES" and text["model"] == "gpt-4o-mini"
    assert (found["cost_usd"], found["max_cost_usd"]) == (text["cost_usd"], text["max_cost_usd"])
    assert found["free"] is False and found["prices"] == text["prices"]
    assert found["note"] == "The audio is free: the local engine runs on this server."
    one = pricing.estimate("local", "translate", [600.0], None, SETUP, translator="llm",
                           text_prices=LLM_PAID, translated=1)  # fmt: skip
    assert text["cost_usd"] == pytest.approx(2 * one["cost_usd"], rel=0.01)  # two languages


def test_gemini_hearing_and_the_llm_translating_are_priced_each_at_their_own():
    """Gemini's audio at Gemini's prices, exactly as a one-language Gemini job; the second
    language at the LLM's; the totals are the parts' sums."""
    flash = pricing.prices_for("gemini-2.5-flash")
    alone = pricing.estimate("gemini", "translate", [600.0], flash, SETUP)
    found = pricing.estimate("gemini", "translate", [600.0], flash, SETUP, languages=2,
                             translator="llm", text_prices=LLM_PAID)  # fmt: skip
    audio, text = found["parts"]
    assert audio == alone["parts"][0] and audio["model"] == "gemini-2.5-flash"
    assert text["engine"] == "llm" and text["prices"]["input_per_million_usd"] == 0.15
    for total in ("cost_usd", "max_cost_usd", "calls"):
        assert found[total] == pytest.approx(audio[total] + text[total], abs=1e-6)
    by_gemini = pricing.estimate("gemini", "translate", [600.0], flash, SETUP, languages=2)
    assert by_gemini["parts"][1]["engine"] == "gemini"
    assert text["cost_usd"] < by_gemini["parts"][1]["cost_usd"]  # the LLM is cheaper here
    assert found["model"] == "gemini-2.5-flash + gpt-4o-mini"


def test_the_llm_s_calls_take_its_own_concurrency_and_rate_limit():
    """Wall time: Gemini's calls at its concurrency, then the LLM's at its own (LLM_RPM
    holding them like GEMINI_RPM)."""
    flash = pricing.prices_for("gemini-2.5-flash")
    fast = pricing.estimate("gemini", "translate", [], flash, SETUP, text_chars=[6000] * 40,
                            translator="llm", text_prices=LLM_FREE,
                            text_setup=pricing.Setup(30.0, 8))  # fmt: skip
    slow = pricing.estimate("gemini", "translate", [], flash, SETUP, text_chars=[6000] * 40,
                            translator="llm", text_prices=LLM_FREE,
                            text_setup=pricing.Setup(30.0, 1, rpm=10))  # fmt: skip
    assert fast["seconds"] == 5 * pricing.CALL_SECONDS
    assert slow["seconds"] >= (40 - 10) / 10 * pricing.RATE_WINDOW_S > fast["seconds"]
    assert [p["what"] for p in slow["parts"]] == ["text"]  # no media: no audio part


def test_an_estimate_without_a_translator_keeps_its_old_figures():
    """Callers that name no translator (the library's budget check) get the engine translating
    at its own prices, as before the parts."""
    flash = pricing.prices_for("gemini-2.5-flash")
    found = pricing.estimate("gemini", "translate", [600.0], flash, SETUP, languages=2)
    assert found["translator"] is None and [p["engine"] for p in found["parts"]] == ["gemini"] * 2
    assert found["calls"] == 24 and found["prices"] == flash.as_dict()
