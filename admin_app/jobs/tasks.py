"""Jobs of the admin tasks: the periodic scan."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.services.tasks import scan


@job
def scan_tasks() -> str:
    """Open, refresh and close the admin tasks (and open the Bad Fit entries) to match their causes."""
    result = scan.scan(db.session)
    db.session.commit()
    return f"{result.opened} opened, {result.closed} closed"
