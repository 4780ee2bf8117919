"""Who a run acts for, in the audit trail: the user who started it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from admin_app.models import JobRun, User
from admin_app.models.audit import Actor


def run_actor(session: Session, run: JobRun) -> Actor:
    """The starter, as the audit trail names a signed-in user (id and email); a run whose user was
    deleted since is the job's."""
    user = session.get(User, run.created_by_id) if run.created_by_id is not None else None
    return (user.id, user.email) if user is not None else (None, f"job:{run.kind}")
