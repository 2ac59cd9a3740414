"""The JSON API under /api/ (docs/API.md): one blueprint, its routes in one module per resource.

- `job_routes`: submit, list, read, cancel, retry, delete, download outputs;
- `session_routes`: sessions, their files and the jobs over them;
- `event_routes`: what keeps a job page informed and its job alive (event stream, lease);
- `spend_routes`: what a job would cost (estimate), what the owner has spent (usage);
- `cue_routes`: a finished job's cues for the editor (revisions, saves);
- `meta_routes`: who am I, and the OpenAPI description.
What the routes share: a job's fields read and checked (`job_fields`), a job started from
an upload or a session (`job_start`), a stored file sent (`stored_files`).
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import cue_routes, event_routes, job_routes, meta_routes, session_routes, spend_routes  # noqa: E402,F401  (they register routes on bp)
