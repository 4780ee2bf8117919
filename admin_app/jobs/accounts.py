"""Jobs of the logins: deleting the server-side sessions that ended."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.services.accounts import sessions


@job
def delete_ended_sessions() -> str:
    deleted = sessions.delete_ended(db.session)
    db.session.commit()
    return f"{deleted} sessions deleted"
