"""The demo practice's room reservations: what its therapists hold, against what they use.

Most therapists reserve the weekly slots in which they see clients on site, from the first to the
last week they used them (open-ended while still in use); a fortnightly client leaves the slot empty
one week in two. Every `UNRESERVED_EVERY`th therapist reserves nothing (their on-site hours are
unreserved use). A few therapists also hold long blocks they never use (the weekend first), so room
use shows them far under 30 %: the therapist of the demo's therapist login holds both `IDLE_BLOCKS`,
the next `OVER_RESERVERS` the morning one only, so the least-used reservation (no use, the most hours
reserved) is the login's, and releasing it shows them the office's notification. Reservations never
overlap: each one is checked against those already made, as the booking rule would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AppointmentStatus, Modality, RoomReservation, Therapist
from admin_app.services.platform import clinic_time
from admin_app.services.rooms import reservations

UNRESERVED_EVERY = 6  # every sixth therapist (by id order, whatever the ids) reserves nothing
OVER_RESERVERS = 2  # therapists besides the login's who hold a block they never use
IDLE_BLOCKS = ((dt.time(8, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(18, 0)))
IDLE_DAYS = (6, 7, 1, 2, 3, 4, 5)  # the weekend first: where a room is most often free
STILL_IN_USE = dt.timedelta(days=14)  # a slot used this recently is held open-ended


def load_reservations(
    session: Session, *, first_day: dt.date, today: dt.date, idle_holder_email: str
) -> dict[str, int]:
    """Add the reservations (see the module); the caller commits. Returns their count."""
    slots: dict[tuple, list[dt.date]] = defaultdict(list)
    query = select(Appointment.therapist_id, Appointment.room_id, Appointment.starts_at, Appointment.ends_at).where(
        Appointment.modality == Modality.ON_SITE,
        Appointment.room_id.is_not(None),
        Appointment.status != AppointmentStatus.CANCELLED,
    )
    for therapist_id, room_id, starts_at, ends_at in session.execute(query):
        start, end = clinic_time.to_local(starts_at), clinic_time.to_local(ends_at)
        if end.date() != start.date():
            continue  # a reservation is within one day
        slots[(therapist_id, room_id, start.isoweekday(), start.time(), end.time())].append(start.date())
    therapists = sorted({key[0] for key in slots})
    unreserved = set(therapists[UNRESERVED_EVERY - 1 :: UNRESERVED_EVERY])
    made: list[RoomReservation] = []
    for (therapist_id, room_id, weekday, starts, ends), days in sorted(slots.items()):
        if therapist_id in unreserved:
            continue
        last = max(days)
        until = None if last >= today - STILL_IN_USE else last
        _add(
            made,
            RoomReservation(
                room_id=room_id,
                therapist_id=therapist_id,
                weekday=weekday,
                starts_time=starts,
                ends_time=ends,
                valid_from=min(days),
                valid_until=until,
            ),
        )
    login_holder = session.scalar(select(Therapist.id).where(Therapist.email == idle_holder_email))
    holders = sorted({r.therapist_id for r in made} - {login_holder})[:OVER_RESERVERS]
    for therapist_id, blocks in [(login_holder, IDLE_BLOCKS), *((holder, IDLE_BLOCKS[:1]) for holder in holders)]:
        held = Counter(r.room_id for r in made if r.therapist_id == therapist_id)
        rooms = [room for room, _count in held.most_common()]
        _add_idle_blocks(made, slots, therapist_id, rooms, first_day, blocks)
    session.add_all(made)
    session.flush()
    return {"room reservations": len(made)}


def _add_idle_blocks(made, slots, therapist_id: int, rooms: list[int], first_day: dt.date, idle: tuple) -> None:
    """The `idle` blocks on the first day and room of the therapist's where nobody holds or uses them."""
    for weekday in IDLE_DAYS:
        for room_id in rooms:
            blocks = [
                RoomReservation(
                    room_id=room_id,
                    therapist_id=therapist_id,
                    weekday=weekday,
                    starts_time=starts,
                    ends_time=ends,
                    valid_from=first_day,
                    valid_until=None,
                )
                for starts, ends in idle
            ]
            if all(not _overlaps_any(made, block) and not _used(slots, block) for block in blocks):
                made.extend(blocks)
                return


def _add(made: list[RoomReservation], reservation: RoomReservation) -> None:
    if not _overlaps_any(made, reservation):
        made.append(reservation)


def _overlaps_any(made: list[RoomReservation], new: RoomReservation) -> bool:
    return any(reservations.overlaps(other, new) for other in made)


def _used(slots: dict[tuple, list[dt.date]], block: RoomReservation) -> bool:
    """Someone saw a client in that room on that weekday at those times (an idle block must be idle)."""
    return any(
        room_id == block.room_id and weekday == block.weekday and starts < block.ends_time and block.starts_time < ends
        for (_therapist, room_id, weekday, starts, ends) in slots
    )
