"""The appointment book: what the staff see for a day, a week or a month, in clinic time.

One call costs the same few queries whatever the number of appointments (appointments with
therapist and room joined, then participants with their clients in one more query), so the
page stays fast on a practice with years of history. The day's grid (`day_grid`) adds one query
for its columns, whatever their number. The month (`month_days`) fetches only what its cells
show: each day's first appointments and the day's count, ranked in the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from admin_app.models import Appointment, AppointmentStatus, Modality, Participant, Room, Therapist
from admin_app.services.platform.clinic_time import day_start, from_local, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month

# The day's grid: rows of half an hour, from 08:00 to 20:00 clinic time, or wider to hold the
# day's earliest and latest appointments.
SLOT_MINUTES = 30
DAY_OPENS = 8 * 60
DAY_CLOSES = 20 * 60
MIDNIGHT = 24 * 60
# A day of the month shows its first appointments and links to the day for the rest.
MONTH_DAY_SHOWN = 5
# Beyond this many active therapists, the week and the day of everyone are too long to read (or
# to fetch): the book asks for a site or a therapist (`too_wide`).
WIDE_PRACTICE_THERAPISTS = 30


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


@dataclass(frozen=True)
class MonthDay:
    """A day of the month view: its first appointments in start order, and how many it has in all."""

    appointments: list[Appointment]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.appointments)


def month_days(
    session: Session, *, period: Period, filters: AgendaFilter, shown: int = MONTH_DAY_SHOWN
) -> dict[dt.date, MonthDay]:
    """The first `shown` appointments of each local day of the period (cancelled ones included, as
    the week shows them) and each day's count, whatever the size of the practice.

    The local days are bucketed in SQL by comparing the start with each day's first instant,
    computed here in the clinic's zone, so a day of 23 or 25 hours (daylight saving) holds exactly
    its appointments on both databases; the window functions rank and count within each day.
    """
    days = period.days
    ends = [day_start(day + dt.timedelta(days=1)) for day in days]
    local_day = case(*[(Appointment.starts_at < end, index) for index, end in enumerate(ends)])
    bucketed = (
        select(Appointment, local_day.label("day"))
        .where(Appointment.starts_at >= day_start(days[0]), Appointment.starts_at < ends[-1], *_conditions(filters))
        .subquery()
    )
    in_order = (bucketed.c.starts_at, bucketed.c.id)
    ranked = select(
        bucketed,
        func.row_number().over(partition_by=bucketed.c.day, order_by=in_order).label("place"),
        func.count().over(partition_by=bucketed.c.day).label("count"),
    ).subquery()
    # The ranked rows are the appointments themselves: no join back to the whole table.
    first = aliased(Appointment, ranked)
    query = (
        select(first, ranked.c.day, ranked.c.count)
        .where(ranked.c.place <= shown)
        .options(
            joinedload(first.therapist),
            joinedload(first.room),
            selectinload(first.participants).joinedload(Participant.client),
        )
        .order_by(first.starts_at, first.id)
    )
    by_day: dict[dt.date, MonthDay] = {}
    for appointment, index, count in session.execute(query):
        day = by_day.setdefault(days[index], MonthDay(appointments=[], count=count))
        day.appointments.append(appointment)
    return by_day


def too_wide(session: Session, *, filters: AgendaFilter) -> int | None:
    """The number of active therapists when the filters leave a week or a day of all of them in a
    practice too large to read it (no therapist, site or client chosen); None when it is fine."""
    if filters.therapist_id or filters.site_id or filters.client_id:
        return None
    active = session.scalar(select(func.count()).select_from(Therapist).where(Therapist.active))
    return active if active > WIDE_PRACTICE_THERAPISTS else None


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


@dataclass(frozen=True)
class Column:
    """A therapist's column of the day's grid; `picked` when it is shown because the staff asked
    for it (and may be taken away again), not for its appointments or its site."""

    therapist: Therapist
    picked: bool


@dataclass(frozen=True)
class Cell:
    """One therapist's half hour: the appointments that start in it, and `free` when no live
    (not cancelled) appointment of theirs takes any of it, so it can be booked."""

    appointments: list[Appointment]
    free: bool


@dataclass(frozen=True)
class Row:
    starts: dt.datetime  # clinic wall-clock time, naive
    cells: list[Cell]  # one per column


@dataclass(frozen=True)
class DayGrid:
    columns: list[Column]
    rows: list[Row]


def day_grid(
    session: Session,
    *,
    day: dt.date,
    appointments: list[Appointment],
    filters: AgendaFilter,
    picked: Iterable[int] = (),
) -> DayGrid:
    """The day's appointments (as `agenda` gives them, filtered) laid out as half-hour rows × a
    column per therapist.

    A practice of 200 must not get 200 columns: the columns are the therapist filtered on, else the
    therapists with appointments shown that day, the active therapists whose home is the filtered
    site, and those the staff `picked`, by name. One query, whatever their number.
    """
    columns = _columns(session, appointments, filters, set(picked))
    spans = {appointment.id: _span(appointment, day) for appointment in appointments}
    first = min([DAY_OPENS, *(start for start, _ in spans.values())]) // SLOT_MINUTES * SLOT_MINUTES
    last = min(MIDNIGHT, max([DAY_CLOSES, *(end for _, end in spans.values())]))
    by_therapist: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        by_therapist[appointment.therapist_id].append(appointment)
    rows = []
    for minute in range(first, last, SLOT_MINUTES):
        starts = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
        if not _exists(starts):
            continue
        cells = [_cell(by_therapist[column.therapist.id], spans, minute) for column in columns]
        rows.append(Row(starts=starts, cells=cells))
    return DayGrid(columns=columns, rows=rows)


def _columns(
    session: Session, appointments: list[Appointment], filters: AgendaFilter, picked: set[int]
) -> list[Column]:
    if filters.therapist_id:
        wanted, picked = {filters.therapist_id}, set()
    else:
        wanted = {appointment.therapist_id for appointment in appointments} | picked
    conditions = [Therapist.id.in_(wanted)] if wanted else []
    if filters.site_id and not filters.therapist_id:
        conditions.append(and_(Therapist.site_id == filters.site_id, Therapist.active))
    if not conditions:
        return []
    therapists = session.scalars(select(Therapist).where(or_(*conditions)).order_by(Therapist.full_name, Therapist.id))
    shown = {appointment.therapist_id for appointment in appointments}
    return [Column(therapist, picked=therapist.id in picked and therapist.id not in shown) for therapist in therapists]


def _span(appointment: Appointment, day: dt.date) -> tuple[int, int]:
    """Start and end as minutes after the day's local midnight, within the day."""

    def minutes(instant: dt.datetime) -> int:
        local = to_local(instant)
        if local.date() != day:
            return 0 if local.date() < day else MIDNIGHT
        return local.hour * 60 + local.minute

    return minutes(appointment.starts_at), minutes(appointment.ends_at)


def _exists(wall_time: dt.datetime) -> bool:
    """False for a time the clocks skip on a daylight-saving day: nobody can be booked then."""
    try:
        from_local(wall_time)
    except RuleViolation:
        return False
    return True


def _cell(appointments: list[Appointment], spans: dict[int, tuple[int, int]], minute: int) -> Cell:
    end = minute + SLOT_MINUTES
    starting = [a for a in appointments if minute <= spans[a.id][0] < end]
    taken = any(
        a.status != AppointmentStatus.CANCELLED and spans[a.id][0] < end and spans[a.id][1] > minute
        for a in appointments
    )
    return Cell(appointments=starting, free=not taken)
