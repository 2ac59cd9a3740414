"""The JSON API under /api/ (docs/API.md): one blueprint, its routes in one module per resource.

- `jobs`: submit, list, read, cancel, retry, delete, download outputs;
- `sessions`: sessions, their files and the jobs over them;
- `events`: what keeps a job page informed and its job alive (event stream, lease);
- `spend`: what a job would cost (estimate), what the owner has spent (usage);
- `cues`: a finished job's cues for the editor (revisions, saves);
- `meta`: who am I, and the OpenAPI description.
What the routes share (validating a job's fields, storing an upload as a session, sending a
stored file) is in `shared`.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import cues, events, jobs, meta, sessions, spend  # noqa: E402,F401  (they register routes on bp)
