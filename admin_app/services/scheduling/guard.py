"""The database guard: an appointment is written only if nobody would be booked twice at once,
even by a booking being made at this very moment by another request.

Two requests for the same slot can both look before either writes. The databases close that gap
differently:

- PostgreSQL refuses the second write itself (exclusion constraints on tstzrange, migration 0002),
  once the first transaction commits. A new appointment is flushed inside a SAVEPOINT, so the
  loser rolls back only that, looks again, now sees the winner and is refused by name
  (`BOOKING_ATTEMPTS` bounds the loop). An edit refused there loses its transaction; the winner is
  then named from a fresh connection. Clients have no such constraint: for them the check is all,
  and advisory locks (`_hold_booking_locks`) queue the bookings of one therapist, room or client.
- SQLite has no such constraint; there the booking transaction takes the database's write lock
  before it looks (`platform.locking`), so the look and the write are one step for every
  other writer.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, UnboundExecutionError
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AppointmentStatus
from admin_app.services.platform import races
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.locking import hold_sqlite_write_lock
from admin_app.services.scheduling.attendance import CANCELLATIONS
from admin_app.services.scheduling.conflicts import Conflict, find_conflicts

# How often a write beaten by a concurrent booking is checked and tried again.
BOOKING_ATTEMPTS = 3
# Advisory-lock namespaces of bookings: "th", "rm", "cl".
THERAPIST_LOCK_SPACE, ROOM_LOCK_SPACE, CLIENT_LOCK_SPACE = 0x7468, 0x726D, 0x636C


def write_without_clash(session: Session, appointment: Appointment) -> None:
    """Write (flush) a checked appointment unless it clashes; raises RuleViolation (field
    "starts_at") naming the other appointment. A cancelled appointment blocks nothing and is not
    checked. A session bound to no database writes nothing."""
    dialect = dialect_of(session)
    if dialect is None:
        return
    with session.no_autoflush:
        slot = _slot(session, appointment)
    live = appointment.status != AppointmentStatus.CANCELLED
    for _attempt in range(BOOKING_ATTEMPTS):
        if live:
            with session.no_autoflush:
                if dialect == "sqlite":
                    hold_sqlite_write_lock(session)
                elif dialect == "postgresql":
                    _hold_booking_locks(session, slot)
                _refuse_conflicts(session, slot)
        try:
            _flush(session, appointment, savepoint=dialect == "postgresql")
            return
        except DBAPIError as error:
            if not races.slot_taken(error):
                raise
            if not session.is_active:
                # The write was flushed outside the savepoint (see `_flush`), so the whole
                # transaction is lost: name the winner from a connection of its own.
                raise _refusal_from_fresh_look(session, slot) from None
    raise RuleViolation(races.TAKEN_MEANWHILE, field="starts_at")


def _flush(session: Session, appointment: Appointment, *, savepoint: bool) -> None:
    """Write the appointment now, so the database judges the slot here and not at commit.

    `begin_nested` first flushes whatever is pending, outside the savepoint; a new appointment
    already added by the caller (the create screen adds before its hook runs) is therefore taken
    out of the session and put back inside the savepoint, with its participants. An edited
    appointment cannot be taken out without losing its other changes (a participant removed on
    the form), so it is flushed as it is; if the database refuses it, the transaction is lost
    and the caller rolls back.
    """
    state = inspect(appointment)
    if not savepoint or state.persistent:
        session.add(appointment)
        session.flush()
        return
    if state.pending:
        session.expunge(appointment)
    with session.begin_nested():
        session.add(appointment)
        session.flush()


def _hold_booking_locks(session: Session, slot: dict) -> None:
    """Queue concurrent bookings of one therapist, room or client on PostgreSQL.

    The exclusion constraints alone would let every concurrent booking of a slot look, find
    it free and insert; the losers then wait on each other's uncommitted rows, may deadlock,
    and can run out of retries without ever seeing the winner. A client booked with two
    therapists at once is not visible to any constraint at all. Transaction-scoped advisory
    locks, taken before the check, make the second booking wait for the first to commit and
    then see it. All locks are taken in one global order, so two bookings never wait on each
    other; the constraints stay as the guard for any write that does not come through here.
    """
    keys = [(THERAPIST_LOCK_SPACE, slot["therapist_id"])]
    if slot["room_id"] is not None:
        keys.append((ROOM_LOCK_SPACE, slot["room_id"]))
    keys += [(CLIENT_LOCK_SPACE, client_id) for client_id in slot["client_ids"]]
    for space, key in sorted(k for k in keys if k[1] is not None):
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key})


def hold_therapist_locks(session: Session, therapist_ids: list[int]) -> None:
    """The booking lock of each of these therapists (same keys, same global order as a booking),
    in one statement: a bulk writer (the import) makes bookings meanwhile queue behind it."""
    if not therapist_ids or dialect_of(session) != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, key) FROM unnest(CAST(:keys AS integer[])) AS k(key) ORDER BY key"),
        {"space": THERAPIST_LOCK_SPACE, "keys": sorted(therapist_ids)},
    )


def _refuse_conflicts(session: Session, slot: dict) -> None:
    conflicts = find_conflicts(session, **slot)
    if conflicts:
        raise _refusal(conflicts[0])


def _refusal_from_fresh_look(session: Session, slot: dict) -> RuleViolation:
    with Session(bind=session.get_bind()) as fresh:
        conflicts = find_conflicts(fresh, **slot)
    return _refusal(conflicts[0]) if conflicts else RuleViolation(races.TAKEN_MEANWHILE, field="starts_at")


def _refusal(conflict: Conflict) -> RuleViolation:
    return RuleViolation(conflict.message, field="starts_at", discreet=conflict.discreet_message)


def _slot(session: Session, appointment: Appointment) -> dict:
    """What `find_conflicts` needs, as the appointment will be once flushed."""
    client_ids = {
        future_id(p, "client", "client_id")
        for p in appointment.participants
        if p not in session.deleted and p.attendance not in CANCELLATIONS
    }
    return {
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "therapist_id": future_id(appointment, "therapist", "therapist_id"),
        "room_id": future_id(appointment, "room", "room_id"),
        "client_ids": tuple(sorted(i for i in client_ids if i is not None)),
        "exclude_appointment_id": appointment.id,
    }


def future_id(record, relation: str, column: str) -> int | None:
    """A foreign key as the flush will write it: a relationship set since loading wins."""
    if inspect(record).attrs[relation].history.has_changes():
        related = getattr(record, relation)
        return related.id if related is not None else None
    return getattr(record, column)


def dialect_of(session: Session) -> str | None:
    """The database's dialect name; None for a session bound to no database (rules on records alone)."""
    try:
        return session.get_bind().dialect.name
    except UnboundExecutionError:
        return None
