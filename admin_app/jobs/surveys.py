"""Jobs of the monthly survey."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.services.surveys import invitations as surveys


@job
def send_monthly_survey() -> str:
    """Invite for the previous month once SURVEY_DAY has come (idempotent)."""
    summary = surveys.send_due_survey(db.session)
    db.session.commit()
    return "not due" if summary is None else f"{summary.month}: {summary.invited} invited"
