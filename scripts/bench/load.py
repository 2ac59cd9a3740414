#!/usr/bin/env python3
"""Benchmark: many open job pages, and whether the API and a cancel still answer at once.

    scripts/bench/load.py [--pages 1000] [--owners 4] [--trials 20]

Under the Procfile's `web` command (gunicorn, WEB_CONCURRENCY=2) with real workers and the
Gemini stand-in (one call takes 60 s, so the watched jobs run but do not change): `--owners`
owners each start a job, and `--pages` event streams (`GET /api/jobs/<id>/events`, as the job
page opens it) are held open on them, spread over the owners. Then, in the same run:
- Redis commands per second per open page: `INFO commandstats` over 20 s with the pages open,
  minus the same with none open (the running jobs' and the workers' own commands);
- `GET /api/jobs` timed `--trials` times, and the cancel of another owner's running job timed
  `--trials` times (a request that gets no answer within 10 s counts as 10 s);
- whether every page receives its job's final status once the watched jobs are cancelled.
Loopback only; everything it starts stops with it. Prints one JSON object.
Targets: cancel p99 <= 100 ms, GET /api/jobs p99 <= 200 ms with 1,000 pages open, and Redis
commands per idle open page about 0.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import harness
import httpx
import redis
from cancel_http import gunicorn

ANSWER_TIMEOUT = 10.0
FINAL = (b'"status": "cancelled"', b'"status": "finished"', b'"status": "failed"')


class Pages:
    """`n` event streams held open on raw sockets; one thread reads them all."""

    def __init__(self, port: int):
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.seen: dict[socket.socket, bytes] = {}
        self.refused = 0
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)

    def open(self, path: str, token: str) -> bool:
        """Open one page's stream and wait for its first event; False if refused or silent."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=ANSWER_TIMEOUT)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}"
                     "\r\nAccept: text/event-stream\r\n\r\n".encode())  # fmt: skip
        seen = b""
        try:
            while b"data: " not in seen:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                seen += chunk
        except TimeoutError:
            pass
        if not seen.startswith(b"HTTP/1.1 200") or b"data: " not in seen:
            self.refused += 1
            sock.close()
            return False
        sock.setblocking(False)
        self.seen[sock] = seen
        self.selector.register(sock, selectors.EVENT_READ)
        return True

    def start_reading(self) -> None:
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    chunk = key.fileobj.recv(65536)
                except (BlockingIOError, ConnectionError):
                    continue
                if chunk:
                    self.seen[key.fileobj] += chunk
                else:
                    self.selector.unregister(key.fileobj)

    def with_final_status(self) -> int:
        return sum(1 for seen in list(self.seen.values()) if any(f in seen for f in FINAL))

    def close(self) -> None:
        self._stop.set()
        for sock in self.seen:
            sock.close()


def commands(conn: redis.Redis) -> int:
    """Every command Redis has run so far."""
    return sum(v["calls"] for k, v in conn.info("commandstats").items()
               if k.startswith("cmdstat_"))  # fmt: skip


RATE_WINDOW_S = 20.0
"""Two of the workers' sweep periods, so their sweeps count the same in both windows."""


def rate(conn: redis.Redis, seconds: float = RATE_WINDOW_S) -> float:
    """Redis commands per second over `seconds` (minus our own two INFO calls)."""
    before, started = commands(conn), time.monotonic()
    time.sleep(seconds)
    return (commands(conn) - before - 1) / (time.monotonic() - started)


def timed(call) -> float:
    """Milliseconds until `call` answers (ANSWER_TIMEOUT if it does not)."""
    started = time.perf_counter()
    try:
        call()
    except httpx.TimeoutException:
        return ANSWER_TIMEOUT * 1000
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--owners", type=int, default=4)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    tokens = [f"bench-owner-{n}" for n in range(args.owners + 1)]
    per_owner = -(-args.pages // args.owners)
    settings = {"CHUNK_SECONDS": 2, "GEMINI_CONCURRENCY": 1, "WEB_CONCURRENCY": 2,
                "API_TOKENS": ",".join(tokens), "MAX_STREAMS_PER_OWNER": per_owner}  # fmt: skip
    wav = harness.noise_wav(36, gap_every=1.8)
    with harness.environment(**settings) as (env, stub), ExitStack() as stack:
        stub.control("/_stub/config", {"latency": 60.0})
        conn = redis.Redis.from_url(env["REDIS_URL"])
        port = harness.free_port()
        web = gunicorn(env, port)
        stack.callback(lambda: (web.terminate(), web.wait(30)))
        for n in range(args.owners + 1):  # a worker for each watched job, one for the cancels
            stack.enter_context(harness.worker(env, f"worker-{n}"))

        def client(token: str) -> httpx.Client:
            return stack.enter_context(httpx.Client(
                base_url=f"http://127.0.0.1:{port}", timeout=ANSWER_TIMEOUT,
                headers={"Authorization": f"Bearer {token}"},
                limits=httpx.Limits(max_keepalive_connections=0)))  # fmt: skip

        def submit(http: httpx.Client) -> str:
            files = {"file": ("bench.wav", wav, "audio/wav")}
            answer = http.post("/api/jobs", files=files, data={"engine": "gemini"})
            if answer.status_code != 202:
                log = (Path(env["LOGS"]) / "gunicorn.log").read_text(errors="replace")
                raise SystemExit(f"submit answered {answer.text}; gunicorn said:\n{log[-3000:]}")
            return answer.json()["id"]

        owners = [client(t) for t in tokens[:-1]]
        canceller = client(tokens[-1])
        watched = [submit(http) for http in owners]
        for job_id in watched:
            harness.wait_for(lambda job_id=job_id: owners[0].get("/healthz").is_success and
                             conn.hget(f"subcue:job:{job_id}", "status") == b"running",
                             timeout=60, message="the watched jobs to run")  # fmt: skip
        harness.wait_for(lambda: len(stub.calls()) >= args.owners, timeout=60,
                         message="every watched job to be in its engine call")  # fmt: skip
        idle_rate = rate(conn)

        pages = Pages(port)
        stack.callback(pages.close)
        opened_at = time.monotonic()
        for n in range(args.pages):
            owner = n // per_owner
            pages.open(f"/api/jobs/{watched[owner]}/events", tokens[owner])
        open_s = time.monotonic() - opened_at
        pages.start_reading()
        open_rate = rate(conn)

        lists = [timed(lambda: canceller.get("/api/jobs").raise_for_status())
                 for _ in range(args.trials)]  # fmt: skip
        cancels = []
        for _ in range(args.trials):
            job_id = submit(canceller)
            seen = len(stub.calls())
            harness.wait_for(lambda seen=seen: len(stub.calls()) > seen, timeout=60,
                             message="the job to be cancelled to call the engine")  # fmt: skip
            cancels.append(timed(lambda job_id=job_id: canceller.post(
                f"/api/jobs/{job_id}/cancel").raise_for_status()))  # fmt: skip

        for http, job_id in zip(owners, watched, strict=True):
            http.post(f"/api/jobs/{job_id}/cancel")
        opened = len(pages.seen)
        try:
            harness.wait_for(lambda: pages.with_final_status() == opened, timeout=30,
                             message="every page to hear the end")  # fmt: skip
        except AssertionError:
            pass
        told = pages.with_final_status()
        per_page = (open_rate - idle_rate) / max(1, opened)
    cancel, listing = harness.figures(cancels), harness.figures(lists)
    print(json.dumps({
        "pages_asked": args.pages, "pages_open": opened, "pages_refused": pages.refused,
        "owners": args.owners, "seconds_to_open_them": round(open_s, 1),
        "cancel_other_running_job": cancel, "get_api_jobs": listing,
        "redis_commands_per_s": {"no_pages_open": round(idle_rate, 1),
                                 "pages_open": round(open_rate, 1)},
        "redis_commands_per_s_per_idle_page": round(per_page, 4),
        "pages_told_the_final_status": told,
        "targets": {"cancel_p99_ms": 100, "list_p99_ms": 200, "per_page_commands_s": 0},
        "meets_targets": cancel["p99_ms"] <= 100 and listing["p99_ms"] <= 200
        and per_page < 0.01 and told == opened == args.pages,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
