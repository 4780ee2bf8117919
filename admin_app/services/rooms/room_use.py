"""Room use: the room time each reservation holds against the time its therapist really used
(DESIGN.md, "Room use"), per site, room and therapist, for a month or a range of months.

The figures, in seconds summed then shown as hours (two decimals, half-up):

- **reserved**: a reservation's occurrences on the local dates of the month (its ISO weekday, within
  `valid_from`..`valid_until`), each `ends_time - starts_time` of wall-clock time. A 09:00-12:00
  reservation is 3 h on both sides of a daylight-saving change and on the day of the change too.
- An occurrence's instants are its local date and times read in the clinic zone (the first of a
  repeated autumn hour, as `clinic_time.from_local` reads it). Each on-site appointment of the
  reservation's therapist in the reservation's room **covers** the part of an occurrence it overlaps,
  and that part goes to one figure, by the first of these that holds for the appointment:
  - **used**: at least one participant attended;
  - **no-show**: else at least one participant did not come or cancelled late (no-show,
    late-cancelled): the room stood empty and could not be offered to anyone else in time;
  - **cancelled**: else the appointment is cancelled (everyone cancelled in time, or it was called
    off before anyone's attendance was recorded);
  - else it is still expected (its attendance is not recorded yet).
- **booked** = used + no-show + expected: what appointments held, unless cancelled in time. (An
  appointment whose participants all cancelled late is stored as cancelled; here it is booked and
  no-show, since its room sat empty without notice.)
- **unreserved**: the part of the therapist's used on-site appointments, in any room, outside every
  occurrence of their reservations of that room; it counts in the month of the appointment's local
  start (reserved, booked, used, no-show and cancelled count in the month of the occurrence's date).
- **use** = used / reserved, a fraction with three decimals; None when nothing is reserved.

Nothing counts twice: a therapist's appointments never overlap (the booking guard) and neither do
two reservations of one room (the reservation guard). An appointment lasts at most a day
(`bounds.MAX_APPOINTMENT_MINUTES`), which bounds how far apart an appointment and an occurrence
it overlaps may start.

It is one SQL statement whatever the number of reservations or appointments, of the same shape
whatever the range (so SQLAlchemy caches its compiled form). The clinic days of the range (and one
more, for an appointment that runs past the last midnight) are a recursive count in SQL; Python
works out, with `zoneinfo`, the UTC offset at the first day and where the clocks change, and SQL
turns a reservation's local times into instants with that short CASE, the same way on SQLite and
PostgreSQL. Instants are whole seconds from a base a little before the range; each occurrence is
matched with its therapist's appointments in its room by UTC day (the day of the occurrence's
start, the one before and the one after: an equality the database can hash on), then by overlap
arithmetic, and everything is summed by group in the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, and_, case, func, literal, literal_column, null, or_, select, true, union_all
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Modality,
    Participant,
    Room,
    RoomReservation,
    Site,
    Therapist,
)
from admin_app.services.platform.bounds import MAX_APPOINTMENT_MINUTES
from admin_app.services.platform.clinic_time import clinic_zone
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.platform.sql_time import day_number, day_seconds, epoch_seconds

# A longer range is refused: ten years of days and occurrences is already more than a screen can show.
MAX_MONTHS = 120
# The window `low_reservations` judges a reservation on: the last 8 weeks, up to yesterday.
LOW_USE_DAYS = 56

DAY = 86_400
HOUR = Decimal(3600)
CENT = Decimal("0.01")
MILLI = Decimal("0.001")

USED, NO_SHOW, CANCELLED, EXPECTED = "used", "no_show", "cancelled", "expected"
RESERVED, ONSITE_USED, INSIDE_USED = "reserved", "onsite_used", "inside_used"


@dataclasses.dataclass(frozen=True)
class UseFigures:
    """One row's figures: hours with two decimals, use as a fraction with three (None: nothing reserved)."""

    reserved_hours: Decimal
    booked_hours: Decimal
    used_hours: Decimal
    no_show_hours: Decimal
    cancelled_hours: Decimal
    unreserved_hours: Decimal
    use: Decimal | None


@dataclasses.dataclass
class _Tally:
    """Seconds per figure, summed before anything is rounded."""

    reserved: int = 0
    used: int = 0
    no_show: int = 0
    cancelled: int = 0
    expected: int = 0
    onsite_used: int = 0
    inside_used: int = 0

    def add(self, other: _Tally) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def figures(self) -> UseFigures:
        return UseFigures(
            reserved_hours=_hours(self.reserved),
            booked_hours=_hours(self.used + self.no_show + self.expected),
            used_hours=_hours(self.used),
            no_show_hours=_hours(self.no_show),
            cancelled_hours=_hours(self.cancelled),
            unreserved_hours=_hours(self.onsite_used - self.inside_used),
            use=_fraction(self.used, self.reserved),
        )


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / HOUR).quantize(CENT, rounding=ROUND_HALF_UP)


def _fraction(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(MILLI, rounding=ROUND_HALF_UP) if whole else None


@dataclasses.dataclass(frozen=True)
class SiteLine:
    site_id: int
    site: str
    figures: UseFigures


@dataclasses.dataclass(frozen=True)
class RoomLine:
    room_id: int
    site: str
    room: str
    figures: UseFigures


@dataclasses.dataclass(frozen=True)
class TherapistLine:
    therapist_id: int
    name: str
    email: str
    figures: UseFigures


@dataclasses.dataclass(frozen=True)
class RoomTherapistLine:
    room_id: int
    site: str
    room: str
    therapist_id: int
    name: str
    email: str
    figures: UseFigures


@dataclasses.dataclass(frozen=True)
class RoomUseTable:
    """The figures of a month (or of the whole range), a line for each site, room, therapist, and
    therapist in a room that reserved something or was used on site; by site, room and name."""

    sites: list[SiteLine]
    rooms: list[RoomLine]
    therapists: list[TherapistLine]
    room_therapists: list[RoomTherapistLine]


@dataclasses.dataclass(frozen=True)
class RoomUse:
    """Room use of `first_month`..`last_month`: `total` over the range and `months` one by one."""

    first_month: Month
    last_month: Month
    timezone: str
    total: RoomUseTable
    months: dict[Month, RoomUseTable]


@dataclasses.dataclass(frozen=True)
class LowReservation:
    """A reservation used less than the practice's threshold over the last weeks."""

    reservation_id: int
    site: str
    room: str
    therapist_id: int
    name: str
    email: str
    weekday: int
    starts_time: dt.time
    ends_time: dt.time
    figures: UseFigures
    first_day: dt.date  # the window it was judged on
    last_day: dt.date
    released_on: dt.date | None  # the day the office last released part of it


def room_use(session: Session, first_month: Month, last_month: Month | None = None) -> RoomUse:
    """The room use of a month, or of every month from `first_month` to `last_month` (one statement)."""
    last_month = last_month or first_month
    if last_month < first_month:
        raise RuleViolation(
            _l("%(field)s: the last month comes before the first one", field="last_month"), field="last_month"
        )
    months = first_month.until(last_month)
    if len(months) > MAX_MONTHS:
        raise RuleViolation(
            _l("%(field)s: choose at most %(count)d months", field="last_month", count=MAX_MONTHS),
            field="last_month",
        )
    zone = clinic_zone()
    days = _clinic_days(first_month.first_day, last_month.last_day, zone, months)
    parts = _parts(days)
    room, site, therapist = Room.__table__, Site.__table__, Therapist.__table__
    figure = union_all(
        select(
            parts.occurrence.c.period,
            parts.occurrence.c.room_id,
            parts.occurrence.c.therapist_id,
            literal(RESERVED).label("measure"),
            func.sum(parts.occurrence.c.reserved).label("seconds"),
        )
        .where(parts.occurrence.c.period.is_not(None))
        .group_by(parts.occurrence.c.period, parts.occurrence.c.room_id, parts.occurrence.c.therapist_id),
        select(
            parts.overlap.c.period,
            parts.overlap.c.room_id,
            parts.overlap.c.therapist_id,
            parts.overlap.c.outcome,
            func.sum(parts.overlap.c.seconds),
        )
        .where(parts.overlap.c.period.is_not(None))
        .group_by(
            parts.overlap.c.period, parts.overlap.c.room_id, parts.overlap.c.therapist_id, parts.overlap.c.outcome
        ),
        select(
            parts.appointment.c.period,
            parts.appointment.c.room_id,
            parts.appointment.c.therapist_id,
            literal(ONSITE_USED),
            func.sum(parts.appointment.c.ends - parts.appointment.c.starts),
        )
        .where(parts.appointment.c.period.is_not(None), parts.appointment.c.outcome == USED)
        .group_by(parts.appointment.c.period, parts.appointment.c.room_id, parts.appointment.c.therapist_id),
        select(
            parts.overlap.c.start_period,
            parts.overlap.c.room_id,
            parts.overlap.c.therapist_id,
            literal(INSIDE_USED),
            func.sum(parts.overlap.c.seconds),
        )
        .where(parts.overlap.c.start_period.is_not(None), parts.overlap.c.outcome == USED)
        .group_by(parts.overlap.c.start_period, parts.overlap.c.room_id, parts.overlap.c.therapist_id),
    ).subquery("figure")
    query = (
        select(
            figure.c.period,
            figure.c.room_id,
            room.c.name,
            site.c.id,
            site.c.name,
            figure.c.therapist_id,
            therapist.c.full_name,
            therapist.c.email,
            figure.c.measure,
            figure.c.seconds,
        )
        .join(room, room.c.id == figure.c.room_id)
        .join(site, site.c.id == room.c.site_id)
        .join(therapist, therapist.c.id == figure.c.therapist_id)
    )
    tallies: dict[int, dict[tuple, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for period, room_id, room_name, site_id, site_name, therapist_id, name, email, measure, seconds in session.execute(
        query
    ):
        tally = tallies[period][(site_name, site_id, room_name, room_id, name, therapist_id, email)]
        setattr(tally, measure, getattr(tally, measure) + int(seconds or 0))
    total: dict[tuple, _Tally] = defaultdict(_Tally)
    for per_key in tallies.values():
        for key, tally in per_key.items():
            total[key].add(tally)
    return RoomUse(
        first_month=first_month,
        last_month=last_month,
        timezone=zone.key,
        total=_table(total),
        months={month: _table(tallies.get(index, {})) for index, month in enumerate(months)},
    )


def low_reservations(session: Session, today: dt.date, percent: int | None = None) -> list[LowReservation]:
    """Reservations in force today or later whose use over the last `LOW_USE_DAYS` local days (up
    to yesterday) is under `percent` (default `ROOM_USE_LOW_PERCENT`), judged on their occurrences in
    those days (a reservation with none there is not judged); lowest use first and, as used, the most
    hours reserved first: the most room to free (one statement)."""
    if percent is None:
        percent = current_app.config["ROOM_USE_LOW_PERCENT"]
    zone = clinic_zone()
    first_day, last_day = today - dt.timedelta(days=LOW_USE_DAYS), today - dt.timedelta(days=1)
    parts = _parts(_clinic_days(first_day, last_day, zone, None))
    reserved = (
        select(parts.occurrence.c.reservation_id, func.sum(parts.occurrence.c.reserved).label("reserved"))
        .where(parts.occurrence.c.period.is_not(None))
        .group_by(parts.occurrence.c.reservation_id)
        .subquery("reserved")
    )
    used = (
        select(parts.overlap.c.reservation_id, func.sum(parts.overlap.c.seconds).label("used"))
        .where(parts.overlap.c.period.is_not(None), parts.overlap.c.outcome == USED)
        .group_by(parts.overlap.c.reservation_id)
        .subquery("used")
    )
    used_seconds = case((used.c.used.is_(None), 0), else_=used.c.used)
    reservation = RoomReservation.__table__
    room, site, therapist = Room.__table__, Site.__table__, Therapist.__table__
    query = (
        select(
            reservation.c.id,
            site.c.name,
            room.c.name,
            therapist.c.id,
            therapist.c.full_name,
            therapist.c.email,
            reservation.c.weekday,
            reservation.c.starts_time,
            reservation.c.ends_time,
            reserved.c.reserved,
            used_seconds,
            reservation.c.released_on,
        )
        .join(reserved, reserved.c.reservation_id == reservation.c.id)
        .outerjoin(used, used.c.reservation_id == reservation.c.id)
        .join(room, room.c.id == reservation.c.room_id)
        .join(site, site.c.id == room.c.site_id)
        .join(therapist, therapist.c.id == reservation.c.therapist_id)
        .where(
            or_(reservation.c.valid_until.is_(None), reservation.c.valid_until >= today),
            used_seconds * 100 < reserved.c.reserved * percent,
        )
    )
    lines = [
        LowReservation(
            reservation_id=reservation_id,
            site=site_name,
            room=room_name,
            therapist_id=therapist_id,
            name=name,
            email=email,
            weekday=weekday,
            starts_time=starts_time,
            ends_time=ends_time,
            figures=_Tally(reserved=int(reserved_seconds), used=int(used_seconds)).figures(),
            first_day=first_day,
            last_day=last_day,
            released_on=released_on,
        )
        for (
            reservation_id,
            site_name,
            room_name,
            therapist_id,
            name,
            email,
            weekday,
            starts_time,
            ends_time,
            reserved_seconds,
            used_seconds,
            released_on,
        ) in session.execute(query)
    ]
    return sorted(
        lines,
        key=lambda line: (
            line.figures.use,
            -line.figures.reserved_hours,
            line.site,
            line.room,
            line.name,
            line.reservation_id,
        ),
    )


def _table(tallies: dict[tuple, _Tally]) -> RoomUseTable:
    """Lines per site, room, therapist and therapist in a room from the (room, therapist) tallies."""
    sites: dict[tuple, _Tally] = defaultdict(_Tally)
    rooms: dict[tuple, _Tally] = defaultdict(_Tally)
    therapists: dict[tuple, _Tally] = defaultdict(_Tally)
    for key, tally in tallies.items():
        site_name, site_id, room_name, room_id, name, therapist_id, email = key
        sites[(site_name, site_id)].add(tally)
        rooms[(site_name, room_name, room_id)].add(tally)
        therapists[(name, therapist_id, email)].add(tally)
    return RoomUseTable(
        sites=[SiteLine(site_id, site_name, tally.figures()) for (site_name, site_id), tally in sorted(sites.items())],
        rooms=[
            RoomLine(room_id, site_name, room_name, tally.figures())
            for (site_name, room_name, room_id), tally in sorted(rooms.items())
        ],
        therapists=[
            TherapistLine(therapist_id, name, email, tally.figures())
            for (name, therapist_id, email), tally in sorted(therapists.items())
        ],
        room_therapists=[
            RoomTherapistLine(room_id, site_name, room_name, therapist_id, name, email, tally.figures())
            for (site_name, _site_id, room_name, room_id, name, therapist_id, email), tally in sorted(
                tallies.items(), key=lambda item: (item[0][0], item[0][2], item[0][3], item[0][4], item[0][5])
            )
        ],
    )


@dataclasses.dataclass(frozen=True)
class _Days:
    """The clinic days of a range, as SQL numbers them (0 the first, `count` the padding day), and
    what turns a local time of one of them into an instant."""

    first_day: dt.date
    count: int  # days in the range; day `count` is the padding day, in no period
    period_firsts: list[int]  # the number of each period's first day
    base: dt.datetime  # a UTC midnight two days before the first day: SQL counts seconds from it
    first_offset: int  # the UTC offset (seconds east) at the first day's 00:00
    changes: list[tuple[int, int]]  # (wall second from which, offset) for each change of the clocks
    period_starts: list[dt.datetime]  # each period's first local midnight, then the one that ends the last
    padding_ends: dt.datetime  # the local midnight after the padding day

    def seconds(self, instant: dt.datetime) -> int:
        return int((instant - self.base).total_seconds())


@dataclasses.dataclass(frozen=True)
class _Parts:
    occurrence: object
    appointment: object
    overlap: object


def _clinic_days(first_day: dt.date, last_day: dt.date, zone: ZoneInfo, months: list[Month] | None) -> _Days:
    """The local days from `first_day` to `last_day`, in period `months.index(their month)` (one
    period when `months` is None), and the day after, in no period: an appointment starting before
    the last midnight may run into that day's occurrences (its unreserved part counts).

    A local time t of day n is the "wall" second `(n + 2) * DAY + t` (as if local time were UTC,
    counted from the base); the instant is the wall second minus the UTC offset in force, which
    changes at the wall seconds listed in `changes`."""
    base_day = first_day - dt.timedelta(days=2)
    count = (last_day - first_day).days + 1
    changes = []
    for number in range(count + 1):
        day = first_day + dt.timedelta(days=number)
        before, after, change = _offsets(day, zone)
        if before != after:
            changes.append(((day - base_day).days * DAY + change, after))

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    after_last = last_day + dt.timedelta(days=1)
    firsts = [month.first_day for month in months] if months else [first_day]
    return _Days(
        first_day=first_day,
        count=count,
        period_firsts=[(day - first_day).days for day in firsts],
        base=dt.datetime.combine(base_day, dt.time(), tzinfo=dt.UTC),
        first_offset=_offsets(first_day, zone)[0],
        changes=changes,
        period_starts=[midnight(day) for day in firsts] + [midnight(after_last)],
        padding_ends=midnight(after_last + dt.timedelta(days=1)),
    )


def _offsets(day: dt.date, zone: ZoneInfo) -> tuple[int, int, int]:
    """(UTC offset in seconds before a change of the clocks on `day`, after it, the local second of
    the day from which the second applies); a day without a change: (offset, offset, DAY).
    Each time of day is read as `from_local` reads it (fold 0: the first of a repeated hour)."""

    def offset(minute: int) -> int:
        wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
        return int(wall.utcoffset().total_seconds())

    last_minute = 24 * 60 - 1
    before, after = offset(0), offset(last_minute)
    if before == after:
        return before, after, DAY
    low, high = 0, last_minute  # offset(low) == before, offset(high) == after
    while high - low > 1:
        middle = (low + high) // 2
        if offset(middle) == before:
            low = middle
        else:
            high = middle
    return before, after, high * 60


def _parts(days: _Days) -> _Parts:
    """The CTEs both figures read: the occurrences of every reservation on the days, the on-site
    appointments that may overlap them with their outcome, and each (occurrence, appointment) overlap."""
    # The days as a recursive count (a statement of the same shape, cached, whatever the range).
    day_index = select(literal_column("0").label("n")).cte("day_index", recursive=True)
    day_index = day_index.union_all(
        select(day_index.c.n + literal_column("1")).where(day_index.c.n < literal(days.count, Integer))
    )
    n = day_index.c.n
    period = case(
        (n >= literal(days.count, Integer), null()),
        *[
            (n < literal(first, Integer), literal(number - 1, Integer))
            for number, first in enumerate(days.period_firsts)
            if number
        ],
        else_=literal(len(days.period_firsts) - 1, Integer),
    )
    clinic_day = select(
        n.label("n"),
        (n + day_number(literal(days.first_day, Date))).label("day"),
        ((n + literal(days.first_day.isoweekday() - 1, Integer)) % 7 + 1).label("weekday"),
        period.label("period"),
        ((n + 2) * DAY).label("wall"),
    ).cte("clinic_day")
    day_shift = (
        select(literal_column("-1").label("shift"))
        .union_all(select(literal_column("0")), select(literal_column("1")))
        .cte("day_shift")
    )

    reservation = RoomReservation.__table__
    starts, ends = day_seconds(reservation.c.starts_time), day_seconds(reservation.c.ends_time)

    def instant(seconds):
        wall = clinic_day.c.wall + seconds
        offset = literal(days.first_offset, Integer)
        if days.changes:
            offsets = [days.first_offset] + [after for _wall, after in days.changes]
            offset = case(
                *[
                    (wall < literal(at, Integer), literal(offsets[number], Integer))
                    for number, (at, _after) in enumerate(days.changes)
                ],
                else_=literal(offsets[-1], Integer),
            )
        return wall - offset

    occurrence = (
        select(
            reservation.c.id.label("reservation_id"),
            reservation.c.room_id,
            reservation.c.therapist_id,
            clinic_day.c.period,
            (ends - starts).label("reserved"),
            instant(starts).label("starts"),
            instant(ends).label("ends"),
            (instant(starts) // DAY).label("utc_day"),
        )
        .join_from(
            reservation,
            clinic_day,
            and_(
                clinic_day.c.weekday == reservation.c.weekday,
                clinic_day.c.day >= day_number(reservation.c.valid_from),
                or_(reservation.c.valid_until.is_(None), clinic_day.c.day <= day_number(reservation.c.valid_until)),
            ),
        )
        .cte("occurrence")
    )

    appointment, participant = Appointment.__table__, Participant.__table__
    first_midnight = days.period_starts[0]
    on_site = and_(
        appointment.c.modality == Modality.ON_SITE,
        appointment.c.room_id.is_not(None),
        # what may overlap the days: ends after the first midnight (starts at most a day before it)
        appointment.c.starts_at > first_midnight - dt.timedelta(minutes=MAX_APPOINTMENT_MINUTES),
        appointment.c.ends_at > first_midnight,
        appointment.c.starts_at < days.padding_ends,
    )
    attendance = (
        select(
            participant.c.appointment_id,
            func.max(case((participant.c.attendance == Attendance.ATTENDED, 1), else_=0)).label("attended"),
            func.max(
                case(
                    (participant.c.attendance.in_([Attendance.NO_SHOW, Attendance.LATE_CANCELLED]), 1),
                    else_=0,
                )
            ).label("missed"),
        )
        .join(appointment, appointment.c.id == participant.c.appointment_id)
        .where(on_site)
        .group_by(participant.c.appointment_id)
        .subquery("attendance")
    )
    base = literal(int(days.base.timestamp()), Integer)
    appointment_starts = epoch_seconds(appointment.c.starts_at) - base
    bounds = [days.seconds(instant) for instant in days.period_starts]
    period = case(
        (appointment_starts < bounds[0], null()),
        *[(appointment_starts < bounds[number + 1], literal(number)) for number in range(len(bounds) - 1)],
        else_=null(),
    )
    outcome = case(
        (attendance.c.attended == 1, USED),
        (attendance.c.missed == 1, NO_SHOW),
        (appointment.c.status == AppointmentStatus.CANCELLED, CANCELLED),
        else_=EXPECTED,
    )
    on_site_appointment = (
        select(
            appointment.c.id,
            appointment.c.room_id,
            appointment.c.therapist_id,
            period.label("period"),
            appointment_starts.label("starts"),
            (epoch_seconds(appointment.c.ends_at) - base).label("ends"),
            (appointment_starts // DAY).label("utc_day"),
            outcome.label("outcome"),
        )
        .outerjoin(attendance, attendance.c.appointment_id == appointment.c.id)
        .where(on_site)
        .cte("on_site_appointment")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )

    # Each occurrence once per UTC day an overlapping appointment may start on. This CTE and the
    # appointments' are materialized on PostgreSQL so it hashes one on the other by (therapist, room,
    # day): planned from the recursive day count (which it underestimates tenfold), it joined on
    # therapist and room alone, or looped, and compared millions of pairs (2 s for a year at 30
    # therapists; 0.8 s now).
    near = (
        select(*occurrence.c, (occurrence.c.utc_day + day_shift.c.shift).label("near_day"))
        .join(day_shift, true())
        .cte("near_occurrence")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    o, a = near.c, on_site_appointment.c
    overlap = (
        select(
            o.reservation_id,
            o.room_id,
            o.therapist_id,
            o.period,
            a.period.label("start_period"),
            a.outcome,
            (_least(o.ends, a.ends) - _greatest(o.starts, a.starts)).label("seconds"),
        )
        .select_from(near)
        .join(
            on_site_appointment,
            and_(
                a.therapist_id == o.therapist_id,
                a.room_id == o.room_id,
                a.utc_day == o.near_day,
                a.starts < o.ends,
                a.ends > o.starts,
            ),
        )
        .cte("overlap")
    )
    return _Parts(occurrence=occurrence, appointment=on_site_appointment, overlap=overlap)


def _least(first, second):
    return case((first < second, first), else_=second)


def _greatest(first, second):
    return case((first > second, first), else_=second)
