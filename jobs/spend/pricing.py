"""What paid work costs: the price table (Gemini's; the LLM's from LLM_PRICES), the most a
call can cost before it is made, and the estimate of a whole job. Pure: no I/O, no Redis
(jobs/spend/ledger.py keeps the books).

Money is counted in whole micro-dollars (`micros`), rounded up, so that what Subcue counts is
never less than what the tokens cost.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ..config import Config, parse_override

PRICES_AS_OF = "2026-06-20"
PRICES_SOURCE = "https://ai.google.dev/gemini-api/docs/pricing"
PRICES = {
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (1.00, 2.50),
    "gemini-2.5-flash-lite": (0.30, 0.40),
    "gemini-2.0-flash": (0.70, 0.40),
    "gemini-2.0-flash-lite": (0.075, 0.30),
}
"""USD per million (audio input, output) tokens, standard paid tier, prompts up to 200k tokens,
by model (longest prefix wins), as Google's price list gave them on PRICES_AS_OF. Output
includes thinking tokens. GEMINI_PRICES overrides the configured model's pair."""

FALLBACK_PRICE_MODEL = "gemini-2.5-flash"
"""Whose prices stand in for a model missing from PRICES."""

AUDIO_TOKENS_PER_SECOND = 32
"""Gemini bills audio input at 32 tokens a second."""

CHARS_PER_TOKEN = 4
"""Text tokens, expected: about four characters each (the estimate, never a bound)."""

OUTPUT_TOKENS_BASE, OUTPUT_TOKENS_PER_SECOND = 256, 48
"""maxOutputTokens of a chunk's request: room for the densest speech (about 20 characters a
second spoken, as many translated, and the JSON around them) with a margin."""

ANALYSIS_OUTPUT_TOKENS = 2048
"""maxOutputTokens of a whole file's analysis (a summary, eight topics, ten moments)."""

EXPECTED_OUTPUT_TOKENS_PER_SECOND = 14
"""Output tokens a second of ordinary speech comes back as (text, translation, JSON), for the
estimate."""

REQUEST_CHARS = 2800
"""Characters of text a chunk's request carries (prompt with a full context and the most
speaker names, system instruction, schema); tests/unit/test_pricing.py checks it against the real
request."""

REQUEST_BYTES_MOST = 4600
"""UTF-8 bytes of the same text when the context is in a script of three bytes a character."""

SPEECH_CHARS_PER_SECOND = 15
"""Characters of text a second of ordinary speech makes (about 150 words a minute): what the
languages after the first translate as text."""

TEXT_CALL_CHARS = 1200
"""Characters of a text call besides its cues (instruction, system text, schema, context)."""

TEXT_BATCH_CHARS = 6000
"""Source characters in one text call at most (about 1,500 tokens): an answer that goes wrong
costs little to ask again, and the answer stays far below any output limit. The batching in
engines/cue_text uses it; the estimate counts with it."""

CALL_SECONDS = 4.0
"""Wall time of one Gemini call on a 30 s chunk, typical, for the estimate."""

LOCAL_SPEED = 6.0
"""The local engine's speed in seconds of media a second (measured 6.6 on 2 cores)."""

RATE_WINDOW_S = 61
"""GEMINI_RPM counts calls over a minute and one second: the provider counts arrivals, which
come a little after we count, so a margin keeps its own minute within the limit."""


@dataclass(frozen=True)
class Prices:
    """USD per million tokens for one model, and where the figures come from."""

    model: str
    input: float
    output: float
    known: bool = True
    overridden: bool = False
    source: str = ""
    """Where the figures come from, when not Gemini's table or GEMINI_PRICES (the LLM's)."""

    @property
    def free(self) -> bool:
        """Nothing is counted for these tokens (a local LLM server's)."""
        return self.input == 0 and self.output == 0

    def usd(self, tokens_in: int, tokens_out: int) -> float:
        """What these tokens cost."""
        return (tokens_in * self.input + tokens_out * self.output) / 1e6

    def micros(self, tokens_in: int, tokens_out: int) -> int:
        """What these tokens cost in micro-dollars, rounded up."""
        return math.ceil(round(tokens_in * self.input + tokens_out * self.output, 6))

    def as_dict(self) -> dict:
        """The estimate's `prices` object."""
        source = self.source or ("GEMINI_PRICES" if self.overridden else PRICES_SOURCE)
        return {"model": self.model, "input_per_million_usd": self.input,
                "output_per_million_usd": self.output,
                "as_of": None if self.source else PRICES_AS_OF, "source": source,
                "known_model": self.known}  # fmt: skip


def prices_for(model: str, override: str = "") -> Prices:
    """The prices of `model`: GEMINI_PRICES (`"<input>,<output>"` USD per million tokens) if
    set, else the table's longest matching prefix, else FALLBACK_PRICE_MODEL's."""
    name = model.removeprefix("models/")
    if override.strip():
        first, second = parse_override(override)
        return Prices(name, first, second, True, overridden=True)
    for known in sorted(PRICES, key=len, reverse=True):
        if name.startswith(known):
            return Prices(name, *PRICES[known])
    return Prices(name, *PRICES[FALLBACK_PRICE_MODEL], known=False)


LLM_FREE = "unset"
"""The LLM's price source when LLM_PRICES is unset (a local server's tokens cost nothing)."""


def llm_prices(config: Config) -> Prices:
    """The LLM's prices: LLM_PRICES (`"<input>,<output>"` USD per million tokens), else 0,0:
    free, as a local server is (caps and budgets then cannot bound a paid one)."""
    if config.llm_prices.strip():
        first, second = parse_override(config.llm_prices, "LLM_PRICES")
        return Prices(config.llm_model, first, second, overridden=True, source="LLM_PRICES")
    return Prices(config.llm_model, 0.0, 0.0, known=False, source=LLM_FREE)


def max_output_tokens(audio_s: float) -> int:
    """The maxOutputTokens a chunk of `audio_s` seconds is asked with."""
    return OUTPUT_TOKENS_BASE + math.ceil(OUTPUT_TOKENS_PER_SECOND * audio_s)


TEXT_OUTPUT_BASE, TEXT_OUTPUT_PER_CUE = 256, 16
"""maxOutputTokens of a text translation call: a base, the JSON around each cue, and two
tokens per byte of the source text (a translation is rarely twice as long, and no tokenizer
makes more than one token of a byte)."""


def text_output_tokens(texts: list[str]) -> int:
    """The maxOutputTokens (and reservation bound) of translating `texts` in one call."""
    return (TEXT_OUTPUT_BASE + TEXT_OUTPUT_PER_CUE * len(texts)
            + 2 * sum(len(t.encode()) for t in texts))  # fmt: skip


def input_bound(audio_s: float, text: str) -> int:
    """The most input tokens a request can be billed: its audio at 32 tokens a second (one
    more for rounding) and at most one token per UTF-8 byte of its text."""
    return math.ceil(AUDIO_TOKENS_PER_SECOND * audio_s) + 1 + len(text.encode())


def request_text(*parts) -> str:
    """Every text a request sends (prompt, system instruction, schema), for input_bound."""
    return "\n".join(p if isinstance(p, str) else json.dumps(p) for p in parts if p)


def usd(amount: float) -> str:
    """Dollars for people: cents above a dollar, four decimals below."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"


def chunk_counts(duration_s: float, chunk_seconds: float) -> tuple[int, int]:
    """(expected, most) chunks of a file: the planner cuts each chunk up to a fifth (at most
    5 s) early, at the quietest moment."""
    if duration_s <= 0:
        return 0, 0
    early = min(5.0, chunk_seconds * 0.2)
    return (math.ceil(duration_s / (chunk_seconds - early / 2) - 1e-9),
            math.ceil(duration_s / (chunk_seconds - early) - 1e-9))  # fmt: skip


@dataclass(frozen=True)
class Setup:
    """What an estimate depends on besides the media: the deployment's settings."""

    chunk_seconds: float
    concurrency: int
    rpm: int = 0


def estimate(engine: str, kind: str, durations: list[float], prices: Prices | None,
             setup: Setup, local_model: str = "tiny.en", languages: int = 1,
             text_chars: list[int] = (), glossary: str = "", *, translator: str | None = None,
             text_prices: Prices | None = None, text_setup: Setup | None = None,
             translated: int | None = None) -> dict:  # fmt: skip
    """The expected and worst-case cost, calls and wall time of a job over media files of
    `durations` seconds and subtitle files of `text_chars` characters, into `languages`
    languages, each part priced by who does it: the audio by `engine` (at `prices`; the local
    engine is free), the text by `translator` (at `text_prices`, its calls timed with
    `text_setup`; default: the engine, at its prices). Media is heard once; `translated` of its
    languages are text translations of what was heard (default: all but the first; the local
    engine hears English, so every other language); a subtitle file is text in every language.
    Every call carries the session's `glossary` (its prompt lines). `max_cost_usd` is every
    call (at most one per chunk or batch) answered at its maxOutputTokens; retries of failed
    answers come on top, and a job's cap bounds them too. The answer's totals are the sums of
    its `parts`."""
    who = translator or engine  # who translates: jobs from before the choice, their engine
    if text_prices is None and who == engine:
        text_prices = prices
    translated = max(1, languages) - 1 if translated is None else translated
    texts = [int(SPEECH_CHARS_PER_SECOND * d) for d in durations] * translated
    texts += list(text_chars) * max(1, languages)
    parts = []
    if durations:
        parts.append(audio_part(engine, kind, durations, prices, setup.chunk_seconds,
                                local_model, glossary))  # fmt: skip
    if kind != "analyze" and texts and who != "local":  # the local engine translates nothing
        parts.append(text_part(who, texts, text_prices, glossary))
    setups = {engine: setup, who: text_setup or setup}
    paid = [p for p in parts if not p["free"]]
    return {"engine": engine, "translator": translator,
            "cost_usd": round(sum(p["cost_usd"] for p in parts), 6),
            "max_cost_usd": round(sum(p["max_cost_usd"] for p in parts), 6),
            "calls": sum(p["calls"] for p in parts),
            "seconds": round(wall_seconds(parts, sum(durations), setups), 1),
            "model": " + ".join(dict.fromkeys(p["model"] for p in parts)) or local_model,
            "prices": paid[0]["prices"] if paid else None, "free": not paid,
            "note": note(parts), "parts": parts}  # fmt: skip


def for_config(config: Config, engine: str, kind: str, durations: list[float], *,
               translator: str | None, languages: int, translated: int,
               text_chars: list[int] = (), glossary: str = "") -> dict:  # fmt: skip
    """`estimate` of a job on this deployment: Gemini's prices and GEMINI_CONCURRENCY/RPM for
    what Gemini does, LLM_PRICES and LLM_CONCURRENCY/RPM for what the LLM translates."""
    gemini = prices_for(config.gemini_model, config.gemini_prices)
    setup = Setup(config.chunk_seconds, config.gemini_concurrency, config.gemini_rpm)
    llm = translator == "llm"
    return estimate(
        engine, kind, durations, gemini if engine == "gemini" else None, setup,
        local_model=config.whisper_model or "tiny.en", languages=languages,
        text_chars=text_chars, glossary=glossary, translator=translator,
        text_prices=llm_prices(config) if llm else gemini,
        text_setup=Setup(config.chunk_seconds, config.llm_concurrency, config.llm_rpm)
        if llm else setup, translated=translated,
    )  # fmt: skip


def audio_part(engine: str, kind: str, durations: list[float], prices: Prices | None,
               chunk_seconds: float, local_model: str, glossary: str) -> dict:  # fmt: skip
    """The estimate's part for hearing the media: a call per chunk (an analysis: per file),
    free on the local engine, else at `prices`."""
    total = sum(durations)
    if kind == "analyze":
        counts = [(1, 1) for d in durations]
    else:
        counts = [chunk_counts(d, chunk_seconds) for d in durations]
    calls, most = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if engine != "gemini" or prices is None:
        return {"engine": engine, "what": "audio", "calls": calls, "cost_usd": 0.0,
                "max_cost_usd": 0.0, "model": local_model, "prices": None,
                "free": True}  # fmt: skip
    text = math.ceil(REQUEST_CHARS / CHARS_PER_TOKEN)
    expected_in = AUDIO_TOKENS_PER_SECOND * total + text * calls
    expected_out = EXPECTED_OUTPUT_TOKENS_PER_SECOND * total
    if kind == "analyze":
        expected_out, worst_out = 600 * calls, ANALYSIS_OUTPUT_TOKENS * most
    else:  # every chunk asked with maxOutputTokens for its length
        worst_out = OUTPUT_TOKENS_BASE * most + math.ceil(OUTPUT_TOKENS_PER_SECOND * total)
    worst_in = input_bound(total, "") + (1 + REQUEST_BYTES_MOST) * most
    tokens = (expected_in, expected_out, worst_in, worst_out)
    return priced_part(engine, "audio", (calls, most), prices, tokens, glossary)


def text_part(who: str, texts: list[int], prices: Prices | None, glossary: str) -> dict:
    """The estimate's part for translating texts of these many characters, each in batches
    of TEXT_BATCH_CHARS, as `who` does it at `prices` (None: free). The cues go as JSON both
    ways, and a translation may be longer than its source."""
    calls = sum(max(1, math.ceil(c / TEXT_BATCH_CHARS)) for c in texts)
    total, overhead = sum(texts), calls * TEXT_CALL_CHARS
    tokens = (math.ceil((1.3 * total + overhead) / CHARS_PER_TOKEN),
              math.ceil(1.5 * total / CHARS_PER_TOKEN),
              3 * total + overhead + calls, calls * TEXT_OUTPUT_BASE + 2 * 3 * total)  # fmt: skip
    if prices is None:
        return {"engine": who, "what": "text", "calls": calls, "cost_usd": 0.0,
                "max_cost_usd": 0.0, "model": who, "prices": None, "free": True}  # fmt: skip
    return priced_part(who, "text", (calls, calls), prices, tokens, glossary)


def priced_part(who: str, what: str, calls: tuple[int, int], prices: Prices,
                tokens: tuple[int, int, int, int], glossary: str) -> dict:  # fmt: skip
    """A part of the estimate from its (expected, most) calls and its (expected in, expected
    out, worst in, worst out) tokens, the glossary added to every call."""
    expected, most = calls
    expected_in, expected_out, worst_in, worst_out = tokens
    expected_in += math.ceil(len(glossary) / CHARS_PER_TOKEN) * expected
    worst_in += len(glossary.encode()) * most
    return {"engine": who, "what": what, "calls": expected,
            "cost_usd": round(prices.usd(expected_in, expected_out), 6),
            "max_cost_usd": round(prices.usd(worst_in, worst_out), 6), "model": prices.model,
            "prices": prices.as_dict(),
            "free": prices.free}  # fmt: skip


def wall_seconds(parts: list[dict], media_s: float, setups: dict[str, Setup]) -> float:
    """The expected wall time: the local engine at LOCAL_SPEED, then each remote engine's calls
    (audio and text together when one engine does both) `concurrency` at a time, held to its
    rate limit."""
    seconds, calls = 0.0, {}
    for part in parts:
        calls[part["engine"]] = calls.get(part["engine"], 0) + part["calls"]
    for who, count in calls.items():
        if who == "local":
            seconds += media_s / LOCAL_SPEED
            continue
        setup = setups[who]
        spent = math.ceil(count / max(1, setup.concurrency)) * CALL_SECONDS
        if setup.rpm and count > setup.rpm:
            spent = max(spent, (count - setup.rpm) / setup.rpm * RATE_WINDOW_S)
        seconds += spent
    return seconds


def note(parts: list[dict]) -> str:
    """Why a job, or a part of it, costs nothing ("" when every part is paid)."""
    why = {}
    for part in parts:
        if part["engine"] == "local":
            why[part["what"]] = "the local engine runs on this server"
        elif part["free"] and part["engine"] == "llm":
            set_to = "0" if part["prices"] and part["prices"]["known_model"] else "not set"
            why[part["what"]] = f"the LLM's calls are counted at $0 (LLM_PRICES is {set_to})"
        elif part["free"]:
            why[part["what"]] = f"{part['engine']} is priced at $0"
    if not why:
        return ""
    if len(why) == len(parts):
        return "Free: " + "; ".join(dict.fromkeys(why.values())) + "."
    return " ".join(f"The {what} is free: {reason}." for what, reason in why.items())
