"""The admin home's summary: what the day and the back office hold, in a constant number of queries
(one for the counts, one for the newest Bad Fit entries to review), whatever the size of the practice."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    BadFitEntry,
    BadFitState,
    Invoice,
    InvoiceStatus,
    MessageStatus,
    OutboundMessage,
    PayoutStatement,
    PayoutStatus,
)
from admin_app.services.platform import clinic_time
from admin_app.services.tasks import bad_fit

UNSENT = (MessageStatus.QUEUED, MessageStatus.HELD, MessageStatus.FAILED)
BAD_FIT_SHOWN = 20  # the newest open entries on the home; the Bad Fit list has them all


@dataclasses.dataclass(frozen=True)
class HomeSummary:
    today: dt.date
    appointments_today: int  # not cancelled, starting on the clinic day
    unsent_messages: int  # queued, held (no server configured) or failed for good
    invoice_drafts: int
    payouts_waiting: int  # payout statements still drafts (waiting for approval)
    bad_fit_open: int
    bad_fit: list[bad_fit.BadFitRow]  # the newest open entries, to review (BAD_FIT_SHOWN at most)


def home_summary(session: Session, *, today: dt.date | None = None) -> HomeSummary:
    today = today or clinic_time.today()
    day_start, day_end = clinic_time.day_start(today), clinic_time.day_start(today + dt.timedelta(days=1))

    def count(column, *conditions):
        return select(func.count(column)).where(*conditions).scalar_subquery()

    counts = session.execute(
        select(
            count(
                Appointment.id,
                Appointment.starts_at >= day_start,
                Appointment.starts_at < day_end,
                Appointment.status != AppointmentStatus.CANCELLED,
            ),
            count(OutboundMessage.id, OutboundMessage.status.in_(UNSENT)),
            count(Invoice.id, Invoice.status == InvoiceStatus.DRAFT),
            count(PayoutStatement.id, PayoutStatement.status == PayoutStatus.DRAFT),
            count(BadFitEntry.id, BadFitEntry.state == BadFitState.OPEN),
        )
    ).one()
    return HomeSummary(today, *counts, bad_fit=bad_fit.bad_fit_rows(session, state="open", limit=BAD_FIT_SHOWN))
