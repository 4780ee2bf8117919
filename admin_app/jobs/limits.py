"""Jobs of the request limits: the counters kept in the database (no Redis) whose window has ended."""

from __future__ import annotations

from admin_app import rate_limits
from admin_app.jobs.queue import job


@job
def purge_rate_limit_counters() -> str:
    """Delete the expired counters (they count for nothing; with Redis the table stays empty)."""
    return f"{rate_limits.purge_expired()} expired counters deleted"
