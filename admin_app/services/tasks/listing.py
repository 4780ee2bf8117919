"""The tasks as `flask tasks list` prints them: plain values, one query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import AdminTask, TaskStatus, User

ALL = "all"
STATUSES = (*(status.value for status in TaskStatus), ALL)


def task_records(session: Session, *, status: str = TaskStatus.OPEN) -> list[dict]:
    """Tasks in `status` (or ALL), oldest first: kind, subject (None for a task added by hand),
    status, the clinic day it opened ("YYYY-MM-DD") and the email of the login it is assigned to."""
    query = (
        select(AdminTask.kind, AdminTask.subject, AdminTask.status, AdminTask.opened_on, User.email)
        .outerjoin(User, User.id == AdminTask.assigned_to_id)
        .order_by(AdminTask.opened_on, AdminTask.id)
    )
    if status != ALL:
        query = query.where(AdminTask.status == TaskStatus(status))
    return [
        {
            "kind": row.kind.value,
            "subject": row.subject,
            "status": row.status.value,
            "opened_on": row.opened_on.isoformat(),
            "assigned_to": row.email,
        }
        for row in session.execute(query)
    ]
