"""How Subcue's processes log: one line per event on stdout (where honcho and Heroku's log
router read it), in one format for the worker, the watcher and the web."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(name)s %(message)s"
"""Every Subcue line: when, which logger (subcue.job, rq.worker…), then `key=value` words."""


def to_stdout() -> None:
    """A whole process (worker, watcher) logs INFO and up to stdout in FORMAT."""
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format=FORMAT)


def subcue_to_stdout() -> None:
    """Only Subcue's own loggers (subcue.*) log INFO and up to stdout in FORMAT: for a process
    whose server logs its own way (gunicorn), where Python would drop all under WARNING."""
    app_log = logging.getLogger("subcue")
    if not app_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(FORMAT))
        app_log.addHandler(handler)
        app_log.setLevel(logging.INFO)
        app_log.propagate = False
