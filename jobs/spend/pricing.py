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


LLM_FREE = "not set: counted as free"
"""The LLM's price source when LLM_PRICES is unset (a local server's tokens cost nothing)."""


def llm_prices(config: Config) -> Prices:
    """The LLM's prices: LLM_PRICES (`"<input>,<output>"` USD per million tokens), else 0,0:
    free, as a local server is (caps and budgets then cannot bound a paid one)."""
    if config.llm_prices.strip():
        first, second = parse_override(config.llm_prices, "LLM_PRICES")
        return Prices(config.llm_model, first, second, overridden=True, source="LLM_PRICES")
    return Prices(config.llm_model, 0.0, 0.0, source=LLM_FREE)


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
             text_chars: list[int] = (), glossary: str = "") -> dict:  # fmt: skip
    """The expected and worst-case cost, calls and wall time of a job over media files of
    `durations` seconds and subtitle files of `text_chars` characters, into `languages`
    languages. Media is heard once, for the first language; the other languages, and every
    language of a subtitle file, are text calls; every call carries the session's `glossary`
    (its prompt lines). `max_cost_usd` is every call (at most one per chunk or batch) answered
    at its maxOutputTokens; retries of failed answers come on top, and a job's cap bounds them
    too."""
    total = sum(durations)
    if kind == "analyze":
        counts = [(1, 1) for d in durations]
    else:
        counts = [chunk_counts(d, setup.chunk_seconds) for d in durations]
    calls, most = sum(c[0] for c in counts), sum(c[1] for c in counts)
    texts = [int(SPEECH_CHARS_PER_SECOND * d) for d in durations] * (max(1, languages) - 1)
    texts += list(text_chars) * max(1, languages)
    text_calls = sum(max(1, math.ceil(c / TEXT_BATCH_CHARS)) for c in texts)
    text_total = sum(texts)
    if engine != "gemini" or prices is None:
        return {"engine": engine, "cost_usd": 0.0, "max_cost_usd": 0.0, "calls": calls,
                "seconds": round(total / LOCAL_SPEED, 1), "model": local_model, "prices": None,
                "free": True, "note": "Free: the local engine runs on this server."}  # fmt: skip
    text = math.ceil(REQUEST_CHARS / CHARS_PER_TOKEN)
    expected_in = AUDIO_TOKENS_PER_SECOND * total + text * calls
    expected_out = EXPECTED_OUTPUT_TOKENS_PER_SECOND * total
    if kind == "analyze":
        expected_out, worst_out = 600 * calls, ANALYSIS_OUTPUT_TOKENS * most
    else:  # every chunk asked with maxOutputTokens for its length
        worst_out = OUTPUT_TOKENS_BASE * most + math.ceil(OUTPUT_TOKENS_PER_SECOND * total)
    worst_in = input_bound(total, "") + (1 + REQUEST_BYTES_MOST) * most
    if kind != "analyze" and texts:  # the cues as JSON both ways; a translation may be longer
        overhead = text_calls * TEXT_CALL_CHARS
        expected_in += math.ceil((1.3 * text_total + overhead) / CHARS_PER_TOKEN)
        expected_out += math.ceil(1.5 * text_total / CHARS_PER_TOKEN)
        worst_in += 3 * text_total + overhead + text_calls
        worst_out += text_calls * TEXT_OUTPUT_BASE + 2 * 3 * text_total
        calls += text_calls
        most += text_calls
    expected_in += math.ceil(len(glossary) / CHARS_PER_TOKEN) * calls
    worst_in += len(glossary.encode()) * most
    seconds = math.ceil(calls / max(1, setup.concurrency)) * CALL_SECONDS
    if setup.rpm and calls > setup.rpm:
        seconds = max(seconds, (calls - setup.rpm) / setup.rpm * RATE_WINDOW_S)
    return {"engine": engine, "cost_usd": round(prices.usd(expected_in, expected_out), 6),
            "max_cost_usd": round(prices.usd(worst_in, worst_out), 6), "calls": calls,
            "seconds": round(seconds, 1), "model": prices.model, "prices": prices.as_dict(),
            "free": False, "note": ""}  # fmt: skip
