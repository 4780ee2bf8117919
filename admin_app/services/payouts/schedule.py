"""The periodic payout run: from `PAYOUT_DAY` on, draft the previous month's statements once.

Once any payout run exists for that month (the periodic one, or staff's from the screen or
`flask payouts run`), the periodic run leaves the month alone, so the drafts staff are editing and
approving are not refreshed under them at every tick; staff run the month again when they want
its drafts refreshed.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import PayoutRun
from admin_app.services.payouts.run import RunSummary, payout_run
from admin_app.services.platform import clinic_time
from admin_app.services.platform.months import Month


def due_month(session: Session, today: dt.date | None = None) -> Month | None:
    """The month the periodic run drafts on `today` (clinic time), or None: before `PAYOUT_DAY`,
    or when that month has been run already."""
    today = today or clinic_time.today()
    if today.day < current_app.config["PAYOUT_DAY"]:
        return None
    month = Month.containing(today).previous()
    if session.scalar(select(PayoutRun.id).where(PayoutRun.month == str(month)).limit(1)) is not None:
        return None
    return month


def run_due(session: Session, today: dt.date | None = None) -> RunSummary | None:
    """Draft the previous month's statements if they are due (see `due_month`); the caller commits."""
    month = due_month(session, today)
    return None if month is None else payout_run(session, month)
