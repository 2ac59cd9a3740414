# Gunicorn configuration, read by the Procfile's web line: `gunicorn -c gunicorn.conf.py ...`.
#
# Every value can be tuned with an environment variable, so the same file serves Heroku, a VM
# and `scripts/run`. Nothing here reads or logs the app's secrets: those stay with the app.
# Settings reference: https://docs.gunicorn.org/en/stable/settings.html
import os

# Listen on every interface, on the port the platform hands us. Heroku sets $PORT for the web
# dyno; locally honcho (scripts/run) sets it too, and 5000 is the fallback.
bind = "0.0.0.0:" + os.environ.get("PORT", "5000")

# Worker processes. Heroku sets WEB_CONCURRENCY to suit the dyno size; 2 is a safe default for
# a small machine. Web processes only enqueue and read jobs, so they need little CPU.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# gevent workers: every open job page holds its Server-Sent-Events stream
# (`/api/jobs/<id>/events`) for as long as someone watches. With threads (gthread) each stream
# held a thread, and at 2 x 32 threads the 65th open page made every other request (the cancel
# included) wait in the backlog. Under gevent a request is a greenlet: a stream waits on its
# job's changes (one Redis subscription per process, web/streams.py) and costs memory only,
# while uploads, downloads and API calls are served beside thousands of them. gunicorn
# monkey-patches the standard library before loading the app, so redis-py, subprocess (ffprobe)
# and time.sleep all yield. The arbiter's `timeout` watches the process, not each request, so
# hour-long streams are fine. README "Many open pages" weighs this against an ASGI endpoint.
worker_class = "gevent"
# Connections one process serves at once: open pages plus ordinary requests.
worker_connections = int(os.environ.get("GUNICORN_CONNECTIONS", "2000"))

# A restart (deploy, scale, Ctrl-C) lets requests in flight finish for this long. Heroku sends
# SIGTERM and SIGKILLs 30 s later, so stay under that. Open SSE streams are cut at this point;
# the browser's EventSource reconnects (or the page falls back to polling) on its own.
graceful_timeout = 20

# Seconds a worker may go silent before the arbiter restarts it. Generous, so that a large,
# slow upload is never the reason a worker is recycled.
timeout = 120

# Access log to stdout, one line per request, where Heroku's log router and honcho pick it up.
accesslog = "-"

# Which proxies may tell us the client's scheme and address (X-Forwarded-*), so that redirects
# and secure cookies see https behind a TLS-terminating proxy. Gunicorn's default trusts only
# localhost; on Heroku the router's address is not fixed, so app.json sets "*" (a dyno is
# reachable only through the router).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Gunicorn 25+ opens a control socket for `gunicornc` at one fixed path per user, which every
# gunicorn on the machine (a second checkout, the tests' server) would fight over. We manage
# processes with signals (Heroku, honcho), so turn it off. Older gunicorns ignore this name.
control_socket_disable = True

# Access-log lines without secrets: Plex and Jellyfin can only authenticate to Subcue with
# `?token=` in the webhook URL (README "Use it with Bazarr, Sonarr/Radarr, Jellyfin, Plex"), and
# the request line (`%(r)s`) and query (`%(q)s`) would print it. Gunicorn's `logger_class`
# setting takes a subclass of its Logger; `atoms()` builds the values the format reads.
import re  # noqa: E402

from gunicorn.glogging import Logger  # noqa: E402

_SECRET_QUERY = re.compile(r"((?:^|[?&;])(?:token|x-plex-token|api_key|apikey)=)[^&;\s]*", re.I)


class RedactingLogger(Logger):
    """Gunicorn's logger with token values in logged URLs replaced by `[redacted]`."""

    def atoms(self, resp, req, environ, request_time):
        """The access-log atoms, the request line and query string redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q"):
            if atoms.get(name):
                atoms[name] = _SECRET_QUERY.sub(r"\1[redacted]", atoms[name])
        return atoms


logger_class = RedactingLogger


def post_worker_init(worker):
    """The app's own lines (subcue.*: jobs enqueued, cancelled, deleted; the LLM as the web
    last saw it) on stdout beside the access log; none of them carries a secret."""
    from jobs.logs import subcue_to_stdout

    subcue_to_stdout()
