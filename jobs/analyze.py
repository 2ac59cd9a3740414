"""Old import path of jobs.work.analyze.run, kept for RQ.

RQ stores a job's function as a dotted path (`jobs.analyze.run`), and jobs queued before
issue 26's re-layout still name it. Remove once no queue can hold such a job (a queued job
lives at most keys.RECORD_TTL).
"""

from jobs.work.analyze import run  # noqa: F401
