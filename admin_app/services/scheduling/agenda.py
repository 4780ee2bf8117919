"""The appointment book: what the staff see for a day, a week or a month, in clinic time.

One call costs the same few queries whatever the number of appointments (a row per
participant, with the appointment's therapist and room and the participant's client joined), so the
page stays fast on a practice with years of history. The appointments come back as `Entry`
rows, not records: a week of 30 therapists is some 450 appointments, and building a record with
its therapist, room, participants and clients for each took three times the queries' own time.
The day's grid (`day_grid`) adds one query for its columns, whatever their number. The month
(`month_days`) fetches only what its cells show: each day's first appointments and the day's
count, ranked in the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from admin_app.models import Appointment, AppointmentStatus, Attendance, Client, Modality, Participant, Room, Therapist
from admin_app.services.platform.clinic_time import clinic_zone, day_start, from_local, to_local
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
# to fetch): the book asks for a site or a therapist for the day (`too_wide`); the week is a row
# per therapist (`week_by_therapist`) and the day a column per therapist, a page of them at a time
# (`listed_page`).
WIDE_PRACTICE_THERAPISTS = 30
THERAPISTS_A_PAGE = 20  # the week's rows
# The day's columns (11rem each): as many as a wide screen shows side by side.
DAY_COLUMNS_A_PAGE = 10


# The tables the book's statements join under names of their own (`_entry_select`, `_is_listed`):
# made once, as making an alias copies every column of its table.
ENTRY_ALIASES = (aliased(Therapist), aliased(Room), aliased(Participant), aliased(Client))
LISTED = aliased(Therapist)


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


@dataclass(frozen=True, slots=True)
class EntryParticipant:
    client: str  # the client's name
    attendance: Attendance


@dataclass(frozen=True, slots=True)
class Entry:
    """An appointment as the book shows it."""

    id: int
    therapist_id: int
    therapist: str  # the therapist's name
    room: str | None  # the room's name, for an on-site appointment
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime
    modality: Modality
    status: AppointmentStatus
    participants: list[EntryParticipant]
    local_start: dt.datetime  # clinic time
    local_end: dt.datetime

    @property
    def times(self) -> str:
        """The start and end in clinic time: "09:00–09:50"."""
        return f"{self.local_start:%H:%M}–{self.local_end:%H:%M}"


def agenda(
    session: Session, *, period: Period, filters: AgendaFilter, therapist_ids: list[int] | None = None
) -> dict[dt.date, list[Entry]]:
    """The period's appointments grouped by local day, in start order, cancelled ones included; of
    `therapist_ids` only when given (a page of a large practice's book)."""
    query = _entry_select(Appointment.__table__).where(*_in_period(period, filters))
    if therapist_ids is not None:
        query = query.where(Appointment.therapist_id.in_(therapist_ids))
    by_day: dict[dt.date, list[Entry]] = defaultdict(list)
    for entry, _extra in _entries(session.execute(query)):
        by_day[entry.local_start.date()].append(entry)
    return by_day


def _entry_select(source, *extra):
    """The appointments of `source` (the appointment table, or a subquery of its rows) as `_entries`
    reads them: a row per participant (one with none for an appointment without), in start order
    and each appointment's participants in the order they were added, the `extra` columns last.
    The therapist and room joined are aliases: the filters' subqueries on those tables
    (`_conditions`) must not be correlated with them."""
    therapist, room, participant, client = ENTRY_ALIASES
    columns = source.c
    return (
        select(
            columns.id,
            columns.therapist_id,
            therapist.full_name,
            room.name,
            columns.starts_at,
            columns.ends_at,
            columns.modality,
            columns.status,
            client.full_name,
            participant.attendance,
            *extra,
        )
        .select_from(source)
        .join(therapist, therapist.id == columns.therapist_id)
        .outerjoin(room, room.id == columns.room_id)
        .outerjoin(participant, participant.appointment_id == columns.id)
        .outerjoin(client, client.id == participant.client_id)
        .order_by(columns.starts_at, columns.id, participant.id)
    )


def _entries(rows) -> Iterator[tuple[Entry, tuple]]:
    """The rows of an `_entry_select` as entries, each with its `extra` columns. The clinic's zone is
    read once: a week of a site shows hundreds of appointments."""
    zone = clinic_zone()
    for _id, group in groupby(rows, key=itemgetter(0)):
        appointment_rows = list(group)
        participants = [EntryParticipant(row[8], row[9]) for row in appointment_rows if row[8] is not None]
        first = appointment_rows[0]
        local = (to_local(first[4], zone), to_local(first[5], zone))
        yield Entry(*first[:8], participants, *local), tuple(first[10:])


@dataclass(frozen=True)
class MonthDay:
    """A day of the month view: its first appointments in start order, and how many it has in all."""

    appointments: list[Entry]
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
    query = _entry_select(ranked, ranked.c.day, ranked.c.count).where(ranked.c.place <= shown)
    by_day: dict[dt.date, MonthDay] = {}
    for entry, (index, count) in _entries(session.execute(query)):
        day = by_day.setdefault(days[index], MonthDay(appointments=[], count=count))
        day.appointments.append(entry)
    return by_day


def wide_practice(session: Session) -> int | None:
    """The number of active therapists when the practice has too many for a week or a day of all of
    them in one list (`WIDE_PRACTICE_THERAPISTS`); None when it has not."""
    active = session.scalar(select(func.count()).select_from(Therapist).where(Therapist.active))
    return active if active > WIDE_PRACTICE_THERAPISTS else None


def too_wide(width: int | None, *, filters: AgendaFilter) -> int | None:
    """The practice's `width` (`wide_practice`) when the filters leave the day of all of its
    therapists to show (no therapist, site or client chosen); None when what they leave is fine."""
    if filters.therapist_id or filters.site_id or filters.client_id:
        return None
    return width


@dataclass(frozen=True)
class TherapistWeek:
    """A therapist's row of the week: their appointments by local day, in start order."""

    therapist_id: int
    therapist: str  # the therapist's name
    days: dict[dt.date, list[Entry]]


def listed_count(session: Session, *, period: Period, filters: AgendaFilter) -> int:
    """How many therapists a large practice's book lists for the period (`listed_page`), over all
    its pages."""
    return session.scalar(select(func.count()).select_from(LISTED).where(_is_listed(period, filters)))


def listed_page(
    session: Session,
    *,
    period: Period,
    filters: AgendaFilter,
    offset: int,
    limit: int = THERAPISTS_A_PAGE,
) -> list[tuple[int, str]]:
    """A page of the therapists a large practice's book lists for the period, by name, as (id, name):
    those with appointments the filters show, and the active therapists of the filtered site (of the
    practice, with no site), to be seen free."""
    return [
        (id_, name)
        for id_, name in session.execute(
            select(LISTED.id, LISTED.full_name)
            .where(_is_listed(period, filters))
            .order_by(LISTED.full_name, LISTED.id)
            .offset(offset)
            .limit(limit)
        )
    ]


def week_by_therapist(
    session: Session, *, period: Period, filters: AgendaFilter, therapists: list[tuple[int, str]]
) -> list[TherapistWeek]:
    """A page of the week of a large practice: a row for each of `therapists` (`listed_page`), in
    their order. One query, whatever the page holds."""
    rows = {id_: TherapistWeek(id_, name, defaultdict(list)) for id_, name in therapists}
    for day, entries in agenda(session, period=period, filters=filters, therapist_ids=list(rows)).items():
        for entry in entries:
            rows[entry.therapist_id].days[day].append(entry)
    return list(rows.values())


def _is_listed(period: Period, filters: AgendaFilter):
    """Whether the therapist `LISTED` (an alias, so that the filters' subqueries on the therapist
    table stay their own) is listed for the period."""
    booked = LISTED.id.in_(select(Appointment.therapist_id).where(*_in_period(period, filters)))
    at_home = LISTED.active if not filters.site_id else and_(LISTED.active, LISTED.site_id == filters.site_id)
    return or_(booked, at_home)


def _in_period(period: Period, filters: AgendaFilter) -> list:
    """The conditions of the appointments the book shows for the period: they start in it (clinic
    time) and pass the filters."""
    start = day_start(period.first_day)
    end = day_start(period.last_day + dt.timedelta(days=1))
    return [Appointment.starts_at >= start, Appointment.starts_at < end, *_conditions(filters)]


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

    appointments: list[Entry]
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
    appointments: list[Entry],
    filters: AgendaFilter,
    picked: Iterable[int] = (),
    listed: list[int] | None = None,
) -> DayGrid:
    """The day's appointments (as `agenda` gives them, filtered) laid out as half-hour rows × a
    column per therapist.

    A practice of 200 must not get 200 columns: the columns are the therapist filtered on, else the
    therapists with appointments shown that day, the active therapists whose home is the filtered
    site, and those the staff `picked`, by name; in a large practice, a page of those (`listed`,
    from `listed_page`) and those picked. One query, whatever their number.
    """
    columns = _columns(session, appointments, filters, set(picked), listed)
    spans = {appointment.id: _span(appointment, day) for appointment in appointments}
    first = min([DAY_OPENS, *(start for start, _ in spans.values())]) // SLOT_MINUTES * SLOT_MINUTES
    last = min(MIDNIGHT, max([DAY_CLOSES, *(end for _, end in spans.values())]))
    by_therapist: dict[int, list[Entry]] = defaultdict(list)
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
    session: Session, appointments: list[Entry], filters: AgendaFilter, picked: set[int], listed: list[int] | None
) -> list[Column]:
    if filters.therapist_id:
        wanted, picked = {filters.therapist_id}, set()
    elif listed is not None:
        wanted = set(listed) | picked
    else:
        wanted = {appointment.therapist_id for appointment in appointments} | picked
    conditions = [Therapist.id.in_(wanted)] if wanted else []
    if filters.site_id and not filters.therapist_id and listed is None:
        conditions.append(and_(Therapist.site_id == filters.site_id, Therapist.active))
    if not conditions:
        return []
    therapists = session.scalars(select(Therapist).where(or_(*conditions)).order_by(Therapist.full_name, Therapist.id))
    shown = {appointment.therapist_id for appointment in appointments}
    return [Column(therapist, picked=therapist.id in picked and therapist.id not in shown) for therapist in therapists]


def _span(appointment: Entry, day: dt.date) -> tuple[int, int]:
    """Start and end as minutes after the day's local midnight, within the day."""

    def minutes(local: dt.datetime) -> int:
        if local.date() != day:
            return 0 if local.date() < day else MIDNIGHT
        return local.hour * 60 + local.minute

    return minutes(appointment.local_start), minutes(appointment.local_end)


def _exists(wall_time: dt.datetime) -> bool:
    """False for a time the clocks skip on a daylight-saving day: nobody can be booked then."""
    try:
        from_local(wall_time)
    except RuleViolation:
        return False
    return True


def _cell(appointments: list[Entry], spans: dict[int, tuple[int, int]], minute: int) -> Cell:
    end = minute + SLOT_MINUTES
    starting = [a for a in appointments if minute <= spans[a.id][0] < end]
    taken = any(
        a.status != AppointmentStatus.CANCELLED and spans[a.id][0] < end and spans[a.id][1] > minute
        for a in appointments
    )
    return Cell(appointments=starting, free=not taken)
