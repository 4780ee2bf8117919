"""Closing a day: everyone still expected in the day's appointments that have started came.

The front desk closes the day from the book's day view, after a confirmation that lists who will
be marked. Only appointments that have started are touched, never a future one, and the marking
itself is the staff's "Mark attended" (`rules.mark_attended`): the same rule, the same audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from admin_app.models import AppointmentStatus, Attendance
from admin_app.models.base import utcnow
from admin_app.services.platform.bounds import record_id
from admin_app.services.scheduling.agenda import AgendaFilter, Entry, EntryParticipant, Span, agenda, period_of
from admin_app.services.scheduling.rules import mark_attended


def still_expected(
    session: Session, *, day: dt.date, filters: AgendaFilter | None = None, now: dt.datetime | None = None
) -> list[tuple[Entry, list[EntryParticipant]]]:
    """The day's live appointments that started by `now` (and are among those `filters` show),
    each with its participants still expected, in start order; appointments with nobody expected
    are left out."""
    now = now or utcnow()
    appointments = agenda(session, period=period_of(Span.DAY, day), filters=filters or AgendaFilter()).get(day, [])
    listed = []
    for appointment in appointments:
        if appointment.status == AppointmentStatus.CANCELLED or appointment.starts_at > now:
            continue
        expected = [p for p in appointment.participants if p.attendance == Attendance.EXPECTED]
        if expected:
            listed.append((appointment, expected))
    return listed


def close_day(
    session: Session, *, day: dt.date, appointment_ids: Iterable[int | str], now: dt.datetime | None = None
) -> int:
    """Mark attended everyone still expected in the appointments the confirmation listed
    (`appointment_ids`); returns how many. An id of another day's appointment, or of one that has
    not started yet, marks nobody, whatever was posted. The caller commits."""
    wanted = {record_id(value) for value in appointment_ids}
    started = [appointment.id for appointment, _ in still_expected(session, day=day, now=now)]
    return mark_attended(session, appointment_ids=[id_ for id_ in started if id_ in wanted])
