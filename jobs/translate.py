"""Old import path of jobs.work.translate.run, kept for RQ.

RQ stores a job's function as a dotted path (`jobs.translate.run`), and jobs queued before
issue 26's re-layout still name it. Remove once no queue can hold such a job (a queued job
lives at most keys.RECORD_TTL).
"""

from jobs.work.translate import run  # noqa: F401
