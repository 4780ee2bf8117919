"""Recurring series: the same local hour every week or every two weeks.

Why the arithmetic is done on the local calendar: a weekly 10:00 session is "10:00 at the
clinic", not "every 168 hours". Adding weeks to a UTC instant would move the session by an hour
when the clocks change (Vancouver), so every occurrence is built from the local date plus the
local time of day, and only then converted to UTC with `from_local`.

Every occurrence is checked before anything is written; the staff see the clashes by date and
choose to skip those dates or to abandon the whole series, so a series is never half-created.
The functions here never commit: the caller commits on success and rolls back on a
`RuleViolation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    Attendance,
    CancelledBy,
    Client,
    Modality,
    Participant,
    Room,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.platform import bounds
from admin_app.services.platform.clinic_time import from_local, to_local
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.platform.money import check_currency
from admin_app.services.scheduling.attendance import CANCELLATIONS, cancellation_reason
from admin_app.services.scheduling.conflicts import find_conflicts
from admin_app.services.scheduling.rules import prepare_appointment

MAX_OCCURRENCES = 104
# "Within two years", counted in whole weeks so a weekly series never exceeds MAX_OCCURRENCES.
MAX_SPAN = dt.timedelta(weeks=104)
INTERVALS = (1, 2)
MAX_DURATION_MINUTES = bounds.MAX_APPOINTMENT_MINUTES
DATE_FORMAT = "%Y-%m-%d"


@dataclass
class PlannedOccurrence:
    """One date of a planned series and what stands in its way, if anything.

    `starts_at`/`ends_at` are None when the local start does not exist (skipped by a
    daylight-saving jump); `problems` then says so.
    """

    local_start: dt.datetime
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    conflicts: list[Any] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)

    @property
    def local_date(self) -> dt.date:
        return self.local_start.date()

    @property
    def messages(self) -> list[Any]:
        """Everything that prevents booking this date, written for the person at the screen."""
        return [*self.problems, *(conflict.message for conflict in self.conflicts)]

    @property
    def clear(self) -> bool:
        return self.starts_at is not None and not self.problems and not self.conflicts


@dataclass
class SeriesPlan:
    """A series as asked for, with every occurrence worked out and checked, nothing written yet."""

    therapist_id: int
    client_ids: tuple[int, ...]
    first_start_local: dt.datetime
    duration_minutes: int
    interval_weeks: int
    occurrences: int | None
    until: dt.date | None
    room_id: int | None
    modality: Modality
    kind: AppointmentKind
    fee: Decimal | None
    currency: str | None
    items: list[PlannedOccurrence]

    @property
    def blocked(self) -> list[PlannedOccurrence]:
        return [item for item in self.items if not item.clear]

    @property
    def clear_items(self) -> list[PlannedOccurrence]:
        return [item for item in self.items if item.clear]


def plan_series(
    session: Session,
    *,
    therapist_id: int,
    client_ids: Sequence[int],
    first_start_local: dt.datetime,
    duration_minutes: int,
    interval_weeks: int,
    occurrences: int | None = None,
    until: dt.date | None = None,
    room_id: int | None = None,
    modality: Modality,
    kind: AppointmentKind,
    fee: Decimal | None = None,
    currency: str | None = None,
) -> SeriesPlan:
    """Work out every occurrence of a series and check each one; writes nothing.

    `first_start_local` is a naive clinic wall time. Each later date is the first local date
    plus whole weeks, at the same local time of day, converted on its own: so the hour stays put
    across daylight-saving changes. A date whose local time does not exist (the spring gap) is
    reported as a problem for that date rather than silently shifted. Occurrences of one series
    cannot clash with each other (they are at least a week apart and last under a day), so only
    clashes with the existing book are looked up.
    """
    if first_start_local.tzinfo is not None:
        first_start_local = to_local(first_start_local).replace(tzinfo=None)
    therapist = _therapist(session, therapist_id)
    client_ids = _clients(session, client_ids)
    room_id = _room(session, room_id, modality)
    _check_shape(first_start_local, duration_minutes, interval_weeks, occurrences, until)
    if fee is not None and fee < 0:
        raise RuleViolation(_l("%(field)s: must not be negative", field=field_label("fee")), field="fee")
    if currency:
        currency = check_currency(currency, field="currency")

    duration = dt.timedelta(minutes=duration_minutes)
    items = []
    for local_start in _local_starts(first_start_local, interval_weeks, occurrences, until):
        items.append(_planned(session, local_start, duration, therapist.id, room_id, client_ids))
    return SeriesPlan(
        therapist_id=therapist.id,
        client_ids=client_ids,
        first_start_local=first_start_local,
        duration_minutes=duration_minutes,
        interval_weeks=interval_weeks,
        occurrences=occurrences,
        until=until,
        room_id=room_id,
        modality=modality,
        kind=kind,
        fee=fee,
        currency=currency,
        items=items,
    )


def create_series(session: Session, *, plan: SeriesPlan, skip_conflicting: bool) -> AppointmentSeries:
    """Write the series and its occurrences, all or nothing.

    The plan may have been shown to the staff a while ago, so every date is checked again
    here. If any date is blocked and the staff did not choose to skip, nothing is written and
    the RuleViolation lists the dates. Each occurrence goes through `prepare_appointment`, so
    the fee, currency, room, status and conflict rules of a single appointment apply unchanged.
    """
    therapist = _therapist(session, plan.therapist_id)
    room = session.get(Room, plan.room_id) if plan.room_id is not None else None
    duration = dt.timedelta(minutes=plan.duration_minutes)
    items = [
        _planned(session, item.local_start, duration, therapist.id, plan.room_id, plan.client_ids)
        for item in plan.items
    ]
    blocked = [item for item in items if not item.clear]
    if blocked and not skip_conflicting:
        raise RuleViolation(
            _l(
                "Nothing was created. These dates cannot be booked: %(dates)s",
                dates=_dates(blocked),
            )
        )
    clear = [item for item in items if item.clear]
    if not clear:
        raise RuleViolation(_l("Nothing was created: none of the dates can be booked."))

    clients = [session.get(Client, client_id) for client_id in _clients(session, plan.client_ids)]
    series = AppointmentSeries(
        therapist=therapist,
        interval_weeks=plan.interval_weeks,
        occurrences=plan.occurrences,
        until=plan.until,
    )
    session.add(series)
    session.flush()  # its id, so each occurrence points at it by key (no half-linked collection)
    for item in clear:
        appointment = Appointment(
            therapist=therapist,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            kind=plan.kind,
            modality=plan.modality,
            room=room if plan.modality == Modality.ON_SITE else None,
            series_id=series.id,
            participants=[Participant(client=client, fee=plan.fee, currency=plan.currency) for client in clients],
        )
        # The single-appointment rules, and the write itself: a slot taken since the check
        # above is refused here by name (the caller rolls back).
        prepare_appointment(session, appointment)
        session.add(appointment)  # already there once prepared (it writes); kept explicit
    session.flush()
    session.expire(series, ["appointments"])
    return series


def cancel_occurrences(
    session: Session,
    *,
    appointment: Appointment,
    and_following: bool,
    cancelled_by: CancelledBy | None = None,
    reason: str | None = None,
) -> int:
    """Cancel one occurrence, or it and every later one of its series; returns how many.

    Only appointments still ahead and scheduled are touched: a past or held session is part of
    the records (attendance, billing) and is left as it is. Cancelling goes through
    `prepare_appointment`, which cancels the participants still expected; who cancelled and
    why, when given, are recorded on them (a practice-side cancellation must not count against
    the client later).
    """
    reason = cancellation_reason(reason)
    now = utcnow()
    targets = [a for a in occurrences_from(session, appointment, and_following) if _changeable(a, now)]
    for target in targets:
        expected = [p for p in target.participants if p.attendance == Attendance.EXPECTED]
        target.status = AppointmentStatus.CANCELLED
        prepare_appointment(session, target)
        for participant in expected:
            participant.cancelled_by, participant.cancellation_reason = cancelled_by, reason
    session.flush()
    return len(targets)


def move_occurrences(
    session: Session,
    *,
    appointment: Appointment,
    new_start_local: dt.datetime,
    and_following: bool,
) -> int:
    """Move one occurrence, or it and every later one, to a new local time (and weekday).

    The shift is taken on the local calendar: the chosen occurrence goes to `new_start_local`;
    each later one moves by the same number of days and takes the same local time of day, so a
    "Thursdays 10:00 → Fridays 11:00" change holds across a daylight-saving change. Durations are
    kept. Every new slot is checked before anything moves; if one clashes (or does not exist
    locally) nothing moves and the RuleViolation lists the dates. Past, held and cancelled
    occurrences are left alone. Returns how many appointments moved.
    """
    if new_start_local.tzinfo is not None:
        new_start_local = to_local(new_start_local).replace(tzinfo=None)
    now = utcnow()
    targets = [a for a in occurrences_from(session, appointment, and_following) if _changeable(a, now)]
    if not targets:
        return 0
    anchor_date = to_local(appointment.starts_at).date()
    day_shift = new_start_local.date() - anchor_date

    moves: list[tuple[Appointment, dt.datetime, dt.datetime]] = []
    blocked: list[PlannedOccurrence] = []
    for target in targets:
        local_start = dt.datetime.combine(to_local(target.starts_at).date() + day_shift, new_start_local.time())
        try:
            starts_at = from_local(local_start)
        except RuleViolation as error:
            blocked.append(PlannedOccurrence(local_start, None, None, problems=[error.message]))
            continue
        moves.append((target, starts_at, starts_at + (target.ends_at - target.starts_at)))

    # Every new slot is checked before anything moves. The occurrences moving together leave
    # their old slots, so a clash with one of them is no clash (pushing a weekly series on by a
    # week lands each on the next one's old slot); new slots cannot clash with each other.
    moving = {target.id for target in targets}
    for target, starts_at, ends_at in moves:
        conflicts = [c for c in _conflicts(session, target, starts_at, ends_at) if c.appointment_id not in moving]
        if conflicts:
            local_start = to_local(starts_at).replace(tzinfo=None)
            blocked.append(PlannedOccurrence(local_start, starts_at, ends_at, conflicts=conflicts))
    if blocked:
        raise RuleViolation(
            _l(
                "Nothing was moved. These dates cannot be booked: %(dates)s",
                dates=_dates(sorted(blocked, key=lambda item: item.local_start)),
            )
        )

    # Written in the direction of travel (latest first when moving later), each through the
    # single-appointment rules: an occurrence never lands on a sibling's slot before that one
    # has left it, so neither those rules nor the database's overlap guard see a passing clash.
    moves.sort(key=lambda move: move[0].starts_at, reverse=moves[0][1] > moves[0][0].starts_at)
    for target, starts_at, ends_at in moves:
        target.starts_at, target.ends_at = starts_at, ends_at
        prepare_appointment(session, target)
    session.flush()
    return len(moves)


# --- helpers -------------------------------------------------------------------------------


def _therapist(session: Session, therapist_id: int | None) -> Therapist:
    therapist = session.get(Therapist, therapist_id) if therapist_id is not None else None
    if therapist is None:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("therapist")), field="therapist")
    return therapist


def _clients(session: Session, client_ids: Sequence[int]) -> tuple[int, ...]:
    wanted = tuple(dict.fromkeys(int(client_id) for client_id in client_ids))
    if not wanted:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("client")), field="client")
    found = set(session.scalars(select(Client.id).where(Client.id.in_(wanted))))
    if found != set(wanted):
        raise NotFound(_l("%(field)s: not found", field=field_label("client")), field="client")
    return wanted


def _room(session: Session, room_id: int | None, modality: Modality) -> int | None:
    if modality != Modality.ON_SITE:
        return None
    if room_id is None or session.get(Room, room_id) is None:
        raise RuleViolation(
            _l("%(field)s: an on-site appointment needs a room", field=field_label("room")),
            field="room",
        )
    return room_id


def _check_shape(
    first_start_local: dt.datetime,
    duration_minutes: int,
    interval_weeks: int,
    occurrences: int | None,
    until: dt.date | None,
) -> None:
    if interval_weeks not in INTERVALS:
        raise RuleViolation(_l("A series repeats every week or every two weeks."), field="interval_weeks")
    if not 0 < duration_minutes <= MAX_DURATION_MINUTES:
        raise RuleViolation(
            _l("%(field)s: between 1 and %(max)s minutes", field=_l("Duration"), max=MAX_DURATION_MINUTES),
            field="duration_minutes",
        )
    if (occurrences is None) == (until is None):
        raise RuleViolation(
            _l("Say how many times the series repeats, or until which date (one of the two)."),
            field="occurrences",
        )
    if occurrences is not None and not 1 <= occurrences <= MAX_OCCURRENCES:
        raise RuleViolation(
            _l("A series has between 1 and %(max)s occurrences.", max=MAX_OCCURRENCES),
            field="occurrences",
        )
    if until is not None:
        first_date = first_start_local.date()
        last_allowed = first_date + MAX_SPAN - dt.timedelta(days=1)
        if until < first_date:
            raise RuleViolation(_l("The last date is before the first one."), field="until")
        if until > last_allowed:
            raise RuleViolation(
                _l(
                    "A series must end within two years of its first date (by %(date)s at the latest).",
                    date=last_allowed.strftime(DATE_FORMAT),
                ),
                field="until",
            )


def _local_starts(
    first: dt.datetime, interval_weeks: int, occurrences: int | None, until: dt.date | None
) -> list[dt.datetime]:
    """The local wall times of the series: whole weeks added to the local date, never to UTC."""
    step = dt.timedelta(weeks=interval_weeks)
    starts = []
    current = first
    while (occurrences is not None and len(starts) < occurrences) or (until is not None and current.date() <= until):
        starts.append(current)
        current = current + step  # naive wall time: a week later is the same hour, whatever the clocks do
    return starts


def _planned(
    session: Session,
    local_start: dt.datetime,
    duration: dt.timedelta,
    therapist_id: int,
    room_id: int | None,
    client_ids: Sequence[int],
) -> PlannedOccurrence:
    try:
        starts_at = from_local(local_start)
    except RuleViolation as error:
        return PlannedOccurrence(local_start, None, None, problems=[error.message])
    ends_at = starts_at + duration
    conflicts = find_conflicts(
        session,
        starts_at=starts_at,
        ends_at=ends_at,
        therapist_id=therapist_id,
        room_id=room_id,
        client_ids=tuple(client_ids),
    )
    return PlannedOccurrence(local_start, starts_at, ends_at, conflicts=list(conflicts))


def _conflicts(session: Session, appointment: Appointment, starts_at: dt.datetime, ends_at: dt.datetime) -> list:
    return list(
        find_conflicts(
            session,
            starts_at=starts_at,
            ends_at=ends_at,
            therapist_id=appointment.therapist_id,
            room_id=appointment.room_id,
            client_ids=tuple(p.client_id for p in appointment.participants if p.attendance not in CANCELLATIONS),
            exclude_appointment_id=appointment.id,
        )
    )


def occurrences_from(session: Session, appointment: Appointment, and_following: bool) -> list[Appointment]:
    """The appointment alone, or it and every later occurrence of its series, in order of start."""
    if not and_following or appointment.series_id is None:
        return [appointment]
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.series_id == appointment.series_id, Appointment.starts_at >= appointment.starts_at)
            .order_by(Appointment.starts_at)
        )
    )


def _changeable(appointment: Appointment, now: dt.datetime) -> bool:
    return appointment.status == AppointmentStatus.SCHEDULED and appointment.starts_at > now


def _dates(items: Sequence[PlannedOccurrence]) -> str:
    return ", ".join(item.local_date.strftime(DATE_FORMAT) for item in items)
