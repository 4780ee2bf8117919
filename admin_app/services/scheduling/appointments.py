"""Rules of the appointment book.

`prepare_appointment` is the one function every write path (screens, series, attendance,
import, CLI) calls before an appointment is saved: it fills defaults, checks the rules and,
since nobody may be booked twice at once, writes the appointment itself (a flush; the caller
still commits or rolls back).

Nobody twice at once: a therapist, a room or a client (one whose attendance is not cancelled)
in two live appointments whose times overlap is refused, with a message naming the other
appointment. Times are half-open, [start, end): back-to-back is allowed; cancelled appointments
block nothing.

Two requests for the same slot can both look before either writes. The databases close that gap
differently:

- PostgreSQL refuses the second write itself (exclusion constraints on tstzrange, migration 0002),
  once the first transaction commits. A new appointment is flushed inside a SAVEPOINT, so the
  loser rolls back only that, looks again, now sees the winner and is refused by name
  (`BOOKING_ATTEMPTS` bounds the loop). An edit refused there loses its transaction; the winner is
  then named from a fresh connection. Clients have no such constraint: for them the check is all.
- SQLite has no such constraint; there the booking transaction takes the database's write lock
  before it looks (`services.locking`), so the look and the write are one step for every
  other writer.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, inspect, literal, null, select, text, union_all
from sqlalchemy.exc import DBAPIError, UnboundExecutionError
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    BilledTo,
    Client,
    Modality,
    Participant,
    Room,
    Site,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.platform import bounds
from admin_app.services.platform.clinic_time import clinic_zone, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.platform.locking import hold_sqlite_write_lock
from admin_app.services.platform.money import check_currency, shared_fees
from admin_app.services.scheduling.booking import session_kind

# How often a write beaten by a concurrent booking is checked and tried again.
BOOKING_ATTEMPTS = 3
# PostgreSQL errors that mean "another transaction got there first": the overlap guard
# (exclusion violation), a serialization failure and a deadlock.
_LOST_RACE_SQLSTATES = {"23P01", "40001", "40P01"}
_ABSENT = (Attendance.CANCELLED, Attendance.LATE_CANCELLED)
TAKEN_MEANWHILE = _l(
    "This time was booked by someone else a moment ago; nothing was saved. Check the appointment book and try again."
)


class ConflictKind(enum.StrEnum):
    THERAPIST = "therapist"
    ROOM = "room"
    CLIENT = "client"


_KIND_ORDER = {ConflictKind.THERAPIST: 0, ConflictKind.ROOM: 1, ConflictKind.CLIENT: 2}


@dataclass(frozen=True)
class Conflict:
    """Another live appointment in the way: who or what is double-booked, and that appointment.

    `starts_at`/`ends_at` are clinic-local; `room_name` is "Site · Room" when it has a room;
    `client_name` is the client booked twice (client conflicts only).
    """

    kind: ConflictKind
    appointment_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    therapist_name: str
    room_name: str | None = None
    client_name: str | None = None

    @property
    def when(self) -> str:
        end_format = "%H:%M" if self.ends_at.date() == self.starts_at.date() else "%Y-%m-%d %H:%M"
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at.strftime(end_format)}"

    @property
    def message(self):
        if self.kind == ConflictKind.CLIENT:
            return _l(
                "%(client)s already has an appointment on %(when)s with %(therapist)s.",
                client=self.client_name,
                when=self.when,
                therapist=self.therapist_name,
            )
        if self.kind == ConflictKind.ROOM:
            return _l(
                "Clashes with %(therapist)s's appointment on %(when)s in room %(room)s.",
                therapist=self.therapist_name,
                when=self.when,
                room=self.room_name,
            )
        return _l(
            "Clashes with %(therapist)s's appointment on %(when)s (same therapist).",
            therapist=self.therapist_name,
            when=self.when,
        )


def find_conflicts(
    session: Session,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    therapist_id: int | None,
    room_id: int | None = None,
    client_ids: Iterable[int] = (),
    exclude_appointment_id: int | None = None,
) -> list[Conflict]:
    """The live appointments that [starts_at, ends_at) would clash with, in one query.

    Live: not cancelled; for a client, only where their attendance is not cancelled or
    late-cancelled. Sorted by start, then therapist, room, client. One appointment can appear
    once per kind (and once per client booked twice).
    """
    client_ids = sorted({int(client_id) for client_id in client_ids if client_id is not None})
    overlapping = [
        Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at < ends_at,
        Appointment.ends_at > starts_at,
    ]
    if exclude_appointment_id is not None:
        overlapping.append(Appointment.id != exclude_appointment_id)

    def clashing(kind: ConflictKind, client_name, *conditions):
        return (
            select(
                literal(kind.value).label("kind"),
                Appointment.id.label("appointment_id"),
                Appointment.starts_at.label("starts_at"),
                Appointment.ends_at.label("ends_at"),
                Therapist.full_name.label("therapist_name"),
                Site.name.label("site_name"),
                Room.name.label("room_name"),
                client_name.label("client_name"),
            )
            .select_from(Appointment)
            .join(Therapist, Therapist.id == Appointment.therapist_id)
            .outerjoin(Room, Room.id == Appointment.room_id)
            .outerjoin(Site, Site.id == Room.site_id)
            .where(*overlapping, *conditions)
        )

    no_client = cast(null(), String)
    parts = []
    if therapist_id is not None:
        parts.append(clashing(ConflictKind.THERAPIST, no_client, Appointment.therapist_id == therapist_id))
    if room_id is not None:
        parts.append(clashing(ConflictKind.ROOM, no_client, Appointment.room_id == room_id))
    if client_ids:
        parts.append(
            clashing(
                ConflictKind.CLIENT,
                Client.full_name,
                Participant.client_id.in_(client_ids),
                Participant.attendance.not_in(_ABSENT),
            )
            .join(Participant, Participant.appointment_id == Appointment.id)
            .join(Client, Client.id == Participant.client_id)
        )
    if not parts:
        return []
    rows = session.execute(parts[0] if len(parts) == 1 else union_all(*parts)).all()
    zone = clinic_zone()
    conflicts = []
    for row in rows:
        kind = ConflictKind(row.kind)
        conflicts.append(
            Conflict(
                kind=kind,
                appointment_id=row.appointment_id,
                starts_at=to_local(row.starts_at, zone),
                ends_at=to_local(row.ends_at, zone),
                therapist_name=row.therapist_name,
                room_name=f"{row.site_name} · {row.room_name}" if row.room_name is not None else None,
                client_name=row.client_name,
            )
        )
    return sorted(conflicts, key=lambda c: (c.starts_at, _KIND_ORDER[c.kind], c.client_name or ""))


def default_end(starts_at: dt.datetime) -> dt.datetime:
    return starts_at + dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])


def default_attendance(starts_at: dt.datetime, now: dt.datetime | None = None) -> Attendance:
    """A past appointment entered after the fact was attended unless said otherwise."""
    now = now or utcnow()
    return Attendance.ATTENDED if starts_at < now else Attendance.EXPECTED


def prepare_appointment(session: Session, appointment: Appointment) -> Appointment:
    """Fill defaults, check an appointment and write it (flush); raises RuleViolation.

    The hook every write path already calls (the screens' `prepare`, series, attendance); see
    `save_appointment` for what writing it involves.
    """
    return save_appointment(session, appointment=appointment)


def save_appointment(session: Session, *, appointment: Appointment) -> Appointment:
    """Check an appointment and add it to the session, flushed; the caller commits.

    Refuses (RuleViolation, field "starts_at") a therapist, room or client booked twice at
    once, naming the other appointment, even when that one is being booked at this very moment
    by another request: see the module's docstring. A cancelled appointment blocks nothing and
    is not checked. A RuleViolation leaves the caller's transaction usable, except when the
    database had to refuse an edit of an existing appointment: then the caller must roll back, as
    every caller does on a RuleViolation.

    A session bound to no database (the rules checked on records alone) has no other
    appointments to clash with: the defaults and rules apply, nothing is written.
    """
    with session.no_autoflush:  # nothing reaches the database before the checks are done
        _apply_rules(session, appointment)
    _write_without_clash(session, appointment)
    return appointment


def _apply_rules(session: Session, appointment: Appointment) -> None:
    if appointment.starts_at is None:
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("starts_at")),
            field="starts_at",
        )
    if appointment.ends_at is None:
        appointment.ends_at = default_end(appointment.starts_at)
    if appointment.ends_at <= appointment.starts_at:
        raise RuleViolation(
            _l("%(field)s: the end must be after the start", field=field_label("ends_at")),
            field="ends_at",
        )
    times = inspect(appointment).attrs
    if times.starts_at.history.has_changes() or times.ends_at.history.has_changes():
        # Only a time being entered or moved: an old appointment's other changes stay possible.
        bounds.refuse(bounds.appointment_start_problem(appointment.starts_at), "starts_at")
        bounds.refuse(bounds.duration_problem(appointment.starts_at, appointment.ends_at), "ends_at")
    if appointment.therapist is None and appointment.therapist_id is None:
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("therapist")),
            field="therapist",
        )
    if appointment.modality == Modality.ON_SITE and appointment.room is None and appointment.room_id is None:
        raise RuleViolation(
            _l("%(field)s: an on-site appointment needs a room", field=field_label("room")),
            field="room",
        )
    if appointment.modality == Modality.VIRTUAL:
        appointment.room = None
    _check_no_charge_removed(session, appointment)
    staying = [p for p in appointment.participants if p not in session.deleted]
    _share_the_session(session, appointment, staying)
    for participant in staying:
        prepare_participant(participant, appointment)
    _sync_status(appointment, staying)


def _write_without_clash(session: Session, appointment: Appointment) -> None:
    dialect = _dialect(session)
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
            if _sqlstate(error) not in _LOST_RACE_SQLSTATES:
                raise
            if not session.is_active:
                # The write was flushed outside the savepoint (see `_flush`), so the whole
                # transaction is lost: name the winner from a connection of its own.
                raise _refusal_from_fresh_look(session, slot) from None
    raise RuleViolation(TAKEN_MEANWHILE, field="starts_at")


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


# Advisory-lock namespaces of bookings: "th", "rm", "cl".
THERAPIST_LOCK_SPACE, ROOM_LOCK_SPACE, CLIENT_LOCK_SPACE = 0x7468, 0x726D, 0x636C


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


def _refuse_conflicts(session: Session, slot: dict) -> None:
    conflicts = find_conflicts(session, **slot)
    if conflicts:
        raise RuleViolation(conflicts[0].message, field="starts_at")


def _refusal_from_fresh_look(session: Session, slot: dict) -> RuleViolation:
    with Session(bind=session.get_bind()) as fresh:
        conflicts = find_conflicts(fresh, **slot)
    return RuleViolation(conflicts[0].message if conflicts else TAKEN_MEANWHILE, field="starts_at")


def overlap_refusal(error: DBAPIError) -> RuleViolation | None:
    """The RuleViolation a database error stands for, when it is the overlap guard's refusal.

    For screens that meet the guard at commit (a write that did not go through
    `save_appointment`): the other appointment cannot be named there, but the cause can.
    """
    if _sqlstate(error) in _LOST_RACE_SQLSTATES:
        return RuleViolation(TAKEN_MEANWHILE, field="starts_at")
    return None


def _slot(session: Session, appointment: Appointment) -> dict:
    """What `find_conflicts` needs, as the appointment will be once flushed."""
    client_ids = {
        _future_id(p, "client", "client_id")
        for p in appointment.participants
        if p not in session.deleted and p.attendance not in _ABSENT
    }
    return {
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "therapist_id": _future_id(appointment, "therapist", "therapist_id"),
        "room_id": _future_id(appointment, "room", "room_id"),
        "client_ids": tuple(sorted(i for i in client_ids if i is not None)),
        "exclude_appointment_id": appointment.id,
    }


def _future_id(record, relation: str, column: str) -> int | None:
    """A foreign key as the flush will write it: a relationship set since loading wins."""
    if inspect(record).attrs[relation].history.has_changes():
        related = getattr(record, relation)
        return related.id if related is not None else None
    return getattr(record, column)


def _dialect(session: Session) -> str | None:
    try:
        return session.get_bind().dialect.name
    except UnboundExecutionError:
        return None


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def _check_no_charge_removed(session: Session, appointment: Appointment) -> None:
    """A participant with a fee is part of the books: cancel their attendance, never remove them."""
    for removed in session.deleted:
        if isinstance(removed, Participant) and removed.appointment_id == appointment.id and removed.fee:
            raise RuleViolation(
                _l(
                    "%(name)s cannot be removed from this appointment: their fee belongs to the books. "
                    "Set their attendance to “Cancelled” instead.",
                    name=removed.client.full_name,
                ),
                field="participants",
            )


def _share_the_session(session: Session, appointment: Appointment, participants: list[Participant]) -> None:
    """The clients of a new appointment share one fee, and their links say what kind of session it is.

    On a new appointment, a fee left empty is that participant's share of the therapist's fee
    (`money.shared_fees`: the whole fee for one client; the odd cent to the first), and a kind still
    "individual" (the form's default) with several clients becomes the kind their links give
    (`booking.session_kind`: couple, family or group); a couple, family or group chosen by the staff,
    and a fee typed, are kept as they are. A session bound to no database has no links to read: the
    kind is left as it is.

    A client added to an existing appointment without a fee pays the therapist's whole fee, and the
    kind stays: the fees already saved are never changed behind the staff's back, so no split of
    one fee could hold there.
    """
    state = inspect(appointment)
    new = state.transient or state.pending
    therapist = appointment.therapist
    if therapist is not None and therapist.default_fee is not None:
        fees = (
            shared_fees(therapist.default_fee, therapist.default_currency, len(participants))
            if new
            else [therapist.default_fee] * len(participants)
        )
        for participant, fee in zip(participants, fees, strict=True):
            if participant.fee is None:
                participant.fee = fee
    if new and len(participants) > 1 and appointment.kind in (None, AppointmentKind.INDIVIDUAL) and _dialect(session):
        client_ids = [_future_id(p, "client", "client_id") for p in participants]
        appointment.kind = session_kind(session, client_ids=[i for i in client_ids if i is not None])


def prepare_participant(participant: Participant, appointment: Appointment) -> Participant:
    therapist = appointment.therapist
    if participant.client is None and participant.client_id is None:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("client")), field="client")
    if not participant.currency and therapist is not None:
        participant.currency = therapist.default_currency
    if participant.fee is None:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("fee")), field="fee")
    bounds.refuse(bounds.amount_problem(participant.fee), "fee")
    participant.currency = check_currency(participant.currency, field="currency")
    if participant.attendance is None:
        participant.attendance = default_attendance(appointment.starts_at)
    if participant.billed_to is None:
        participant.billed_to = BilledTo.PAYER if participant.payer is not None else BilledTo.CLIENT
    if participant.billed_to == BilledTo.PAYER and participant.payer is None and participant.payer_id is None:
        raise RuleViolation(
            _l(
                "%(field)s: choose the payer this participant is billed to",
                field=field_label("payer"),
            ),
            field="payer",
        )
    return participant


def _sync_status(appointment: Appointment, participants: list[Participant]) -> None:
    """The appointment's status follows its participants' attendance.

    Cancelling the appointment itself cancels the participants still expected.
    """
    if appointment.status == AppointmentStatus.CANCELLED:
        for participant in participants:
            if participant.attendance == Attendance.EXPECTED:
                participant.attendance = Attendance.CANCELLED
    if participants:
        appointment.status = appointment_status(p.attendance for p in participants)


def appointment_status(attendances: Iterable[Attendance]) -> AppointmentStatus:
    """What an appointment's participants make of it: held once anyone attended or failed to
    come, cancelled when everyone cancelled, else still scheduled. For bulk writers (import,
    demo) that set the status without loading the records."""
    found = set(attendances)
    if found & {Attendance.ATTENDED, Attendance.NO_SHOW}:
        return AppointmentStatus.HELD
    if found and found <= set(_ABSENT):
        return AppointmentStatus.CANCELLED
    return AppointmentStatus.SCHEDULED
