"""jobs/life/submit.py: which queue a job goes to, and in which order workers drain them."""

import redis

from jobs.config import Config
from jobs.life.submit import LIBRARY_KINDS, queues


def test_people_come_before_the_library():
    """Workers take from the main queue first; library jobs have a queue of their own."""
    conn = redis.Redis()  # never connected: building queues sends nothing
    names = [q.name for q in queues(conn, Config.from_env({"QUEUE_NAME": "q"}))]
    assert names == ["q", "q-library"]
    assert LIBRARY_KINDS == {"library"}  # /asr and /detect-language jobs: someone waits
