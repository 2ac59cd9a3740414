"""Spend control with the Gemini stand-in and the real google-genai client: the estimate, a
job's cap under concurrency, daily budgets, the shared rate limit, and reservations a killed
worker leaves behind."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

import pytest
import redis

from jobs.config import Config
from jobs.media import audio
from jobs.spend import ledger, pricing
from jobs.spend.quota import Quota, gemini_quota

from .browser import ROOT, Gunicorn
from .helpers import (
    DATA,
    WorkerProcess,
    gemini_env,
    make_app,
    upload,
    wait_for,
    wait_for_status,
)

END = {"finished", "failed", "cancelled"}
FLASH = pricing.prices_for("gemini-2.5-flash")


@pytest.fixture(autouse=True)
def clean_stub(stub):
    stub.reset()


@pytest.fixture(scope="module")
def five_minutes(long_speech, tmp_path_factory):
    """About five minutes of speech: the long clip four times over."""
    path = tmp_path_factory.mktemp("spend-media") / "five-minutes.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-stream_loop", "3", "-i", str(long_speech),
                    "-c", "copy", str(path)], check=True)  # fmt: skip
    return path


def billed_usd(calls: list[dict]) -> float:
    """What the stand-in's own count of billed tokens costs at the model's prices."""
    return sum(FLASH.usd(c["tokens_in"], c["tokens_out"]) for c in calls)


def test_a_capped_job_stops_within_its_cap_and_a_retry_with_more_finishes(
    base_env, stub, five_minutes, tmp_path
):
    """Capped at a third of its estimate, with four calls in flight: some calls, then
    `budget_exhausted`, and the stand-in's billed tokens cost no more than the cap. A retry
    with a higher cap finishes and sends no chunk twice."""
    env = gemini_env(base_env, stub.url, "subcue-spend-cap", GEMINI_CONCURRENCY="4")
    worker = WorkerProcess(env, tmp_path / "cap.log")
    try:
        client = make_app(env).test_client()
        duration = audio.duration_of(five_minutes)
        estimate = client.get(f"/api/estimate?engine=gemini&duration_s={duration}"
                              "&target_language=de").get_json()  # fmt: skip
        cap = round(estimate["cost_usd"] / 3, 6)
        stub.latency = 0.5
        job = upload(client, five_minutes, engine="gemini", target_language="de",
                     max_cost_usd=str(cap)).get_json()  # fmt: skip
        assert job["params"]["max_cost_usd"] == cap
        job = wait_for_status(client, job["id"], END, timeout=120)
        assert job["status"] == "failed" and job["error"]["code"] == "budget_exhausted"
        assert f"cap of {pricing.usd(cap)}" in job["error"]["message"]
        calls = stub.calls_snapshot()
        assert 4 <= len(calls) < job["progress"]["total"]
        assert stub.max_in_flight() >= 3, "the cap must hold with several calls in flight"
        assert billed_usd(calls) <= cap
        assert job["usage"]["cost_usd"] <= cap
        assert job["usage"]["cost_usd"] >= billed_usd(calls) - 1e-6  # counted, never less

        stub.latency = 0.0
        higher = round(estimate["max_cost_usd"], 6)
        again = client.post(f"/api/jobs/{job['id']}/retry", json={"max_cost_usd": higher})
        assert again.status_code == 202 and again.get_json()["params"]["max_cost_usd"] == higher
        job = wait_for_status(client, job["id"], END, timeout=120)
        assert job["status"] == "finished", job["error"]
        answered = [c for c in stub.calls_snapshot() if c["status"] == 200]
        assert len(answered) == job["progress"]["total"]  # no chunk paid for twice
        assert sum(c["audio_seconds"] for c in answered) == pytest.approx(duration, abs=0.05)
        assert billed_usd(stub.calls_snapshot()) <= higher
    finally:
        worker.stop()


def test_an_owner_past_the_daily_budget_may_still_run_free_jobs(base_env, stub, tmp_path):
    """OWNER_DAILY_BUDGET_USD: the job that reaches it stops as `budget_exhausted`, the next paid
    job is refused with 429 (saying when the budget renews), a local job is accepted, and
    /api/usage tells what was spent and what is left."""
    env = gemini_env(base_env, stub.url, "subcue-spend-budget", OWNER_DAILY_BUDGET_USD="0.003")
    worker = WorkerProcess(env, tmp_path / "budget.log")
    try:
        client = make_app(env).test_client()
        job = upload(client, DATA / "speech.wav", engine="gemini").get_json()
        job = wait_for_status(client, job["id"], END, timeout=60)
        assert job["status"] == "failed" and job["error"]["code"] == "budget_exhausted"
        assert "daily budget of $0.0030" in job["error"]["message"]
        assert billed_usd(stub.calls_snapshot()) <= 0.003

        usage = client.get("/api/usage").get_json()
        assert usage["today"]["engines"]["gemini"]["cost_usd"] == job["usage"]["cost_usd"] > 0
        assert usage["budget"]["owner_daily_usd"] == 0.003
        assert usage["budget"]["owner_left_usd"] == pytest.approx(0.003 - job["usage"]["cost_usd"])

        stub.reset()  # the budget has room for less than a call: the day's budget is spent
        refused = upload(client, DATA / "speech.wav", engine="gemini")
        assert refused.status_code == 429
        body = refused.get_json()["error"]
        assert body["code"] == "budget_exhausted" and "renews at 00:00 UTC" in body["message"]
        assert upload(client, DATA / "speech.wav", engine="local").status_code == 202
        assert not stub.calls_snapshot()  # the refused job made no call
    finally:
        worker.stop()


def test_workers_share_one_rate_limit(base_env, stub, long_speech, tmp_path):
    """GEMINI_RPM=20 over three workers: two jobs want 26 calls; 20 reach the stand-in, then
    every job says it waits for quota and no 21st call goes. A job that comes while the minute is
    used up says so too, and its cancel answers at once. (That the calls go again as the window
    moves is the next test's, on a 2 s window rather than a minute.)"""
    env = gemini_env(base_env, stub.url, "subcue-spend-rpm", GEMINI_RPM="20",
                     GEMINI_CONCURRENCY="4")  # fmt: skip
    workers = [WorkerProcess(env, tmp_path / f"rpm-{n}.log") for n in range(3)]
    try:
        client = make_app(env).test_client()
        jobs = [upload(client, long_speech, engine="gemini").get_json()["id"] for _ in range(2)]
        stub.wait_for_calls(20, timeout=60)
        late = upload(client, DATA / "speech.wav", engine="gemini").get_json()["id"]

        def all_wait() -> list[dict] | None:
            """The jobs with calls left, once each says it waits (one long job may be done)."""
            shown = [client.get(f"/api/jobs/{j}").get_json() for j in (*jobs, late)]
            left = [j for j in shown if j["status"] != "finished"]
            return left if len(left) >= 2 and all(j["waiting"] for j in left) else None

        waiting = wait_for(all_wait, timeout=20, message="every job with calls left to wait")
        assert late in [j["id"] for j in waiting]
        for job in waiting:
            assert job["waiting"]["message"].startswith("waiting for Gemini quota, about ")
            assert 1 <= job["waiting"]["seconds"] <= 61
        assert len(stub.calls_snapshot()) == 20  # the rest wait for the minute to pass
        asked = time.monotonic()
        assert client.post(f"/api/jobs/{late}/cancel").get_json()["status"] == "cancelled"
        assert time.monotonic() - asked < 1.0
        for job in waiting:
            assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
        assert len(stub.calls_snapshot()) == 20
    finally:
        for worker in workers:
            worker.stop()


def test_calls_held_by_the_shared_limit_go_as_its_window_moves(base_env):
    """Three workers' quotas on one key, 5 calls per 2 s window: 15 calls all go, never more
    than 5 in any 2 s, and the held ones go as the window moves (not all at the end)."""
    config = Config.from_env({**base_env, "GEMINI_API_KEY": "k", "GEMINI_RPM": "5"})
    quotas = [gemini_quota(config, redis.Redis.from_url(base_env["REDIS_URL"]), window_s=2)
              for _ in range(3)]  # fmt: skip
    went: list[float] = []
    waits: list[float | None] = []

    async def calls(quota: Quota) -> None:
        for _ in range(5):
            await quota.acquire(100, waits.append)
            went.append(time.monotonic())

    started = time.monotonic()

    async def main() -> None:
        await asyncio.gather(*(calls(q) for q in quotas))

    asyncio.run(main())
    went = [t - started for t in sorted(went)]  # each a moment after its call was counted
    assert len(went) == 15
    assert went[4] < 1.5, went  # the first five at once
    assert 1.95 <= went[5] < 3.5 and 3.95 <= went[10] < 6, went  # then five as each window moves
    assert any(w is not None and 0 < w <= 2 for w in waits)  # the held ones were told how long


def test_a_killed_worker_s_reservations_are_released_by_the_sweeper(base_env, stub, conn,
                                                                   tmp_path):  # fmt: skip
    """SIGKILL a worker with four paid calls in flight: once another worker's sweeper has
    failed the job, nothing of the owner's day is held for them."""
    env = gemini_env(base_env, stub.url, "subcue-spend-dead", GEMINI_CONCURRENCY="4",
                  CHUNK_SECONDS="3", OWNER_DAILY_BUDGET_USD="5")  # fmt: skip
    dying = WorkerProcess(env, tmp_path / "dying.log")
    client = make_app(env).test_client()
    stub.latency = 30.0
    job = upload(client, DATA / "speech.wav", engine="gemini").get_json()
    stub.wait_for_calls(4, timeout=30)
    owner = client.get("/api/me").get_json()["owner"]
    assert len(ledger.held(conn, job["id"])) == 4
    assert ledger.day_spent(conn, owner)[0] > 0
    dying.proc.kill()
    dying.proc.wait(10)
    sweeping = WorkerProcess(env, tmp_path / "sweeping.log")
    try:
        job = wait_for_status(client, job["id"], END, timeout=30)
        assert job["status"] == "failed" and job["error"]["code"] == "worker_died"
        wait_for(lambda: not ledger.held(conn, job["id"]), timeout=10,
                 message="the sweeper to release the reservations")  # fmt: skip
        assert ledger.day_spent(conn, owner)[0] == 0
        assert client.get("/api/usage").get_json()["budget"]["owner_left_usd"] == 5
    finally:
        sweeping.stop()


def test_the_estimate_refuses_what_it_cannot_price(base_env, stub):
    """Bad durations, kinds or engines: 400/422 JSON, as every /api/ error."""
    client = make_app(gemini_env(base_env, stub.url, "subcue-spend-none")).test_client()
    for query, code in (("engine=gemini", "bad_duration"),
                        ("engine=gemini&duration_s=-1", "bad_duration"),
                        ("engine=gemini&duration_s=abc", "bad_duration"),
                        ("engine=gemini&duration_s=10&kind=sing", "unknown_kind"),
                        ("engine=nope&duration_s=10", "unknown_engine")):  # fmt: skip
        answer = client.get(f"/api/estimate?{query}")
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code, query
    local = client.get("/api/estimate?engine=local&duration_s=60").get_json()
    assert local["cost_usd"] == 0 and local["free"] is True
    bad = upload(client, DATA / "speech.wav", engine="gemini", max_cost_usd="-3")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_max_cost"


def test_the_cli_prints_the_estimate_and_starts_nothing(base_env, stub, tmp_path):
    """`scripts/translate --estimate`: the cost of the file before anything is uploaded, a
    second language and a subtitle file included, and the parts an LLM translates."""
    # An LLM no estimate calls (nothing listens on port 9).
    env = gemini_env(base_env, stub.url, "subcue-spend-cli", LLM_MODEL="qwen2.5:7b",
                     LLM_BASE_URL="http://127.0.0.1:9/v1")  # fmt: skip
    server = Gunicorn(env, tmp_path / "cli-web.log")
    subtitles = tmp_path / "talk.srt"
    subtitles.write_text("".join(f"{n}\n00:00:{n:02},000 --> 00:00:{n:02},900\nLine {n} of the "
                                 f"talk.\n\n" for n in range(1, 40)))  # fmt: skip
    try:

        def run(media, *extra: str) -> str:
            found = subprocess.run([sys.executable, str(ROOT / "scripts" / "translate"),
                                    str(media), "--server", server.url, "--estimate", *extra],
                                   capture_output=True, text=True, timeout=60)  # fmt: skip
            assert found.returncode == 0, found.stderr
            return found.stdout

        def usd(line: str) -> float:
            return float(re.match(r"About \$(\d+\.\d+)", line).group(1))

        paid = run(DATA / "speech.mp4", "--engine", "gemini", "--to", "fr")
        pattern = r"About \$0\.\d{4}, at most \$0\.\d{4}: \d+ gemini-2\.5-flash calls?,"
        assert re.match(pattern, paid)
        assert "as of " + pricing.PRICES_AS_OF in paid
        assert usd(run(DATA / "speech.mp4", "--engine", "gemini", "--to", "fr,de")) > usd(paid)
        assert re.match(pattern, run(subtitles, "--engine", "gemini", "--to", "de"))
        assert run(DATA / "speech.mp4", "--engine", "local").startswith("Free: the local engine")
        german = run(DATA / "speech.mp4", "--engine", "local", "--to", "de")
        assert german.startswith("Free: the local engine runs on the server and the LLM "
                                 "(qwen2.5:7b) is priced at $0"), german  # fmt: skip
        both = run(DATA / "speech.mp4", "--engine", "gemini", "--translator", "llm", "--to",
                   "fr,de")  # fmt: skip
        assert re.match(r"About \$0\.\d{4}", both) and "  text: llm (qwen2.5:7b)" in both, both
        assert not stub.calls_snapshot()
    finally:
        server.stop()
