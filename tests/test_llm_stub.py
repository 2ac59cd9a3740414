"""Drive the real `openai` client against tests.llm_stub, the chat-completions stand-in."""

import asyncio
import json
import math
import time

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.helpers import (
    check_control_refuses_typos_and_resets,
    stub_control,
    stub_process,
    wait_for,
)
from tests.llm_stub import LlmStub

MODEL = "stub-model"
KEY = "sk-test-key"
SYSTEM = "You translate subtitles. Answer JSON only."
CUES = [{"index": 3, "text": "Hello."}, {"index": 4, "text": "How are you?"},
        {"index": 5, "text": "Fine."}]  # fmt: skip
SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "cues", "strict": True, "schema": {"type": "object"}},
}


def user_text(cues=CUES, lang="German (de)") -> str:
    """The user message as the engine words it: language, a context line, the cues' line."""
    context = "Context only (do not translate): " + json.dumps([{"index": 2, "text": "Hi."}])
    return f"Target language: {lang}\nGlossary: none\n{context}\n{json.dumps(cues)}"


def messages(cues=CUES, lang="German (de)") -> list[dict]:
    """System and user messages, the user's content as a list of text parts."""
    parts = [{"type": "text", "text": user_text(cues, lang)}]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": parts}]


def ask(client, **extra):
    """One chat completion of CUES into German with the structured output schema."""
    extra.setdefault("response_format", SCHEMA)
    return client.chat.completions.create(model=MODEL, messages=messages(), **extra)


def streamed(stream) -> tuple[str, list]:
    """The content a chat completion stream carried, and its chunks."""
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


@pytest.fixture(scope="module")
def stub():
    """One stand-in for the module, wanting KEY."""
    with LlmStub(api_key=KEY) as s:
        yield s


@pytest.fixture(autouse=True)
def fresh(stub):
    """Every test starts with no calls, no faults and every capability on."""
    stub.reset()


@pytest.fixture
def client(stub):
    """A real sync client that does not retry (as Subcue's)."""
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=0, timeout=10) as c:
        yield c


def test_a_plain_answer_translates_the_cues_and_bills_usage(stub, client):
    answer = ask(client, temperature=0.2, max_tokens=500)
    content = answer.choices[0].message.content
    assert json.loads(content) == {"cues": [{"index": 3, "text": "[de] Hello."},
                                            {"index": 4, "text": "[de] How are you?"},
                                            {"index": 5, "text": "[de] Fine."}]}  # fmt: skip
    assert answer.choices[0].finish_reason == "stop" and answer.model == MODEL
    prompt = SYSTEM + "\n" + user_text()
    assert answer.usage.prompt_tokens == math.ceil(len(prompt.encode()) / 4)
    assert answer.usage.completion_tokens == math.ceil(len(content.encode()) / 4)
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    (call,) = stub.calls_snapshot()
    assert call["cue_indexes"] == [3, 4, 5] and call["lang"] == "de"  # the context line is not
    assert call["response_format"] == "json_schema" and call["stream"] is False
    assert (call["max_tokens_param"], call["max_tokens"], call["temperature"]) == (
        "max_tokens", 500, 0.2)  # fmt: skip
    assert (call["tokens_in"], call["tokens_out"]) == (answer.usage.prompt_tokens,
                                                       answer.usage.completion_tokens)  # fmt: skip
    assert call["status"] == 200 and call["authorization"] is True and call["prompt"] == prompt
    assert KEY not in json.dumps(call)


def test_json_schema_unsupported_is_a_bad_request_and_json_mode_still_answers(stub, client):
    stub.json_schema = False
    with pytest.raises(openai.BadRequestError) as exc:
        ask(client)
    assert exc.value.param == "response_format" and "json_schema" in exc.value.message
    answer = ask(client, response_format={"type": "json_object"})
    assert [c["index"] for c in json.loads(answer.choices[0].message.content)["cues"]] == [3, 4, 5]
    stub.json_object = False
    with pytest.raises(openai.BadRequestError) as exc:
        ask(client, response_format={"type": "json_object"})
    assert exc.value.param == "response_format"
    assert [c["status"] for c in stub.calls_snapshot()] == [400, 200, 400]


def test_prompt_mode_answers_json_fenced_in_prose(client):
    content = ask(client, response_format=None).choices[0].message.content
    assert content.startswith("Here are the translations:\n```json\n") and content.endswith("```")
    inner = content.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    assert json.loads(inner)["cues"][0] == {"index": 3, "text": "[de] Hello."}
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)


def test_streaming_ends_with_usage_when_asked_and_without_it_otherwise(stub, client):
    whole = ask(client).choices[0].message.content
    text, chunks = streamed(ask(client, stream=True, stream_options={"include_usage": True}))
    assert text == whole and chunks[0].choices[0].delta.role == "assistant"
    assert len(chunks) > 4 and chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == math.ceil(
        len(whole.encode()) / 4)  # fmt: skip
    assert all(c.usage is None for c in chunks[:-1])
    text, chunks = streamed(ask(client, stream=True))
    assert text == whole and all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    stub.usage_in_stream = False  # a server that ignores stream_options
    _, chunks = streamed(ask(client, stream=True, stream_options={"include_usage": True}))
    assert all(c.usage is None for c in chunks) and chunks[-1].choices
    calls = stub.calls_snapshot()
    assert [c["stream"] for c in calls] == [False, True, True, True]
    assert all(c["tokens_out"] == calls[0]["tokens_out"] for c in calls)  # billed all the same


def test_a_429_carries_retry_after_which_the_client_honours(stub, client):
    stub.faults.append({"name": "429", "retry_after": 2})
    with pytest.raises(openai.RateLimitError) as exc:
        ask(client)
    headers = exc.value.response.headers
    assert headers["retry-after"] == "2" and "retry-after-ms" not in headers
    assert exc.value.code == "rate_limit_exceeded"
    stub.faults.append(("429", {"retry_after": 0.4, "header_ms": True}))
    with pytest.raises(openai.RateLimitError) as exc:
        ask(client)
    assert exc.value.response.headers["retry-after-ms"] == "400"
    assert "retry-after" not in exc.value.response.headers
    stub.faults.append(("429", {"retry_after": 0.5}))
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=1) as retrying:
        assert ask(retrying).choices[0].finish_reason == "stop"
    first, second = stub.calls_snapshot()[2:]
    assert (first["status"], second["status"]) == (429, 200)
    assert second["arrived"] - first["finished"] >= 0.45  # it waited as Retry-After said


def test_server_errors_and_a_dropped_connection(stub, client):
    stub.faults.extend(["500", "502", "503", "disconnect"])
    for status in (500, 502, 503):
        with pytest.raises(openai.InternalServerError) as exc:
            ask(client)
        assert exc.value.status_code == status and exc.value.type == "server_error"
    with pytest.raises(openai.APIConnectionError):
        ask(client)
    assert ask(client).choices[0].finish_reason == "stop"  # faults are one-shot
    assert [c["status"] for c in stub.calls_snapshot()] == [500, 502, 503, None, 200]


def test_an_unknown_model_is_not_found_and_the_models_are_listed(stub, client):
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="llama9", messages=messages())
    assert exc.value.code == "model_not_found" and "`llama9` does not exist" in exc.value.message
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("llama9")
    stub.models = [MODEL, "meta-llama/Llama-3.1-8B"]
    assert [m.id for m in client.models.list()] == stub.models
    assert client.models.retrieve("meta-llama/Llama-3.1-8B").owned_by == "stub"
    assert [x["status"] for x in stub.lookups] == [404, 200, 200]


def test_the_key_is_checked_when_set(stub):
    with OpenAI(base_url=stub.base_url, api_key="wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as exc:
            ask(wrong)
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
    assert exc.value.code == "invalid_api_key" and "wrong" not in exc.value.message
    stub.api_key = None  # a local server takes anything
    with OpenAI(base_url=stub.base_url, api_key="none", max_retries=0) as local:
        assert ask(local).choices[0].finish_reason == "stop"
    assert [c["status"] for c in stub.calls_snapshot()] == [401, 200]


async def arrived(stub) -> None:
    """Return once the stand-in has a call (the caller bounds the wait)."""
    while not stub.calls:
        await asyncio.sleep(0.01)


def test_a_cancel_or_timeout_mid_hang_is_logged_as_a_hang_up_within_a_second(stub):
    stub.faults.extend(["hang", "hang"])

    async def cancel_mid_hang() -> float:
        async with AsyncOpenAI(base_url=stub.base_url, api_key=KEY, max_retries=0) as aio:
            task = asyncio.create_task(
                aio.chat.completions.create(
                    model=MODEL, messages=messages(), response_format=SCHEMA
                )
            )
            await asyncio.wait_for(arrived(stub), timeout=5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.time()

    cancelled = asyncio.run(cancel_mid_hang())
    call = wait_for(lambda: stub.calls_snapshot()[0]["finished"] and stub.calls_snapshot()[0], 5)
    assert call["client_disconnected"] is True and call["status"] is None
    assert call["finished"] - cancelled < 1 and call["fault"] == "hang"
    with OpenAI(base_url=stub.base_url, api_key=KEY, max_retries=0, timeout=0.3) as hasty:
        with pytest.raises(openai.APITimeoutError):
            ask(hasty)
    call = stub.wait_for_calls(2, timeout=5, finished=True)[1]
    assert call["client_disconnected"] is True and call["finished"] - call["arrived"] < 1.3


def test_closing_a_stream_midway_is_logged_as_a_hang_up(stub, client):
    stub.stream_latency = 0.1
    stream = ask(client, stream=True)
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    stream.close()
    call = wait_for(lambda: stub.calls_snapshot()[0]["finished"] and stub.calls_snapshot()[0], 5)
    assert call["client_disconnected"] is True and call["stream"] is True
    stub.stream_latency = 0
    stub.faults.append(("disconnect", {"after": 3}))
    with pytest.raises(openai.APIConnectionError):
        streamed(ask(client, stream=True))


def test_the_cue_faults_spoil_the_answer(stub, client):
    stub.faults.extend(["forget", "repeat", "invent", "merge", "malformed", "empty"])

    def indexes():
        return [c["index"] for c in json.loads(ask(client).choices[0].message.content)["cues"]]

    assert indexes() == [3, 5]  # the middle cue forgotten
    assert indexes() == [3, 4, 4, 5]
    assert indexes() == [3, 4, 5, 10**6]
    assert indexes() == [3, 5]  # merged into the one before
    with pytest.raises(json.JSONDecodeError):
        indexes()
    assert ask(client).choices[0].message.content == ""


def test_max_tokens_cuts_the_answer_with_finish_reason_length(stub, client):
    answer = ask(client, max_tokens=5)
    assert answer.choices[0].finish_reason == "length" and answer.usage.completion_tokens == 5
    assert answer.choices[0].message.content == '{"cues": [{"index": '  # 5 tokens of 4 bytes
    stub.max_tokens_param = "max_completion_tokens"  # as OpenAI's newer models
    with pytest.raises(openai.BadRequestError) as exc:
        ask(client, max_tokens=500)
    assert exc.value.param == "max_tokens" and "max_completion_tokens" in exc.value.message
    answer = ask(client, max_completion_tokens=500)
    assert answer.choices[0].finish_reason == "stop"
    assert stub.calls_snapshot()[-1]["max_tokens_param"] == "max_completion_tokens"


def test_run_by_hand_and_driven_through_the_control_endpoints():
    with stub_process("tests.llm_stub", "--model", "m1") as line:
        url = line.split("LLM_STUB_URL=", 1)[1]
        stub_control(url + "/_stub/config", {"faults": [["503", {}]], "json_schema": False})
        with OpenAI(base_url=url + "/v1", api_key="none", max_retries=0) as c:
            with pytest.raises(openai.InternalServerError):
                c.chat.completions.create(model="m1", messages=messages())
            with pytest.raises(openai.BadRequestError):
                c.chat.completions.create(model="m1", messages=messages(), response_format=SCHEMA)
        assert [c["status"] for c in stub_control(url + "/_stub/calls")["calls"]] == [503, 400]
        check_control_refuses_typos_and_resets(url)
