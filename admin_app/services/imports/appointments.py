"""Appointments from a spreadsheet: one individual session per row, checked like a booking.

A row is keyed by therapist and start (the natural key): a row whose therapist already has an
appointment starting then updates it when a value differs, and leaves it alone otherwise, so the
same file imported twice writes nothing the second time.

Decisions the issue left open:

- Duration: `end` (a date and time, or a time alone for the start's day) or `duration_minutes`;
  when both are given they must agree. Both empty: `DEFAULT_APPOINTMENT_MINUTES` for a new
  appointment, the end it has for an existing one.
- Modality and status empty: virtual, and attended for a past start or scheduled for a future
  one (as the booking screen does) for a new appointment; an existing one keeps what it has,
  so a re-import never undoes what staff recorded in the appointment book since.
- An on-site row gets no room (the file names none); staff pick one in the appointment book.
- Status sets the participant's attendance and the appointment's status follows it as in
  `scheduling._sync_status` (one participant: attended or no-show = held, cancelled or
  late-cancelled = cancelled, scheduled = scheduled). A row cancelled by the file records the
  client as the one who cancelled, with the reason "Imported from a spreadsheet"; a participant
  already cancelled keeps who cancelled and why.
- Participants are billed to the client (the booking screen's default); staff set a payer.
- Fee and currency are required: a session's price is what the spreadsheet says, never guessed.
- The row's own natural-key match is not a clash; two rows with the same therapist and start
  are a duplicate (the later row is in error), cancelled or not.

Overlaps are checked against the database as the import would leave it: an appointment the file
updates (say, cancels or shortens) is judged by its new values. The whole file costs a handful of
queries (therapists by email, clients by national ID, the appointments of those therapists and
clients in the file's time span, and those of the rooms an updated appointment keeps), never one
per row.

Concurrency: `plan` takes SQLite's write lock, and on PostgreSQL the booking locks of the file's
therapists (`scheduling._hold_booking_locks`'s keys), so bookings made meanwhile queue behind the
import when plan and apply share one transaction. Clients are not locked (a large file has tens of
thousands, more than PostgreSQL's lock table holds); PostgreSQL's exclusion constraints still guard
therapists and rooms, and a clash met there is reported as a RuleViolation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    AuditAction,
    AuditEvent,
    BilledTo,
    CancelledBy,
    Client,
    Modality,
    Participant,
    Room,
    Site,
    Therapist,
)
from admin_app.models.audit import current_actor
from admin_app.models.base import utcnow
from admin_app.services import scheduling
from admin_app.services.clinic_time import clinic_zone, from_local, to_local
from admin_app.services.errors import RuleViolation
from admin_app.services.imports import values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import report_missing_columns
from admin_app.services.locking import hold_sqlite_write_lock

KIND = "appointments"

COLUMNS: dict[str, tuple[str, ...]] = {
    "client_national_id": ("dni",),
    "therapist_email": ("correo_terapeuta",),
    "start": ("inicio",),
    "duration_minutes": ("duracion",),
    "end": ("fin",),
    "modality": ("modalidad",),
    "fee": ("tarifa",),
    "currency": ("moneda",),
    "status": ("estado",),
}
REQUIRED = ("client_national_id", "therapist_email", "start", "fee", "currency")

MODALITIES = {
    "virtual": Modality.VIRTUAL,
    "online": Modality.VIRTUAL,
    "on-site": Modality.ON_SITE,
    "on_site": Modality.ON_SITE,
    "on site": Modality.ON_SITE,
    "presencial": Modality.ON_SITE,
}
STATUSES = {
    "attended": Attendance.ATTENDED,
    "completed": Attendance.ATTENDED,
    "atendida": Attendance.ATTENDED,
    "cancelled": Attendance.CANCELLED,
    "canceled": Attendance.CANCELLED,
    "cancelada": Attendance.CANCELLED,
    "late-cancelled": Attendance.LATE_CANCELLED,
    "late_cancelled": Attendance.LATE_CANCELLED,
    "late cancelled": Attendance.LATE_CANCELLED,
    "no-show": Attendance.NO_SHOW,
    "no_show": Attendance.NO_SHOW,
    "no show": Attendance.NO_SHOW,
    "no asistio": Attendance.NO_SHOW,
    "no asistió": Attendance.NO_SHOW,
    "scheduled": Attendance.EXPECTED,
    "programada": Attendance.EXPECTED,
}
IMPORTED_REASON = _l("Imported from a spreadsheet")
TIME_FORMATS = ("%H:%M", "%H:%M:%S")
# Ids per IN (...) list: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
CHUNK = 10_000
_ABSENT = (Attendance.CANCELLED, Attendance.LATE_CANCELLED)


@dataclasses.dataclass
class _Seat:
    """A participant as the database holds it."""

    id: int
    client_id: int
    client_name: str
    attendance: Attendance
    fee: Decimal
    currency: str
    cancelled_by: CancelledBy | None
    cancellation_reason: str | None


@dataclasses.dataclass
class _Booked:
    """An appointment as the database holds it (participants: all of them, or, for one found
    through a client, that client's)."""

    id: int
    therapist_id: int
    therapist_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: AppointmentStatus
    modality: Modality
    room_id: int | None
    room_name: str | None
    seats: list[_Seat] = dataclasses.field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.status != AppointmentStatus.CANCELLED


@dataclasses.dataclass
class _Line:
    """A row as read: what is known of it (None where the cell was wrong or left empty)."""

    row: int
    therapist_id: int | None = None
    therapist_name: str = ""
    client_id: int | None = None
    client_name: str = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    minutes: int | None = None
    modality: Modality | None = None
    fee: Decimal | None = None
    currency: str | None = None
    attendance: Attendance | None = None
    end_given: bool = False  # an end or a duration was written (even if wrong)
    existing: _Booked | None = None

    @property
    def live(self) -> bool:
        return self.attendance not in _ABSENT


@dataclasses.dataclass(frozen=True)
class _NewAppointment:
    """The rows to insert (the participant's appointment id is known once inserted)."""

    appointment: dict
    participant: dict


@dataclasses.dataclass(frozen=True)
class _Edit:
    """Changed values by primary key; empty dicts when that record is unchanged. `claims`: the
    appointment takes time it did not hold (revived, or ending later)."""

    appointment_id: int
    appointment: dict
    participant_id: int
    participant: dict
    claims: bool = False


def plan(session: Session, table: Table) -> ImportPlan:
    """Check every row against the file and the database; nothing is written.

    Takes the locks the module's docstring describes, held until the caller's transaction ends:
    a dry run rolls back at once, an import applies the plan in the same transaction.
    """
    result = ImportPlan(kind=KIND)
    if report_missing_columns(result, table, REQUIRED, COLUMNS):
        return result
    hold_sqlite_write_lock(session)
    column = {name: table.headers.get(name, name) for name in COLUMNS}
    therapists = _therapists_by_email(session, _cells(table.rows, "therapist_email", _email_key))
    clients = _clients_by_national_id(session, _cells(table.rows, "client_national_id", str.upper))
    _hold_therapist_locks(session, [therapist.id for therapist in therapists.values()])
    parsers = _cell_parsers()
    lines = [_read_row(row, therapists, clients, column, result, parsers) for row in table.rows]
    booked = _load_booked(session, lines)
    _match_existing(lines, booked, column, result)
    _fill_defaults(lines, now=utcnow())
    rooms = {line.existing.room_id for line in lines if _keeps_room(line)}
    if rooms:
        _load_room_mates(session, booked, rooms, lines)
    _check_overlaps(lines, booked, column, result)
    if not result.errors:
        reason = str(IMPORTED_REASON)  # stored text, in the language of whoever imports
        for line in lines:
            action, change = _planned(line, reason)
            result.actions.append(action)
            if change is not None:
                result.changes.append(change)
    result.errors.sort(key=lambda error: error.row)
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    """Write a checked plan in the caller's transaction (bulk statements, audited); no commit.

    The audit trail's listener sees only ORM flushes, so the CREATE and UPDATE events of these
    bulk statements are written here, in bulk too, with field names only as the listener does.
    A clash the database refuses (a booking that slipped in on PostgreSQL) is a RuleViolation;
    the transaction is then lost and the caller rolls back.
    """
    if plan.errors:
        raise ValueError("an import plan with errors cannot be applied")
    created = [change for change in plan.changes if isinstance(change, _NewAppointment)]
    edited = [change for change in plan.changes if isinstance(change, _Edit)]
    try:
        # Time given up first, then taken: PostgreSQL checks the overlap guards row by row, and
        # every state on the way is then within the book before or after the import.
        _update(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if not e.claims])
        new_ids = _insert_new(session, created)
        _update(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if e.claims])
        _update(session, Participant, [(e.participant_id, e.participant) for e in edited])
    except DBAPIError as error:
        refusal = scheduling.overlap_refusal(error)
        if refusal is None:
            raise
        raise refusal from None
    actor_id, actor = current_actor()
    stamp = {"occurred_at": utcnow(), "actor_user_id": actor_id, "actor": actor}
    _record_creations(session, stamp, Appointment.__tablename__, [ids[0] for ids in new_ids])
    _record_creations(session, stamp, Participant.__tablename__, [ids[1] for ids in new_ids])
    updates = [
        {**stamp, "action": AuditAction.UPDATE, "entity": entity, "entity_id": id_, "changed_fields": list(changed)}
        for e in edited
        for entity, id_, changed in (
            (Appointment.__tablename__, e.appointment_id, e.appointment),
            (Participant.__tablename__, e.participant_id, e.participant),
        )
        if changed
    ]
    if updates:
        session.execute(insert(AuditEvent.__table__), updates)


def _record_creations(session: Session, stamp: dict, entity: str, ids: list[int]) -> None:
    """One CREATE event per new record, as the listener writes them (no fields).

    On PostgreSQL one INSERT ... SELECT over the array of ids, since the events differ only by
    id: a fraction of the time of a hundred thousand single-row INSERTs.
    """
    if not ids:
        return
    if session.get_bind().dialect.name != "postgresql":
        event = {**stamp, "action": AuditAction.CREATE, "entity": entity, "changed_fields": []}
        session.execute(insert(AuditEvent.__table__), [{**event, "entity_id": id_} for id_ in ids])
        return
    session.execute(
        text(
            "INSERT INTO audit_event (occurred_at, actor_user_id, actor, action, entity, entity_id, changed_fields) "
            "SELECT CAST(:occurred_at AS timestamptz), CAST(:actor_user_id AS integer), CAST(:actor AS varchar), "
            "CAST(:action AS varchar), CAST(:entity AS varchar), id, CAST('[]' AS json) "
            "FROM unnest(CAST(:ids AS integer[])) AS id"
        ),
        {**stamp, "action": AuditAction.CREATE.value, "entity": entity, "ids": ids},
    )


def _update(session: Session, model, changes: list[tuple[int, dict]]) -> None:
    """ORM bulk UPDATE by primary key; rows changing the same columns side by side, since each
    run of them is one executemany."""
    rows = sorted(({"id": id_, **changed} for id_, changed in changes if changed), key=lambda row: sorted(row))
    if rows:
        session.execute(update(model), rows)


def _insert_new(session: Session, created: list[_NewAppointment]) -> list[tuple[int, int]]:
    """Appointments, then their participants; (appointment id, participant id) per new row.

    Plain executemany INSERTs (SQLite's own; a pipeline of one short statement per row with
    psycopg), each followed by one query reading the new ids back: measured on PostgreSQL, that is
    faster than INSERT ... RETURNING batches, whose long statements the driver parses anew every
    time. New ids are above the highest id seen before inserting; among those, a therapist and
    start belong to one new row (any appointment already there would have been the row's match,
    and the file's therapists are locked against concurrent bookings).
    """
    if not created:
        return []
    highest = session.scalar(select(func.max(Appointment.id))) or 0
    session.execute(insert(Appointment.__table__), [change.appointment for change in created])
    new_ids = {
        (therapist_id, starts_at): id_
        for id_, therapist_id, starts_at in session.execute(
            select(Appointment.id, Appointment.therapist_id, Appointment.starts_at).where(Appointment.id > highest)
        )
    }
    appointment_ids = [
        new_ids[(change.appointment["therapist_id"], change.appointment["starts_at"])] for change in created
    ]
    session.execute(
        insert(Participant.__table__),
        [
            {**change.participant, "appointment_id": appointment_id}
            for change, appointment_id in zip(created, appointment_ids, strict=True)
        ],
    )
    participant_ids = dict(
        session.execute(
            select(Participant.appointment_id, Participant.id).where(Participant.appointment_id > highest)
        ).all()
    )
    return [(appointment_id, participant_ids[appointment_id]) for appointment_id in appointment_ids]


# Reading the rows


def _email_key(value: str) -> str:
    try:
        return values.email(value) or ""
    except values.CellError:
        return ""


def _cells(rows: list[Row], name: str, key) -> set[str]:
    """The distinct values of a column, as `key` normalises them (each written value once)."""
    return {key(value) for value in {row.values.get(name, "") for row in rows}} - {""}


def _cell_parsers() -> dict:
    """A parser per column, each remembering its answers for one file: an export repeats the
    same emails, times, fees and words on thousands of rows, and parsing a date is not free."""
    cache = functools.lru_cache(maxsize=None)
    return {
        "client_national_id": values.required,
        "therapist_email": cache(lambda value: values.email(value, is_required=True)),
        "start": cache(values.local_datetime),
        "duration_minutes": cache(lambda value: values.whole_number(value) if value else None),
        "end": cache(_end),
        "modality": cache(lambda value: values.choice(value, MODALITIES) if value else None),
        "fee": cache(values.amount),
        "currency": cache(values.currency),
        "status": cache(lambda value: values.choice(_nfc(value), STATUSES) if value else None),
    }


def _read_row(row: Row, therapists: dict, clients: dict, column: dict, result: ImportPlan, parsers: dict) -> _Line:
    line = _Line(row=row.number)

    def check(name: str, *more):
        try:
            return parsers[name](row.values.get(name, ""), *more)
        except values.CellError as error:
            fail(name, error.reason)
            return None

    def fail(name: str, reason) -> None:
        result.error(row.number, column[name], reason)

    national_id = check("client_national_id")
    if national_id is not None:
        client = clients.get(national_id.upper())
        if client is None:
            fail("client_national_id", _l("no client has the national ID %(value)s", value=national_id))
        else:
            line.client_id, line.client_name = client.id, client.full_name
    email = check("therapist_email")
    if email is not None:
        therapist = therapists.get(email)
        if therapist is None:
            fail("therapist_email", _l("no therapist has the email %(value)s", value=email))
        else:
            line.therapist_id, line.therapist_name = therapist.id, therapist.full_name
    line.starts_at = check("start")
    line.minutes = check("duration_minutes")
    ends_at = check("end", line.starts_at)
    if line.starts_at is not None and ends_at is not None:
        if ends_at <= line.starts_at:
            fail("end", _l("the end must be after the start"))
        elif line.minutes is not None and ends_at - line.starts_at != dt.timedelta(minutes=line.minutes):
            fail(
                "end",
                _l(
                    "%(end)s does not match the duration of %(minutes)d minutes",
                    end=row.values.get("end", ""),
                    minutes=line.minutes,
                ),
            )
        else:
            line.ends_at = ends_at
    elif line.starts_at is not None and line.minutes is not None:
        line.ends_at = line.starts_at + dt.timedelta(minutes=line.minutes)
    line.end_given = bool(row.values.get("end") or row.values.get("duration_minutes"))
    line.modality = check("modality")
    line.fee = check("fee")
    line.currency = check("currency")
    line.attendance = check("status")
    return line


def _nfc(value: str) -> str:
    """`asistió` typed with a combining accent is the same word."""
    return unicodedata.normalize("NFC", value)


def _end(value: str, starts_at: dt.datetime | None) -> dt.datetime | None:
    """A date and time, or a time alone meaning the local day of the start."""
    if not value:
        return None
    for pattern in TIME_FORMATS:
        try:
            clock = dt.datetime.strptime(value, pattern).time()
        except ValueError:
            continue
        if starts_at is None:
            return None  # the start's own error says what is wrong
        try:
            return from_local(dt.datetime.combine(to_local(starts_at).date(), clock))
        except RuleViolation as error:
            raise values.CellError(error.message) from None
    return values.local_datetime(value)


# The database, in a handful of queries


def _chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    items = sorted(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _therapists_by_email(session: Session, emails: set[str]) -> dict:
    found = {}
    for chunk in _chunks(emails):
        query = select(Therapist.id, Therapist.full_name, Therapist.email).where(Therapist.email.in_(chunk))
        found.update((therapist.email, therapist) for therapist in session.execute(query))
    return found


def _clients_by_national_id(session: Session, national_ids: set[str]) -> dict:
    found = {}
    for chunk in _chunks(national_ids):
        query = select(Client.id, Client.full_name, Client.national_id).where(Client.national_id.in_(chunk))
        found.update((client.national_id.upper(), client) for client in session.execute(query))
    return found


def _hold_therapist_locks(session: Session, therapist_ids: list[int]) -> None:
    """The booking screen's lock of each therapist (same keys, same global order), in one statement."""
    if not therapist_ids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, key) FROM unnest(CAST(:keys AS integer[])) AS k(key) ORDER BY key"),
        {"space": scheduling.THERAPIST_LOCK_SPACE, "keys": sorted(therapist_ids)},
    )


def _booked_query(lines: Iterable[_Line]):
    """Appointments in the time span of `lines`, a day wider at the end: a row that keeps an
    existing appointment's end does not know it yet."""
    timed = [line for line in lines if line.starts_at is not None]
    span_start = min(line.starts_at for line in timed)
    span_end = max(line.ends_at or line.starts_at for line in timed) + dt.timedelta(days=1)
    return (
        select(
            Appointment.id,
            Appointment.therapist_id,
            Therapist.full_name.label("therapist_name"),
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.status,
            Appointment.modality,
            Appointment.room_id,
            Site.name.label("site_name"),
            Room.name.label("room_name"),
            Participant.id.label("participant_id"),
            Participant.client_id,
            Client.full_name.label("client_name"),
            Participant.attendance,
            Participant.fee,
            Participant.currency,
            Participant.cancelled_by,
            Participant.cancellation_reason,
        )
        .select_from(Appointment)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .outerjoin(Room, Room.id == Appointment.room_id)
        .outerjoin(Site, Site.id == Room.site_id)
        .where(Appointment.starts_at < span_end, Appointment.ends_at > span_start)
    )


def _load_booked(session: Session, lines: list[_Line]) -> dict[int, _Booked]:
    """The appointments the file's rows could match or clash with, by id.

    Those of the file's therapists come with all their participants; those found through a
    client (another therapist's appointment) with that client's participation only, which is
    all a clash needs.
    """
    booked: dict[int, _Booked] = {}
    if not any(line.starts_at is not None for line in lines):
        return booked
    query = _booked_query(lines)
    therapist_ids = {line.therapist_id for line in lines if line.starts_at is not None} - {None}
    for chunk in _chunks(therapist_ids):
        rows = session.execute(
            query.outerjoin(Participant, Participant.appointment_id == Appointment.id)
            .outerjoin(Client, Client.id == Participant.client_id)
            .where(Appointment.therapist_id.in_(chunk))
        )
        _collect(booked, rows)
    complete = set(booked)
    by_client = query.join(Participant, Participant.appointment_id == Appointment.id).join(
        Client, Client.id == Participant.client_id
    )
    if len(therapist_ids) <= CHUNK:  # what the first query read need not be read again
        by_client = by_client.where(Appointment.therapist_id.not_in(sorted(therapist_ids)))
    for chunk in _chunks({line.client_id for line in lines if line.starts_at is not None} - {None}):
        rows = session.execute(by_client.where(Participant.client_id.in_(chunk)))
        _collect(booked, (row for row in rows if row.id not in complete))
    return booked


def _load_room_mates(session: Session, booked: dict[int, _Booked], rooms: set[int], lines: list[_Line]) -> None:
    """The appointments in the rooms that updated appointments keep (their times may change)."""
    query = _booked_query(line for line in lines if _keeps_room(line))
    known = set(booked)
    for chunk in _chunks(rooms):
        rows = session.execute(
            query.outerjoin(Participant, Participant.appointment_id == Appointment.id)
            .outerjoin(Client, Client.id == Participant.client_id)
            .where(Appointment.room_id.in_(chunk))
        )
        _collect(booked, (row for row in rows if row.id not in known))


def _collect(booked: dict[int, _Booked], rows) -> None:
    for row in rows:
        appointment = booked.get(row.id)
        if appointment is None:
            appointment = booked[row.id] = _Booked(
                id=row.id,
                therapist_id=row.therapist_id,
                therapist_name=row.therapist_name,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                status=row.status,
                modality=row.modality,
                room_id=row.room_id,
                room_name=f"{row.site_name} · {row.room_name}" if row.room_id is not None else None,
            )
        if row.participant_id is not None:
            appointment.seats.append(
                _Seat(
                    id=row.participant_id,
                    client_id=row.client_id,
                    client_name=row.client_name,
                    attendance=row.attendance,
                    fee=row.fee,
                    currency=row.currency,
                    cancelled_by=row.cancelled_by,
                    cancellation_reason=row.cancellation_reason,
                )
            )


# Checks across rows


def _match_existing(lines: list[_Line], booked: dict[int, _Booked], column: dict, result: ImportPlan) -> None:
    """Pair each row with the appointment of its therapist and start; refuse a key used twice.

    A therapist with two appointments at one start (a cancelled one and its rebooking): the
    live one is the match, else the oldest.
    """
    by_key: dict[tuple[int, dt.datetime], _Booked] = {}
    for appointment in sorted(booked.values(), key=lambda a: (not a.live, a.id)):
        by_key.setdefault((appointment.therapist_id, appointment.starts_at), appointment)
    first_row: dict[tuple[int, dt.datetime], int] = {}
    for line in lines:
        if line.therapist_id is None or line.starts_at is None:
            continue
        key = (line.therapist_id, line.starts_at)
        if key in first_row:
            result.error(
                line.row, column["start"], _l("the same therapist and start as row %(row)d", row=first_row[key])
            )
            line.starts_at = None  # left out of the overlap check: the duplicate is what to fix
            continue
        first_row[key] = line.row
        line.existing = by_key.get(key)
        if line.existing is not None and len(line.existing.seats) != 1:
            result.error(
                line.row,
                column["start"],
                _l(
                    "the appointment at this time has %(count)d participants; change it in the appointment book",
                    count=len(line.existing.seats),
                ),
            )


def _fill_defaults(lines: list[_Line], *, now: dt.datetime) -> None:
    """Empty cells: an existing appointment keeps its values, a new one gets the defaults."""
    minutes = dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])
    for line in lines:
        if line.starts_at is None:
            continue
        existing = line.existing if line.existing is not None and len(line.existing.seats) == 1 else None
        if line.ends_at is None and not line.end_given:
            line.ends_at = existing.ends_at if existing is not None else line.starts_at + minutes
        if line.modality is None:
            line.modality = existing.modality if existing is not None else Modality.VIRTUAL
        if line.attendance is None:
            line.attendance = (
                existing.seats[0].attendance
                if existing is not None
                else scheduling.default_attendance(line.starts_at, now)
            )


def _keeps_room(line: _Line) -> bool:
    return (
        line.existing is not None
        and line.existing.room_id is not None
        and line.modality == Modality.ON_SITE
        and line.starts_at is not None
        and line.ends_at is not None
    )


def _check_overlaps(lines: list[_Line], booked: dict[int, _Booked], column: dict, result: ImportPlan) -> None:
    """Nobody twice at once, in the database as the import would leave it.

    Per therapist, client and room: the live intervals of the rows and of the appointments no
    row updates, swept by start; each one is compared with the interval reaching furthest among
    those before it, so every interval that overlaps an earlier one is found. Between two rows
    the later row is in error, naming the other; between a row and an appointment, the row.
    """
    resources: dict[tuple[str, int], list] = defaultdict(list)
    matched = {line.existing.id for line in lines if line.existing is not None}
    with_rows: set[tuple[str, int]] = set()
    for line in lines:
        if line.starts_at is None or line.ends_at is None or not line.live:
            continue
        keys = [("therapist", line.therapist_id), ("client", line.client_id)]
        if _keeps_room(line):
            keys.append(("room", line.existing.room_id))
        for key in keys:
            if key[1] is not None:
                resources[key].append((line.starts_at, line.ends_at, line))
                with_rows.add(key)
    for appointment in booked.values():
        if appointment.id in matched or not appointment.live:
            continue
        keys = [("therapist", appointment.therapist_id), ("room", appointment.room_id)]
        keys += [("client", seat.client_id) for seat in appointment.seats if seat.attendance not in _ABSENT]
        for key in keys:
            if key in with_rows:
                resources[key].append((appointment.starts_at, appointment.ends_at, appointment))
    reported: set[tuple[int, object]] = set()
    for key in sorted(with_rows):
        intervals = sorted(resources[key], key=lambda item: (item[0], item[1]))
        furthest = intervals[0]
        for current in intervals[1:]:
            if current[0] < furthest[1]:
                _report_overlap(key, furthest[2], current[2], column, result, reported)
            if current[1] > furthest[1]:
                furthest = current


def _report_overlap(key, first, second, column: dict, result: ImportPlan, reported: set) -> None:
    if isinstance(first, _Line) and isinstance(second, _Line):
        line, other = (first, second) if first.row > second.row else (second, first)
        if (line.row, ("row", other.row)) in reported:
            return
        reported.add((line.row, ("row", other.row)))
        when = f"{to_local(other.starts_at):%Y-%m-%d %H:%M}"
        reason = _l(
            "overlaps row %(row)d (%(name)s, %(when)s)",
            row=other.row,
            name=other.client_name or other.therapist_name,
            when=when,
        )
    elif isinstance(first, _Line) or isinstance(second, _Line):
        line, appointment = (first, second) if isinstance(first, _Line) else (second, first)
        if (line.row, ("appointment", appointment.id)) in reported:
            return
        reported.add((line.row, ("appointment", appointment.id)))
        reason = _conflict(key, appointment).message
    else:
        return  # two appointments already in the database: not this file's doing
    result.error(line.row, column["start"], reason)


def _conflict(key: tuple[str, int], appointment: _Booked) -> scheduling.Conflict:
    """The booking screen's wording for a clash with an appointment in the book."""
    kind = scheduling.ConflictKind(key[0])
    zone = clinic_zone()
    client_name = None
    if kind == scheduling.ConflictKind.CLIENT:
        client_name = next(seat.client_name for seat in appointment.seats if seat.client_id == key[1])
    return scheduling.Conflict(
        kind=kind,
        appointment_id=appointment.id,
        starts_at=to_local(appointment.starts_at, zone),
        ends_at=to_local(appointment.ends_at, zone),
        therapist_name=appointment.therapist_name,
        room_name=appointment.room_name,
        client_name=client_name,
    )


# The plan


def _status(attendance: Attendance) -> AppointmentStatus:
    """`scheduling._sync_status` for an appointment of one participant."""
    if attendance in (Attendance.ATTENDED, Attendance.NO_SHOW):
        return AppointmentStatus.HELD
    if attendance in _ABSENT:
        return AppointmentStatus.CANCELLED
    return AppointmentStatus.SCHEDULED


def _cancellation(attendance: Attendance, reason: str) -> tuple[CancelledBy | None, str | None]:
    if attendance == Attendance.CANCELLED:
        return CancelledBy.CLIENT, reason
    return None, None


def _planned(line: _Line, reason: str) -> tuple[Action, _NewAppointment | _Edit | None]:
    existing = line.existing
    if existing is None:
        cancelled_by, why = _cancellation(line.attendance, reason)
        return Action.CREATE, _NewAppointment(
            appointment={
                "therapist_id": line.therapist_id,
                "starts_at": line.starts_at,
                "ends_at": line.ends_at,
                "kind": AppointmentKind.INDIVIDUAL,
                "modality": line.modality,
                "room_id": None,
                "status": _status(line.attendance),
                "created_at": utcnow(),
            },
            participant={
                "client_id": line.client_id,
                "attendance": line.attendance,
                "fee": line.fee,
                "currency": line.currency,
                "cancelled_by": cancelled_by,
                "cancellation_reason": why,
                "billed_to": BilledTo.CLIENT,
                "payer_id": None,
            },
        )
    seat = existing.seats[0]
    appointment = {
        "ends_at": line.ends_at,
        "modality": line.modality,
        "room_id": existing.room_id if line.modality == Modality.ON_SITE else None,
        "status": _status(line.attendance),
    }
    participant = {"client_id": line.client_id, "fee": line.fee, "currency": line.currency}
    if line.attendance != seat.attendance:
        participant["attendance"] = line.attendance
        participant["cancelled_by"], participant["cancellation_reason"] = _cancellation(line.attendance, reason)
    appointment = {name: value for name, value in appointment.items() if value != getattr(existing, name)}
    participant = {name: value for name, value in participant.items() if value != getattr(seat, name)}
    if not appointment and not participant:
        return Action.UNCHANGED, None
    claims = _status(line.attendance) != AppointmentStatus.CANCELLED and (
        not existing.live or line.ends_at > existing.ends_at
    )
    return Action.UPDATE, _Edit(existing.id, appointment, seat.id, participant, claims)
