"""jobs/work/engines/llm_protocol.py: what the LLM is sent per structured-output mode, when a
server's 400 means "step down", the waits a server asks for, digging JSON out of an answer, and
where the LLM's prices come from."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest

from jobs.config import Config
from jobs.spend import pricing
from jobs.work.engines import cue_text
from jobs.work.engines import llm_protocol as protocol
from jobs.work.engines.cue_text import CUES_INSTRUCTION, parse_cues
from jobs.work.engines.gemini_protocol import answered_count, parse_analysis, parse_segments
from jobs.work.engines.llm_protocol import (
    CUES_JSON_SCHEMA,
    JSON_ONLY,
    TEMPLATE_TOKENS,
    dig_json,
    input_bound,
    is_local,
    messages,
    response_format,
    retry_after,
    step_down,
    wants_completion_tokens,
)

CUES = [(7, "Hello there."), (8, "Line one\nline two")]
ANSWER = {"cues": [{"index": 7, "text": "Hallo."}, {"index": 8, "text": "Eins\nzwei"}]}


def test_each_mode_sends_its_own_response_format():
    """json_schema: a strict, named standard JSON Schema; json_object: JSON mode; prompt: none."""
    schema = response_format("json_schema")
    assert schema == {"type": "json_schema", "json_schema": {
        "name": "subtitle_cues", "strict": True, "schema": CUES_JSON_SCHEMA}}  # fmt: skip
    assert response_format("json_object") == {"type": "json_object"}
    assert response_format("prompt") is None


def test_the_json_schema_is_strict_standard_json_schema():
    """Lowercase types, every property required and no other allowed, at every level (what
    OpenAI's strict mode demands)."""
    assert CUES_JSON_SCHEMA["required"] == ["cues"]
    assert CUES_JSON_SCHEMA["additionalProperties"] is False
    item = CUES_JSON_SCHEMA["properties"]["cues"]["items"]
    assert item["properties"] == {"index": {"type": "integer"}, "text": {"type": "string"}}
    assert item["required"] == ["index", "text"] and item["additionalProperties"] is False
    assert "OBJECT" not in json.dumps(CUES_JSON_SCHEMA)


def test_the_answer_s_form_is_spelled_out_when_no_schema_enforces_it():
    """The system message is the translator's instruction; without a schema (JSON mode, prompt)
    it also says exactly what to answer."""
    texts = ["Translate.", "[]"]
    assert messages(texts, "json_schema")[0] == {"role": "system", "content": CUES_INSTRUCTION}
    for mode in ("json_object", "prompt"):
        system = messages(texts, mode)[0]["content"]
        assert system.startswith(CUES_INSTRUCTION) and system.endswith(JSON_ONLY)
        assert '{"cues": [{"index"' in system


def test_the_user_message_has_language_glossary_cues_and_context_on_their_own_lines():
    """The stand-in (and a model) finds the cues as one line that is exactly a JSON array; the
    context has its own line, never mistaken for cues."""
    glossary = [{"term": "Ship", "translation": "Schiff"}]
    texts = cue_text.round_texts(CUES, [(6, "Before.")], "de", glossary, again=False)
    user = messages(texts, "prompt")[1]
    assert user["role"] == "user"
    lines = user["content"].split("\n")
    assert "Target language: German (de)." in lines
    assert any("Ship" in line and "Schiff" in line for line in lines)
    arrays = [line for line in lines if line.startswith("[")]
    assert len(arrays) == 1 and json.loads(arrays[0]) == [
        {"index": 7, "text": "Hello there."},
        {"index": 8, "text": "Line one\nline two"},
    ]
    assert lines[-1].startswith("Context only") and '"Before."' in lines[-1]
    assert lines.index(arrays[0]) == len(lines) - 2


def test_no_context_line_without_context():
    """A first batch has no cues before it: nothing but the instruction and the cues."""
    texts = cue_text.round_texts(CUES, [], "fr", [], again=False)
    assert len(texts) == 2 and texts[1] == cue_text.cues_part(CUES)


def test_the_input_bound_counts_every_byte_the_schema_and_the_template():
    """One token per UTF-8 byte at most of every text sent, the schema included in its mode."""
    chat = messages(["Übersetze: ♪"], "json_schema")
    texts = sum(len(m["content"].encode()) for m in chat)
    schema = len(json.dumps(response_format("json_schema")).encode())
    assert input_bound(chat, "json_schema") == TEMPLATE_TOKENS + texts + schema
    plain = messages(["Übersetze: ♪"], "prompt")
    assert input_bound(plain, "prompt") == TEMPLATE_TOKENS + sum(
        len(m["content"].encode()) for m in plain)  # fmt: skip


REFUSED_SCHEMA = (
    "response_format",
    "Error code: 400 - response_format.type 'json_schema' is not supported by this model",
    {"message": "...", "param": "response_format"},
)
REFUSED_OBJECT = (None, "Error code: 400 - json_object is not supported", None)
OTHER = ("messages", "Error code: 400 - messages must not be empty", {"param": "messages"})


def test_a_refused_structured_output_steps_down_one_mode():
    """json_schema -> json_object -> prompt, whichever part of the error names it."""
    assert step_down("json_schema", *REFUSED_SCHEMA) == "json_object"
    assert step_down("json_object", *REFUSED_OBJECT) == "prompt"
    vllm = (None, "Error code: 400", {"detail": "Unsupported structured output: json_schema"})
    assert step_down("json_schema", *vllm) == "json_object"


def test_other_400s_and_the_last_mode_do_not_step_down():
    """A 400 about something else is the request's fault, and below prompt there is nothing."""
    assert step_down("json_schema", *OTHER) is None
    assert step_down("prompt", *REFUSED_SCHEMA) is None


def test_max_tokens_refused_for_max_completion_tokens():
    """OpenAI's newer models: "Unsupported parameter: 'max_tokens' ... Use
    'max_completion_tokens' instead."."""
    said = (
        "max_tokens",
        "Error code: 400 - Unsupported parameter: 'max_tokens' is not supported "
        "with this model. Use 'max_completion_tokens' instead.",
        None,
    )
    assert wants_completion_tokens(*said)
    assert not wants_completion_tokens(*OTHER)
    assert not wants_completion_tokens(*REFUSED_SCHEMA)


def test_retry_after_in_seconds_as_a_date_and_in_milliseconds():
    """Retry-After is seconds or an HTTP date; retry-after-ms (OpenAI's) wins when both come."""
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": " 1.5 "}) == 1.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = 1_700_000_000.0
    assert retry_after({"retry-after": formatdate(now + 30, usegmt=True)}, now=now) == 30.0
    assert retry_after({"retry-after": formatdate(now - 30, usegmt=True)}, now=now) == 0.0


def test_no_or_nonsense_retry_after_asks_for_no_wait():
    """Missing, negative, infinite or unreadable: None (the engine's own backoff applies)."""
    for headers in (None, {}, {"retry-after": "soon"}, {"retry-after": "-3"},
                    {"retry-after": "inf"}, {"retry-after-ms": "x"}):  # fmt: skip
        assert retry_after(headers) is None, headers


def test_a_plain_json_answer_is_read_as_it_is():
    text = json.dumps(ANSWER)
    assert json.loads(dig_json(text)) == ANSWER
    assert parse_cues(dig_json(text), dict(CUES)) == {7: "Hallo.", 8: "Eins\nzwei"}


def test_json_is_dug_out_of_fences_and_prose():
    """What local models say around the JSON: a fence, with or without `json`, prose before and
    after, braces in the prose."""
    body = json.dumps(ANSWER, indent=2)
    for text in (f"Here are the translations:\n```json\n{body}\n```",
                 f"```\n{body}\n```\nHope this helps {{smile}}!",
                 f"Sure {{of course}}: {body} -- done."):  # fmt: skip
        assert json.loads(dig_json(text)) == ANSWER, text


def test_the_outermost_object_is_taken_not_a_nested_one():
    """An object inside the answer (a cue) is never mistaken for the answer; the one holding
    `cues` wins over another object before it."""
    text = 'Note: {"model": "x"}\n' + json.dumps({"cues": [{"index": 7, "text": "{Hallo}"}]})
    assert json.loads(dig_json(text)) == {"cues": [{"index": 7, "text": "{Hallo}"}]}


def test_a_bare_array_of_cues_is_wrapped_and_no_json_is_none():
    text = 'Translations: [{"index": 7, "text": "Hallo."}]'
    assert json.loads(dig_json(text)) == {"cues": [{"index": 7, "text": "Hallo."}]}
    for text in (None, "", "   ", "I cannot translate this.", '{"cues": [{"index": 7,'):
        assert dig_json(text) is None, text


def test_an_answer_nested_past_the_json_reader_s_depth_is_unreadable_not_a_crash():
    """A model that repeats "[" thousands of times: no JSON in it (asked again), read in
    linear time, by the LLM's digging and by every reader of Gemini's answers alike."""
    nested = "[" * 40000 + "{" * 3000
    started = time.monotonic()
    assert protocol.dig_json(nested) is None
    assert time.monotonic() - started < 1.0
    assert parse_cues(nested, {0: "Hello"}) is None
    assert parse_segments(nested, 5.0) is None and parse_analysis(nested, 5.0) is None
    assert answered_count(nested) == 0


def test_local_servers_are_told_from_remote_ones():
    """Loopback, private addresses and local names (a container's) are local: free is likely."""
    for url in ("http://localhost:11434/v1", "http://127.0.0.1:8000/v1", "http://[::1]:1234/v1",
                "http://192.168.1.20:11434/v1", "http://10.0.0.5/v1", "http://ollama:11434/v1",
                "http://gpu.lan:8000/v1"):  # fmt: skip
        assert is_local(url), url
    for url in ("https://api.openai.com/v1", "https://api.deepseek.com", "http://8.8.8.8/v1", ""):
        assert not is_local(url), url


def llm_config(**env) -> Config:
    return Config.from_env({"LLM_BASE_URL": "http://localhost:11434/v1", "LLM_MODEL": "qwen",
                            **env})  # fmt: skip


def test_llm_prices_name_their_source():
    """LLM_PRICES when set (0,0 too), else free and said so; micros follow the prices."""
    free = pricing.llm_prices(llm_config())
    assert free.free and free.micros(10**6, 10**6) == 0
    assert free.as_dict()["source"] == "unset" and not free.as_dict()["known_model"]
    paid = pricing.llm_prices(llm_config(LLM_PRICES="0.27, 1.10"))
    assert (paid.input, paid.output, paid.free) == (0.27, 1.10, False)
    assert paid.as_dict()["source"] == "LLM_PRICES" and paid.as_dict()["model"] == "qwen"
    assert paid.micros(10**6, 10**6) == 1_370_000
    assert pricing.llm_prices(llm_config(LLM_PRICES="0,0")).as_dict()["source"] == "LLM_PRICES"


def test_gemini_s_price_source_is_unchanged():
    """Gemini's prices still name Google's list or GEMINI_PRICES, with their date."""
    table = pricing.prices_for("gemini-2.5-flash").as_dict()
    assert table["source"] == pricing.PRICES_SOURCE and table["as_of"] == pricing.PRICES_AS_OF
    assert pricing.prices_for("gemini-2.5-flash", "1,2").as_dict()["source"] == "GEMINI_PRICES"


@pytest.mark.parametrize("bad", ["1", "a,b", "-1,2"])
def test_nonsense_llm_prices_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="LLM_PRICES"):
        llm_config(LLM_PRICES=bad)
