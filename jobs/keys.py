"""Every Redis key Subcue uses, built in one place with one prefix.

- `subcue:job:<id>` (hash): the job record (see jobs/life/record.py); expires RECORD_TTL after the
  job ends.
- `subcue:job:<id>:chunks` (hash): chunk index -> validated result JSON, the checkpoints;
  expires with the record.
- `subcue:job:<id>:uploads` (set): names of the job's files at the engine's provider (Gemini
  Files API) not deleted yet, so a process other than a killed work horse can delete them;
  expires UPLOAD_TTL after its last write, as the provider's copies do.
- `subcue:job:<id>:lease` (string): present while the job page is open, for
  keep_running=false jobs; expires after LEASE_SECONDS without renewal.
- `subcue:owner:<owner>:jobs` (zset): the owner's job ids by creation time; expires
  RECORD_TTL after its last write.
- `subcue:owner:<owner>:stored` (hash): session id -> bytes of the owner's uploads in it, for
  OWNER_STORAGE_MB (jobs/storage/footprint.py); entries of sessions that are gone are dropped at the
  owner's next upload; expires footprint.TTL after its last write.
- `subcue:session:<id>` (hash): the session record (see jobs/life/session.py); RECORD_TTL after
  its last write.
- `subcue:session:<id>:files` (hash): file id -> file JSON (name, size, duration, storage
  key); expires with the session.
- `subcue:session:<id>:jobs` (zset): the session's job ids; expires with the session.
- `subcue:job:<id>:spend` (hash): what the job has spent and holds reserved for paid calls in
  flight, in micro-dollars (see jobs/spend/ledger.py); expires with the record.
- `subcue:spend:<YYYY-MM-DD>` (hash): the deployment's and each owner's spend that UTC day
  (settled and reserved), for the daily budgets; expires SPEND_DAY_TTL after its last write.
- `subcue:usage:<owner>:<YYYY-MM-DD>` and `subcue:usage:<owner>:<YYYY-MM>` (hashes): the
  owner's calls, tokens and cost per engine that day and month; expire USAGE_DAY_TTL and
  USAGE_MONTH_TTL after their last write.
- `subcue:limits:...`: the shared rate limits' windows (the `limits` library's keys), and
  `subcue:<engine>:<key id>:pause` (engine gemini or llm; the key id a digest, never a key),
  set while the provider has asked every caller of that quota to wait.
- `subcue:uploads:pending` (set): ids of jobs whose uploads at the provider a process could
  not delete (it had no GEMINI_API_KEY, or the provider failed); any worker with the key
  deletes them at its next sweep.
- `subcue:sweep:orphans` (string): set by the worker whose sweeper looks for stored files
  without records; expires after ORPHAN_SWEEP_SECONDS, when another pass is due.
- `subcue:active` (zset): ids of jobs queued, running or cancelling, for the sweeper and the
  lease check; members leave when their job ends, so it never grows without bound.
- `subcue:library:request:<sha256>` (string): the job that a whisper-API request (or a
  library file) is being served by, so the same audio or file asked again joins it; expires
  after jobs/library/asr.DEDUPE_TTL. `...:lock` guards its check-then-submit for a moment.
- `subcue:llm:<llm id>:health` (string): the last check of the LLM server (JSON, see
  jobs/work/engines/llm_client.check), written by the workers, read by the web for /healthz
  and to refuse translator=llm jobs while it fails; the id (Config.llm_id, also the LLM's
  pause's) is a digest of LLM_BASE_URL, LLM_MODEL and LLM_API_KEY together (never the key
  itself); expires LLM_HEALTH_TTL after its last check.
- `subcue:library:job:<id>:waiters` (string): how many held whisper-API requests wait for the
  job; when it falls to 0 and stays there, the job is cancelled (web/library_routes/hold.py).

And one pub/sub channel, `subcue:changes`: a job's id is published on it whenever its record
is created, changes or is deleted, so that event streams wait instead of polling.
"""

PREFIX = "subcue:"
"""Every key starts with this, so Subcue can share a Redis with other apps."""

RECORD_TTL = 7 * 24 * 3600
"""How long a finished job's or an idle session's records are kept, in seconds."""


UPLOAD_TTL = 48 * 3600
"""Seconds the Gemini Files API keeps an upload; our list of a job's uploads lives as long."""


LLM_HEALTH_TTL = 180
"""Seconds a check of the LLM server stands for without a worker checking again (they check
every minute): with no worker left, the web says "not checked" rather than an old verdict."""


SPEND_DAY_TTL = 3 * 24 * 3600
USAGE_DAY_TTL, USAGE_MONTH_TTL = 3 * 24 * 3600, 40 * 24 * 3600
"""Seconds a day's spend totals, and an owner's usage of a day or a month, are kept."""


def job(job_id: str) -> str:
    """The job record hash."""
    return f"{PREFIX}job:{job_id}"


def chunks(job_id: str) -> str:
    """The job's chunk checkpoints."""
    return f"{PREFIX}job:{job_id}:chunks"


def uploads(job_id: str) -> str:
    """The job's files at the engine's provider."""
    return f"{PREFIX}job:{job_id}:uploads"


def spend(job_id: str) -> str:
    """The job's spend and reservations."""
    return f"{PREFIX}job:{job_id}:spend"


def spend_day(day: str) -> str:
    """The deployment's and each owner's spend on a UTC day (YYYY-MM-DD)."""
    return f"{PREFIX}spend:{day}"


def usage(owner: str, period: str) -> str:
    """The owner's usage per engine on a day (YYYY-MM-DD) or in a month (YYYY-MM)."""
    return f"{PREFIX}usage:{owner}:{period}"


def engine_pause(engine: str, key_id: str) -> str:
    """Set, with the provider's retry delay as its expiry, when an engine's provider (gemini,
    llm) asked every caller of one quota to wait."""
    return f"{PREFIX}{engine}:{key_id}:pause"


def lease(job_id: str) -> str:
    """The job page's lease."""
    return f"{PREFIX}job:{job_id}:lease"


def owner_jobs(owner: str) -> str:
    """The owner's job ids, newest last."""
    return f"{PREFIX}owner:{owner}:jobs"


def owner_stored(owner: str) -> str:
    """Bytes of uploads the owner keeps, per session."""
    return f"{PREFIX}owner:{owner}:stored"


def session(session_id: str) -> str:
    """The session record hash."""
    return f"{PREFIX}session:{session_id}"


def session_jobs(session_id: str) -> str:
    """The session's job ids."""
    return f"{PREFIX}session:{session_id}:jobs"


def session_files(session_id: str) -> str:
    """The session's files."""
    return f"{PREFIX}session:{session_id}:files"


def uploads_pending() -> str:
    """Jobs whose uploads still wait for a worker that can delete them."""
    return f"{PREFIX}uploads:pending"


def changes() -> str:
    """The pub/sub channel that carries the id of every job whose record changed."""
    return f"{PREFIX}changes"


def orphan_sweep() -> str:
    """Present while the last search for stored files without records is recent."""
    return f"{PREFIX}sweep:orphans"


def active() -> str:
    """Jobs that are queued, running or cancelling."""
    return f"{PREFIX}active"


def library_request(digest: str) -> str:
    """The job serving a library request (the same audio or media file asked again joins it)."""
    return f"{PREFIX}library:request:{digest}"


def library_waiters(job_id: str) -> str:
    """How many held whisper-API requests wait for the job."""
    return f"{PREFIX}library:job:{job_id}:waiters"


def llm_health(llm_id: str) -> str:
    """The last check of the LLM server the settings digested in `llm_id` name (Config.llm_id):
    deployments sharing a Redis with other LLM settings each read their own."""
    return f"{PREFIX}llm:{llm_id}:health"
