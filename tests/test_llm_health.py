"""A bad LLM configuration is said at once, not by a job that fails late: a real worker
checks the server as it starts (one log line), /healthz shows what it found, and a job the
LLM would translate is refused with 503 llm_unreachable while the check fails. The check
itself runs the real `openai` client against the chat-completions stand-in's `GET /v1/models`
(tests/llm_stub.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime

import pytest

from jobs import keys
from jobs.config import Config
from jobs.work.engines.llm_client import CHECK_TIMEOUT_S, check
from worker.llm_watch import LlmWatch

from .helpers import DATA, ROOT, free_port, make_app, stored_under, upload, wait_for
from .llm_stub import LlmStub

KEY = "sk-llm-SECRET-9f3e"
"""The key the stand-in wants when a test gives it one: distinctive enough to grep for."""


@pytest.fixture(scope="module")
def stand_in():
    """One chat-completions stand-in for the module; each test sets the models it lists (and
    the key it wants)."""
    with LlmStub(models=[]) as stub:
        yield stub


def llm_env(base_env: dict, base_url: str, model: str, queue: str, **extra: str) -> dict:
    """Settings with the LLM at `base_url`, on a queue of the test's own; LEASE_SECONDS=3 makes
    the worker sweep, and check a failing LLM again, every second."""
    return {**base_env, "QUEUE_NAME": queue, "LLM_BASE_URL": base_url, "LLM_MODEL": model,
            "LEASE_SECONDS": "3", **extra}  # fmt: skip


def healthz_llm(client) -> dict:
    """/healthz's `llm`; the check itself must answer 200 whatever the LLM does."""
    answer = client.get("/healthz")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["llm"]


def submit_german(client):
    """A local job into German: the local engine hears English, the LLM translates."""
    return upload(client, DATA / "speech.wav", engine="local", target_language="de")


def test_a_closed_port_is_said_at_start_in_healthz_and_at_submission(base_env, start_worker,
                                                                     tmp_path):  # fmt: skip
    """A worker whose LLM_BASE_URL nobody listens on logs one misconfiguration line; /healthz
    (200) says ok false, "cannot reach"; a job for the LLM is refused with that reason, while a
    local English job, which needs no LLM, is still accepted (but not a subtitle file)."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    env = llm_env(base_env, url, "qwen2.5:7b", "subcue-llm-closed")
    worker = start_worker(env)
    wait_for(lambda: "LLM misconfigured" in worker.output(), timeout=15,
             message="the worker's misconfiguration line")  # fmt: skip
    line = next(li for li in worker.output().splitlines() if "LLM misconfigured" in li)
    assert f"cannot reach LLM_BASE_URL {url}: " in line and "Connection refused" in line
    assert "jobs with translator=llm will be refused until this is fixed" in line
    client = make_app({**env, "QUEUE_NAME": "subcue-llm-idle"}).test_client()
    llm = healthz_llm(client)
    assert llm["configured"] is True and llm["ok"] is False
    assert llm["model"] == "qwen2.5:7b" and llm["base_url"] == url and llm["checked_at"]
    assert llm["error"].startswith(f"cannot reach LLM_BASE_URL {url}")
    refused = submit_german(client)
    assert refused.status_code == 503, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "llm_unreachable" and llm["error"] in error["message"]
    english = upload(client, DATA / "speech.wav", engine="local", target_language="en")
    assert english.status_code == 202, english.get_json()
    before = stored_under(env, "sessions/")  # a subtitle file is text for the LLM, even into
    cues = tmp_path / "talk.fr.srt"  # English: refused once the upload is read, none kept
    cues.write_text("1\n00:00:01,000 --> 00:00:02,500\nBonjour à tous.\n", encoding="utf-8")
    subtitles = upload(client, cues, engine="local", target_language="en")
    assert subtitles.status_code == 503, subtitles.get_json()
    assert subtitles.get_json()["error"]["code"] == "llm_unreachable"
    assert stored_under(env, "sessions/") == before
    own = tmp_path / "speech.en.srt"  # only re-timed to its media, in its own language: no LLM
    own.write_text("1\n00:00:01,000 --> 00:00:02,500\nSubtitles help.\n", encoding="utf-8")
    with open(DATA / "speech.wav", "rb") as media, open(own, "rb") as cues:
        retimed = client.post(
            "/api/jobs",
            data={
                "file": [(media, "speech.wav"), (cues, "speech.en.srt")],
                "engine": "local",
                "target_language": "en",
                "sync": "true",
            },
            content_type="multipart/form-data",
        )
    assert retimed.status_code == 202, retimed.get_json()
    assert client.delete(f"/api/jobs/{retimed.get_json()['id']}").status_code == 204
    assert client.delete(f"/api/jobs/{english.get_json()['id']}").status_code == 204
    wait_for(lambda: healthz_llm(client)["checked_at"] != llm["checked_at"], timeout=15,
             message="the worker to check again")  # fmt: skip
    assert worker.output().count("LLM misconfigured") == 1  # checked again, said once


def test_a_missing_model_is_named_until_the_server_has_it(base_env, start_worker, stand_in):
    """The stand-in lists other models: the worker's line and /healthz name the missing one and
    what the server has, and the job is refused. Once the server has the model, the worker's
    next check says ok, and the job is accepted."""
    stand_in.reset()
    stand_in.models = ["llama3.1:8b", "mistral:7b"]
    env = llm_env(base_env, stand_in.base_url, "qwen2.5:7b", "subcue-llm-model")
    worker = start_worker(env)
    missing = "the server has no model 'qwen2.5:7b' (it has: llama3.1:8b, mistral:7b)"
    wait_for(lambda: missing in worker.output(), timeout=15, message="the missing model's line")
    client = make_app({**env, "QUEUE_NAME": "subcue-llm-idle"}).test_client()
    llm = healthz_llm(client)
    assert llm["ok"] is False and llm["error"] == missing
    refused = submit_german(client)
    assert refused.status_code == 503 and missing in refused.get_json()["error"]["message"]
    stand_in.models.append("qwen2.5:7b")
    wait_for(lambda: healthz_llm(client)["ok"] is True, timeout=15,
             message="the worker's next check to find the model")  # fmt: skip
    assert healthz_llm(client)["error"] is None
    assert f"LLM ok: model qwen2.5:7b at {stand_in.base_url}" in worker.output()
    assert "HTTP Request" not in worker.output()  # a line per verdict, none per check
    accepted = submit_german(client)
    assert accepted.status_code == 202, accepted.get_json()
    assert accepted.get_json()["params"]["translator"] == "llm"
    assert client.delete(f"/api/jobs/{accepted.get_json()['id']}").status_code == 204


def test_before_any_check_jobs_are_accepted_and_healthz_says_not_checked(base_env, conn):
    """With no verdict (no worker has checked this LLM), ok is null and the job goes in."""
    env = llm_env(base_env, f"http://127.0.0.1:{free_port()}/v1", "unchecked",
                  "subcue-llm-idle")  # fmt: skip
    client = make_app(env).test_client()
    llm = healthz_llm(client)
    assert llm["configured"] is True and llm["ok"] is None and llm["error"] is None
    accepted = submit_german(client)
    assert accepted.status_code == 202, accepted.get_json()
    assert client.delete(f"/api/jobs/{accepted.get_json()['id']}").status_code == 204


def test_without_an_llm_healthz_says_only_not_configured(client):
    """No LLM_* set: `llm` is just {"configured": false}."""
    assert healthz_llm(client) == {"configured": False}


def test_a_wrong_key_is_said_without_the_key(stand_in):
    """401 from the server: "the server refused LLM_API_KEY", and the key nowhere in the
    verdict."""
    stand_in.reset()
    stand_in.models, stand_in.api_key = ["m"], KEY
    wrong = check(Config.from_env({"LLM_BASE_URL": stand_in.base_url, "LLM_MODEL": "m",
                                   "LLM_API_KEY": KEY + "-old"}))  # fmt: skip
    right = check(Config.from_env({"LLM_BASE_URL": stand_in.base_url, "LLM_MODEL": "m",
                                   "LLM_API_KEY": KEY}))  # fmt: skip
    assert wrong["ok"] is False and wrong["error"].startswith("the server refused LLM_API_KEY")
    assert KEY not in json.dumps(wrong)
    assert right["ok"] is True and right["error"] is None


def test_what_the_check_says_of_other_servers(stand_in):
    """A server that lists no models (404: here, a URL the stand-in does not serve) is ok
    with a note; Ollama's `name:latest` serves `name`; of many models the message names the
    first ten; credentials in LLM_BASE_URL never reach the verdict."""
    stand_in.reset()
    unlisted = check(Config.from_env({"LLM_BASE_URL": stand_in.url + "/api", "LLM_MODEL": "m"}))
    assert unlisted["ok"] is True and "could not list models" in unlisted["note"]
    stand_in.models = ["qwen2.5:latest"] + [f"m{n}" for n in range(12)]
    latest = check(Config.from_env({"LLM_BASE_URL": stand_in.base_url, "LLM_MODEL": "qwen2.5"}))
    assert latest["ok"] is True
    with_password = stand_in.base_url.replace("http://", "http://user:hunter2@")
    many = check(Config.from_env({"LLM_BASE_URL": with_password, "LLM_MODEL": "gpt-x"}))
    assert many["ok"] is False and many["base_url"] == stand_in.base_url
    assert many["error"] == ("the server has no model 'gpt-x' (it has: qwen2.5:latest, m0, m1, "
                             "m2, m3, m4, m5, m6, m7, m8 — first 10)")  # fmt: skip
    assert "hunter2" not in json.dumps(many)


def test_the_verdict_lives_in_redis_a_few_minutes_and_holds_no_key(base_env, start_worker,
                                                                   stand_in, conn):  # fmt: skip
    """What the worker stored: the verdict as JSON under the LLM's own key, expiring within
    LLM_HEALTH_TTL, without LLM_API_KEY."""
    stand_in.reset()
    stand_in.models, stand_in.api_key = ["m"], KEY
    env = llm_env(base_env, stand_in.base_url, "m", "subcue-llm-key", LLM_API_KEY=KEY)
    key = keys.llm_health(Config.from_env(env).llm_id)
    conn.delete(key)
    worker = start_worker(env)
    stored = wait_for(lambda: conn.get(key), timeout=15, message="the stored verdict")
    assert json.loads(stored)["ok"] is True
    assert 0 < conn.ttl(key) <= keys.LLM_HEALTH_TTL
    assert KEY not in worker.output()
    assert not [k for k, value in everything_in(conn) if KEY.encode() in value]


def everything_in(conn) -> list[tuple[bytes, bytes]]:
    """(key, one of its values) for every value of every key in Redis."""
    read = {b"string": lambda k: [conn.get(k)], b"hash": lambda k: conn.hvals(k),
            b"set": conn.smembers, b"zset": lambda k: conn.zrange(k, 0, -1),
            b"list": lambda k: conn.lrange(k, 0, -1)}  # fmt: skip
    found = []
    for key in conn.scan_iter():
        kind = conn.type(key)
        found += [(key, v) for v in read.get(kind, lambda k: [])(key) if v is not None]
    return found


def test_the_web_process_never_loads_the_openai_client():
    """The web reads the workers' verdict; it never imports `openai` (nor its HTTP library)."""
    code = "import sys, web, web.api, web.health; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
    assert not [m for m in loaded if m.split(".")[0] in ("openai", "httpx2")]


def test_no_work_horse_is_forked_while_the_llm_is_being_checked(base_env, conn):
    """A server that takes the request and never answers: a fork (a worker forks a horse per
    job) made while the check waits waits too, until the check has given up and said so; a horse
    forked mid-check could inherit a module the client was importing, half made, and hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(10)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        config = Config.from_env({**base_env, "LLM_BASE_URL": url, "LLM_MODEL": "m"})
        watch = LlmWatch(config)
        watch.start()
        try:
            peer, _ = silent.accept()  # the check's request is on its way: it waits for an answer
            asked = time.time()
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            forked = time.time()
            os.waitpid(pid, 0)
            peer.close()
        finally:
            watch.stop()
    # The check stores its verdict just after it lets the fork go: wait for it.
    stored = wait_for(lambda: conn.get(keys.llm_health(config.llm_id)), timeout=10,
                      message="the check's verdict in Redis")  # fmt: skip
    verdict = json.loads(stored)
    assert verdict["error"] == f"cannot reach LLM_BASE_URL {url}: no answer within 5 s"
    checked = datetime.fromisoformat(verdict["checked_at"].replace("Z", "+00:00")).timestamp()
    assert asked < checked <= forked and forked - asked >= CHECK_TIMEOUT_S - 1
