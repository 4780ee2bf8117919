"""The appointment book: what the staff see for a day, a week or a month, in clinic time.

One call costs the same few queries whatever the number of appointments (appointments with
therapist and room joined, then participants with their clients in one more query), so the
page stays fast on a practice with years of history.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from admin_app.models import Appointment, Modality, Participant, Room, Therapist
from admin_app.services.platform.clinic_time import day_start, to_local
from admin_app.services.platform.months import Month


class Span(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class AgendaFilter:
    therapist_id: int | None = None
    site_id: int | None = None
    modality: Modality | None = None
    client_id: int | None = None


@dataclass(frozen=True)
class Period:
    span: Span
    first_day: dt.date
    last_day: dt.date  # inclusive

    @property
    def days(self) -> list[dt.date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + dt.timedelta(days=n) for n in range(count)]

    def shifted(self, steps: int) -> Period:
        """The previous (-1) or next (+1) day, week or month."""
        if self.span == Span.MONTH:
            return period_of(Span.MONTH, Month.containing(self.first_day).shift(steps).first_day)
        length = 7 if self.span == Span.WEEK else 1
        return period_of(self.span, self.first_day + dt.timedelta(days=length * steps))


def period_of(span: Span, day: dt.date) -> Period:
    """The day, the Monday-to-Sunday week, or the calendar month that holds `day`."""
    if span == Span.DAY:
        return Period(span, day, day)
    if span == Span.WEEK:
        monday = day - dt.timedelta(days=day.weekday())
        return Period(span, monday, monday + dt.timedelta(days=6))
    month = Month.containing(day)
    return Period(span, month.first_day, month.last_day)


def agenda(session: Session, *, period: Period, filters: AgendaFilter) -> dict[dt.date, list[Appointment]]:
    """The period's appointments grouped by local day, in start order, cancelled ones included."""
    start = day_start(period.first_day)
    end = day_start(period.last_day + dt.timedelta(days=1))
    query = (
        select(Appointment)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end, *_conditions(filters))
        .options(
            joinedload(Appointment.therapist),
            joinedload(Appointment.room),
            selectinload(Appointment.participants).joinedload(Participant.client),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    by_day: dict[dt.date, list[Appointment]] = defaultdict(list)
    for appointment in session.scalars(query):
        by_day[to_local(appointment.starts_at).date()].append(appointment)
    return by_day


def _conditions(filters: AgendaFilter) -> list:
    conditions = []
    if filters.therapist_id:
        conditions.append(Appointment.therapist_id == filters.therapist_id)
    if filters.modality:
        conditions.append(Appointment.modality == filters.modality)
    if filters.client_id:
        conditions.append(
            Appointment.id.in_(select(Participant.appointment_id).where(Participant.client_id == filters.client_id))
        )
    if filters.site_id:
        # On-site: the room is at the site; virtual: the therapist's home site is.
        in_room_at_site = Appointment.room_id.in_(select(Room.id).where(Room.site_id == filters.site_id))
        virtual_from_site = and_(
            Appointment.room_id.is_(None),
            Appointment.therapist_id.in_(select(Therapist.id).where(Therapist.site_id == filters.site_id)),
        )
        conditions.append(or_(in_room_at_site, virtual_from_site))
    return conditions
