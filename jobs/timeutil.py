"""UTC timestamps as the API shows them."""

from datetime import UTC, datetime, timedelta


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string with millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_in(seconds: float) -> str:
    """The time `seconds` from now, as now_iso() writes times."""
    later = datetime.now(UTC) + timedelta(seconds=seconds)
    return later.isoformat(timespec="milliseconds").replace("+00:00", "Z")
