"""UTC timestamps as the API shows them."""

from datetime import UTC, datetime


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string with millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
