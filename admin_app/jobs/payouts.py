"""Jobs of the payout statements."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.jobs.queue import job
from admin_app.services.payouts import schedule as payouts


@job
def draft_due_payouts() -> str:
    """Draft the previous month's payout statements once PAYOUT_DAY has come (once per month)."""
    summary = payouts.run_due(db.session)
    db.session.commit()
    if summary is None:
        return "not due"
    return f"{summary.month}: {summary.statements} statement(s), {summary.lines} line(s), {summary.held} held"
