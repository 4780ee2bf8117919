"""Room reservations: the one rule every write path calls (the staff screen, the import), and the
office's release of a reservation (end it early, or shorten its hours).

Two reservations of the same room may not overlap: same weekday, times overlapping (half-open
[start, end): back to back is fine) and date ranges overlapping (no `valid_until`: for ever). The
overlap is looked for in one query while the room is locked (`platform.locking.serialize`), so two
reservations saved at once cannot both land.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from admin_app.models import Room, RoomReservation, TaskKind, Therapist
from admin_app.services.messaging import notifications
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label as _label
from admin_app.services.platform.locking import serialize
from admin_app.services.tasks import scan

# Advisory-lock namespace of reservations ("rr"), one lock per room (two-key form: no clash with
# the bookings' per-room lock, which guards appointments, not reservations).
RESERVATION_LOCK_SPACE = 0x7272
WEEKDAYS = range(1, 8)


def weekday_name(weekday: int) -> str:
    """The ISO weekday (1 Monday) by name in the reader's language."""
    return get_day_names("wide", locale=get_locale() or "en")[weekday - 1]


def weekday_choices() -> list[tuple[int, str]]:
    return [(day, weekday_name(day)) for day in WEEKDAYS]


def prepare_reservation(session: Session, reservation: RoomReservation) -> None:
    """Check a new or edited reservation before it is written; raises RuleViolation naming the
    field (the other reservation by its therapist, day and hours when it overlaps one)."""
    room, therapist = _room_and_therapist(session, reservation)
    for field, value in (
        ("weekday", reservation.weekday),
        ("starts_time", reservation.starts_time),
        ("ends_time", reservation.ends_time),
        ("valid_from", reservation.valid_from),
    ):
        if value is None:
            raise RuleViolation(_l("%(field)s: a value is required.", field=_label(field)), field=field)
    if reservation.weekday not in WEEKDAYS:
        raise RuleViolation(
            _l("%(field)s: a day from Monday (1) to Sunday (7).", field=_label("weekday")), field="weekday"
        )
    if reservation.ends_time <= reservation.starts_time:
        raise RuleViolation(_l("%(field)s: must be after the start.", field=_label("ends_time")), field="ends_time")
    if reservation.valid_until is not None:
        if reservation.valid_until < reservation.valid_from:
            raise RuleViolation(
                _l("%(field)s: must not be before the first day.", field=_label("valid_until")), field="valid_until"
            )
        if (
            reservation.valid_until == reservation.valid_from
            and reservation.valid_from.isoweekday() != reservation.weekday
        ):
            raise RuleViolation(
                _l(
                    "%(field)s: a reservation for one date is on that date's day (%(day)s).",
                    field=_label("weekday"),
                    day=weekday_name(reservation.valid_from.isoweekday()),
                ),
                field="weekday",
            )
    if not room.active:
        raise RuleViolation(_l("%(field)s: %(room)s is not in use.", field=_label("room"), room=room), field="room")
    if not therapist.active:
        raise RuleViolation(
            _l("%(field)s: %(therapist)s is deactivated.", field=_label("therapist"), therapist=therapist.full_name),
            field="therapist",
        )
    with session.no_autoflush:
        serialize_room(session, room.id)
        other = _overlapping(session, reservation, room.id)
    if other is not None:
        raise RuleViolation(overlap_message(room, *other), field="starts_time")


def serialize_room(session: Session, room_id: int) -> None:
    """Reservations of one room are checked and written one transaction at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": RESERVATION_LOCK_SPACE, "key": room_id}
        )
    else:
        serialize(session, room_id)


def _room_and_therapist(session: Session, reservation: RoomReservation) -> tuple[Room, Therapist]:
    room = reservation.room or (session.get(Room, reservation.room_id) if reservation.room_id else None)
    if room is None:
        raise RuleViolation(_l("%(field)s: a value is required.", field=_label("room")), field="room")
    therapist = reservation.therapist or (
        session.get(Therapist, reservation.therapist_id) if reservation.therapist_id else None
    )
    if therapist is None:
        raise RuleViolation(_l("%(field)s: a value is required.", field=_label("therapist")), field="therapist")
    return room, therapist


def _overlapping(session: Session, reservation: RoomReservation, room_id: int):
    """(therapist name, the other reservation) of one reservation of the room in the way, or None."""
    query = (
        select(Therapist.full_name, RoomReservation)
        .join(Therapist, RoomReservation.therapist_id == Therapist.id)
        .where(
            RoomReservation.room_id == room_id,
            RoomReservation.weekday == reservation.weekday,
            RoomReservation.starts_time < reservation.ends_time,
            RoomReservation.ends_time > reservation.starts_time,
            (RoomReservation.valid_until.is_(None)) | (RoomReservation.valid_until >= reservation.valid_from),
        )
        .order_by(RoomReservation.valid_from, RoomReservation.id)
        .limit(1)
    )
    if reservation.valid_until is not None:
        query = query.where(RoomReservation.valid_from <= reservation.valid_until)
    if reservation.id is not None:
        query = query.where(RoomReservation.id != reservation.id)
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1])


def overlaps(one: RoomReservation, other: RoomReservation) -> bool:
    """The rule of the overlap query, for reservations not yet written (the rows of one import)."""
    far = dt.date.max
    return (
        one.room_id == other.room_id
        and one.weekday == other.weekday
        and one.starts_time < other.ends_time
        and other.starts_time < one.ends_time
        and one.valid_from <= (other.valid_until or far)
        and other.valid_from <= (one.valid_until or far)
    )


def overlap_message(room: Room, therapist_name: str, other: RoomReservation):
    """The refusal of a reservation that overlaps `other`, held by `therapist_name` in `room`."""
    params = {
        "room": str(room),
        "therapist": therapist_name,
        "day": weekday_name(other.weekday),
        "hours": f"{other.starts_time:%H:%M}–{other.ends_time:%H:%M}",
        "start": other.valid_from.isoformat(),
    }
    if other.valid_until is None:
        return _l("Room %(room)s is reserved by %(therapist)s every %(day)s %(hours)s from %(start)s.", **params)
    return _l(
        "Room %(room)s is reserved by %(therapist)s every %(day)s %(hours)s from %(start)s to %(end)s.",
        end=other.valid_until.isoformat(),
        **params,
    )


def release(
    session: Session,
    reservation_id: int,
    *,
    ends_on: dt.date | None = None,
    starts_time: dt.time | None = None,
    ends_time: dt.time | None = None,
    hours_from: dt.date | None = None,
    user,
) -> RoomReservation:
    """The office gives back part of a reservation: it ends on `ends_on` (not before its first day,
    not after its current last one), and/or its hours shrink to `starts_time`–`ends_time` (inside the
    current ones) from `hours_from` (default today) on; giving back nothing (the form as it opened)
    is refused. Past occurrences keep their hours, so the room use already reported never changes:
    when the reservation started before that day, it ends the day before and a new one with the
    shorter hours carries on (to `ends_on` or its old last day). The change is audited (the model is
    Audited: the trail names the signed-in user). The therapist's login, if any, is notified, unless
    `user` (who releases it) is that login. The admin task asking to release part of it (a low use)
    has its answer: it closes now, and the scan leaves the reservation (and the one carrying on)
    alone until the weeks it is judged on all follow this day (`released_on`). Returns the
    reservation in force from then on."""
    reservation = session.get(RoomReservation, reservation_id)
    if reservation is None:
        raise NotFound(_l("This reservation does not exist."), field="id")
    new_start, new_end = starts_time or reservation.starts_time, ends_time or reservation.ends_time
    shorter = (new_start, new_end) != (reservation.starts_time, reservation.ends_time)
    if not shorter and (ends_on is None or ends_on == reservation.valid_until):  # nothing given back
        raise RuleViolation(
            _l("%(field)s: give the last day, or the new hours.", field=_label("valid_until")), field="valid_until"
        )
    last_day = ends_on or reservation.valid_until
    if ends_on is not None:
        _check_last_day(reservation, ends_on)
    _check_hours(reservation, new_start, new_end)
    kept = reservation
    if not shorter:
        reservation.valid_until = ends_on
    else:
        first_day = max(hours_from or clinic_time.today(), reservation.valid_from)
        if last_day is not None and first_day > last_day:
            raise RuleViolation(
                _l(
                    "%(field)s: the new hours start after the reservation's last day (%(end)s).",
                    field=_l("New hours from"),
                    end=last_day.isoformat(),
                ),
                field="hours_from",
            )
        if first_day == reservation.valid_from:
            reservation.starts_time, reservation.ends_time, reservation.valid_until = new_start, new_end, last_day
        else:
            reservation.valid_until = first_day - dt.timedelta(days=1)
            kept = RoomReservation(
                room_id=reservation.room_id,
                therapist_id=reservation.therapist_id,
                weekday=reservation.weekday,
                starts_time=new_start,
                ends_time=new_end,
                valid_from=first_day,
                valid_until=last_day,
                notes=reservation.notes,
            )
            session.add(kept)
    reservation.released_on = kept.released_on = clinic_time.today()
    session.flush()
    scan.close_now(session, TaskKind.RESERVATION_LOW_USE, str(reservation.id))
    login_id = session.scalar(select(Therapist.user_id).where(Therapist.id == reservation.therapist_id))
    if login_id is not None and login_id != getattr(user, "id", None):
        notifications.notify_user(session, login_id, notifications.RESERVATION_RELEASED, reservation_id=kept.id)
    return kept


def _check_last_day(reservation: RoomReservation, ends_on: dt.date) -> None:
    if ends_on < reservation.valid_from:
        raise RuleViolation(
            _l(
                "%(field)s: not before the reservation's first day (%(start)s).",
                field=_label("valid_until"),
                start=reservation.valid_from.isoformat(),
            ),
            field="valid_until",
        )
    if reservation.valid_until is not None and ends_on > reservation.valid_until:
        raise RuleViolation(
            _l(
                "%(field)s: not after the reservation's last day (%(end)s).",
                field=_label("valid_until"),
                end=reservation.valid_until.isoformat(),
            ),
            field="valid_until",
        )


def _check_hours(reservation: RoomReservation, new_start: dt.time, new_end: dt.time) -> None:
    if new_start < reservation.starts_time or new_end > reservation.ends_time:
        raise RuleViolation(
            _l(
                "%(field)s: the new hours are inside the reserved ones (%(hours)s).",
                field=_label("starts_time"),
                hours=f"{reservation.starts_time:%H:%M}–{reservation.ends_time:%H:%M}",
            ),
            field="starts_time",
        )
    if new_end <= new_start:
        raise RuleViolation(_l("%(field)s: must be after the start.", field=_label("ends_time")), field="ends_time")
