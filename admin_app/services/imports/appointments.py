"""Appointments from a spreadsheet: one participant per row, checked like a booking.

A row is identified by therapist, start and client (the natural key; the client is found by
national ID, else client number, else email, as `matching` says): a row whose client already
takes part in an appointment of that therapist starting then updates their participation (and
the appointment) when a value differs, and leaves it alone otherwise, so the same file imported
twice writes nothing the second time.

Another client at a therapist and start that is already taken (in the book, or by an earlier
row) is a clash, reported as the booking screen words it, never a replacement. Several clients
share one appointment only when their rows say so in the `kind` column (couple, family or group;
pareja, familia, grupo): such a row joins the live appointment booked at its therapist and start
(which takes the row's kind), or the one the file's other rows of that kind make. The rows of one
appointment must agree on what belongs to the appointment (kind, end, modality; the file names no
room); an empty cell agrees with anything.

Decisions the issue left open:

- Duration: `end` (a date and time, or a time alone for the start's day) or `duration_minutes`;
  when both are given they must agree. Both empty: `DEFAULT_APPOINTMENT_MINUTES` for a new
  appointment, the end it has for an existing one.
- Modality, kind and status empty: virtual, individual, and attended for a past start or
  scheduled for a future one (as the booking screen does) for a new appointment; an existing one
  keeps what it has, so a re-import never undoes what staff recorded in the appointment book.
- A row with an empty kind never joins another client's appointment: adding someone to a session
  is said, not guessed. A row that says "individual" for an appointment of several clients is an
  error.
- An on-site row gets no room (the file names none); staff pick one in the appointment book.
- Status sets the participant's attendance and the appointment's status follows all of its
  participants as `scheduling.appointment_status` says. A row cancelled by the file records the
  client as the one who cancelled, with the reason "Imported from a spreadsheet"; a participant
  already cancelled keeps who cancelled and why.
- Participants are billed to the client (the booking screen's default); staff set a payer.
- Fee and currency are required: a session's price is what the spreadsheet says, never guessed.
- A cancelled appointment blocks nothing: another client's row at its time is a new appointment.
- Counts are per row: "created" for a new participant (in a new or a booked appointment),
  "updated" when the row's participation or its appointment changes, else "unchanged".

Overlaps are checked against the database as the import would leave it: an appointment the file
updates (say, cancels or shortens) is judged by its new values. The whole file costs a handful of
queries (therapists by email, clients by national ID, number and email, the appointments of those therapists and
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
from admin_app.services.imports import matching, values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import report_missing_columns
from admin_app.services.platform.clinic_time import clinic_zone, from_local, to_local
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.locking import hold_sqlite_write_lock
from admin_app.services.scheduling import appointments as scheduling

KIND = "appointments"

COLUMNS: dict[str, tuple[str, ...]] = {
    "client_national_id": ("dni",),
    "client_number": ("numero_cliente", "n_cliente", "client_no"),
    "client_email": ("correo_cliente",),
    "therapist_email": ("correo_terapeuta",),
    "start": ("inicio",),
    "duration_minutes": ("duracion",),
    "end": ("fin",),
    "modality": ("modalidad",),
    "kind": ("tipo",),
    "fee": ("tarifa",),
    "currency": ("moneda",),
    "status": ("estado",),
}
REQUIRED = ("therapist_email", "start", "fee", "currency")
# The client is named by any of these (matching's rule); the file needs one of the columns.
CLIENT_KEYS = {"client_national_id": "national_id", "client_number": "client_number", "client_email": "email"}

MODALITIES = {
    "virtual": Modality.VIRTUAL,
    "online": Modality.VIRTUAL,
    "on-site": Modality.ON_SITE,
    "on_site": Modality.ON_SITE,
    "on site": Modality.ON_SITE,
    "presencial": Modality.ON_SITE,
}
KINDS = {
    "individual": AppointmentKind.INDIVIDUAL,
    "couple": AppointmentKind.COUPLE,
    "pareja": AppointmentKind.COUPLE,
    "family": AppointmentKind.FAMILY,
    "familia": AppointmentKind.FAMILY,
    "group": AppointmentKind.GROUP,
    "grupo": AppointmentKind.GROUP,
}
SHARED_KINDS = (AppointmentKind.COUPLE, AppointmentKind.FAMILY, AppointmentKind.GROUP)
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
    kind: AppointmentKind
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
    cells: dict[str, str]  # the row's cells as written, for messages
    therapist_id: int | None = None
    therapist_name: str = ""
    client_id: int | None = None
    client_name: str = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    minutes: int | None = None
    modality: Modality | None = None
    kind: AppointmentKind | None = None
    fee: Decimal | None = None
    currency: str | None = None
    attendance: Attendance | None = None
    end_given: bool = False  # an end or a duration was written (even if wrong)
    matched_by: str | None = None  # the key that found the client
    existing: _Booked | None = None  # the appointment the client already takes part in
    seat: _Seat | None = None  # ... and their participation in it

    @property
    def live(self) -> bool:
        return self.attendance not in _ABSENT


@dataclasses.dataclass
class _Appointment:
    """An appointment as the import would leave it: a booked one that rows touch, or a new one.

    `lines` in the file's order; the appointment's own values (end, modality, kind) are settled
    from them by `_settle` (None: not known, because a cell was wrong).
    """

    therapist_id: int
    starts_at: dt.datetime
    existing: _Booked | None
    lines: list[_Line] = dataclasses.field(default_factory=list)
    ends_at: dt.datetime | None = None
    modality: Modality | None = None
    kind: AppointmentKind | None = None

    @property
    def first(self) -> _Line:
        return self.lines[0]

    def seats(self) -> list[tuple[int | None, str, Attendance | None, object]]:
        """(client id, name, attendance, who answers for it) of every participant once imported:
        the rows, and the booked participants no row mentions (answered for by the appointment itself)."""
        mentioned = {line.seat.id for line in self.lines if line.seat is not None}
        booked = [
            (seat.client_id, seat.client_name, seat.attendance, self)
            for seat in (self.existing.seats if self.existing is not None else ())
            if seat.id not in mentioned
        ]
        return booked + [(line.client_id, line.client_name, line.attendance, line) for line in self.lines]

    @property
    def status(self) -> AppointmentStatus:
        return scheduling.appointment_status(attendance for _, _, attendance, _ in self.seats() if attendance)

    @property
    def live(self) -> bool:
        return self.status != AppointmentStatus.CANCELLED

    @property
    def room_id(self) -> int | None:
        """The booked room, kept while the appointment stays on site."""
        if self.existing is None or self.modality != Modality.ON_SITE:
            return None
        return self.existing.room_id


@dataclasses.dataclass(frozen=True)
class _NewAppointment:
    """The rows to insert (the participants' appointment id is known once inserted)."""

    appointment: dict
    participants: tuple[dict, ...]


@dataclasses.dataclass(frozen=True)
class _Edit:
    """A booked appointment's changed values (empty when unchanged), its participants' changed
    values by id, and the participants it gains. `claims`: the appointment takes time it did not
    hold (revived, or ending later)."""

    appointment_id: int
    appointment: dict
    participants: tuple[tuple[int, dict], ...] = ()
    new_participants: tuple[dict, ...] = ()
    claims: bool = False


def plan(session: Session, table: Table) -> ImportPlan:
    """Check every row against the file and the database; nothing is written.

    Takes the locks the module's docstring describes, held until the caller's transaction ends:
    a dry run rolls back at once, an import applies the plan in the same transaction.
    """
    result = ImportPlan(kind=KIND)
    missing = report_missing_columns(result, table, REQUIRED, COLUMNS)
    if not any(name in table.headers for name in CLIENT_KEYS):
        result.error(
            1,
            "client_national_id",
            _l(
                "the file needs a column that names the client: client_national_id, client_number or client_email "
                "(dni, numero_cliente, correo_cliente)"
            ),
        )
        return result
    if missing:
        return result
    hold_sqlite_write_lock(session)
    column = {name: table.headers.get(name, name) for name in COLUMNS}
    therapists = _therapists_by_email(session, _cells(table.rows, "therapist_email", _email_key))
    parsers = _cell_parsers()
    key_column = next(name for name in CLIENT_KEYS if name in table.headers)
    keys = {row.number: _client_keys(row, key_column, column, result, parsers) for row in table.rows}
    clients = matching.load_client_index(
        session,
        (k for k in keys.values() if k is not None),
        columns=(Client.id, Client.full_name, Client.national_id, Client.client_number, Client.email),
    )
    _hold_therapist_locks(session, [therapist.id for therapist in therapists.values()])
    lines = [_read_row(row, therapists, clients, keys[row.number], column, result, parsers) for row in table.rows]
    result.matched = matching.count_matches(line.matched_by for line in lines)
    booked = _load_booked(session, lines)
    _match_existing(lines, booked, column, result)
    appointments = _group_rows(lines, booked)
    now = utcnow()
    for appointment in appointments:
        _settle(appointment, column, result, now=now)
    _load_unmentioned_participants(session, booked, lines, appointments)
    rooms = {appointment.room_id for appointment in appointments} - {None}
    if rooms:
        _load_room_mates(session, booked, rooms, appointments)
    _check_overlaps(appointments, booked, column, result)
    if not result.errors:
        reason = str(IMPORTED_REASON)  # stored text, in the language of whoever imports
        actions: dict[int, Action] = {}
        for appointment in appointments:
            change = _planned(appointment, reason, actions)
            if change is not None:
                result.changes.append(change)
        result.actions.extend(actions[line.row] for line in lines)
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
        new_appointment_ids = _insert_appointments(session, created)
        _update(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if e.claims])
        new_participant_ids = _insert_participants(
            session,
            [
                {**participant, "appointment_id": appointment_id}
                for change, appointment_id in zip(created, new_appointment_ids, strict=True)
                for participant in change.participants
            ]
            + [participant for e in edited for participant in e.new_participants],
        )
        _update(session, Participant, [edit for e in edited for edit in e.participants])
    except DBAPIError as error:
        refusal = scheduling.overlap_refusal(error)
        if refusal is None:
            raise
        raise refusal from None
    actor_id, actor = current_actor()
    stamp = {"occurred_at": utcnow(), "actor_user_id": actor_id, "actor": actor}
    _record_creations(session, stamp, Appointment.__tablename__, new_appointment_ids)
    _record_creations(session, stamp, Participant.__tablename__, new_participant_ids)
    updates = [
        {**stamp, "action": AuditAction.UPDATE, "entity": entity, "entity_id": id_, "changed_fields": list(changed)}
        for e in edited
        for entity, id_, changed in (
            (Appointment.__tablename__, e.appointment_id, e.appointment),
            *((Participant.__tablename__, id_, changed) for id_, changed in e.participants),
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


def _insert_appointments(session: Session, created: list[_NewAppointment]) -> list[int]:
    """The new appointments; their ids, in the order of `created`.

    Plain executemany INSERTs (SQLite's own; a pipeline of one short statement per row with
    psycopg), each followed by one query reading the new ids back: measured on PostgreSQL, that is
    faster than INSERT ... RETURNING batches, whose long statements the driver parses anew every
    time. New ids are above the highest id seen before inserting, and ascend in the order of the
    rows: the new appointments of one therapist and start (at most one live, the others
    cancelled) take theirs in the file's order. No other transaction adds any there meanwhile:
    the file's therapists are locked against concurrent bookings.
    """
    if not created:
        return []
    highest = session.scalar(select(func.max(Appointment.id))) or 0
    session.execute(insert(Appointment.__table__), [change.appointment for change in created])
    new_ids: dict[tuple[int, dt.datetime], list[int]] = defaultdict(list)
    for id_, therapist_id, starts_at in session.execute(
        select(Appointment.id, Appointment.therapist_id, Appointment.starts_at)
        .where(Appointment.id > highest)
        .order_by(Appointment.id.desc())  # popped from the end: lowest first
    ):
        new_ids[(therapist_id, starts_at)].append(id_)
    return [new_ids[(change.appointment["therapist_id"], change.appointment["starts_at"])].pop() for change in created]


def _insert_participants(session: Session, participants: list[dict]) -> list[int]:
    """The new participants (of new and of booked appointments); their ids.

    Read back as the appointments are: above the highest id before, one per appointment and
    client (a unique pair).
    """
    if not participants:
        return []
    highest = session.scalar(select(func.max(Participant.id))) or 0
    session.execute(insert(Participant.__table__), participants)
    new_ids = {
        (appointment_id, client_id): id_
        for id_, appointment_id, client_id in session.execute(
            select(Participant.id, Participant.appointment_id, Participant.client_id).where(Participant.id > highest)
        )
    }
    return [new_ids[(participant["appointment_id"], participant["client_id"])] for participant in participants]


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
        "client_national_id": matching.parse_national_id,
        "client_number": matching.parse_client_number,
        "client_email": cache(values.email),
        "therapist_email": cache(lambda value: values.email(value, is_required=True)),
        "start": cache(values.local_datetime),
        "duration_minutes": cache(lambda value: values.whole_number(value) if value else None),
        "end": cache(_end),
        "modality": cache(lambda value: values.choice(value, MODALITIES) if value else None),
        "kind": cache(lambda value: values.choice(value, KINDS) if value else None),
        "fee": cache(values.amount),
        "currency": cache(values.currency),
        "status": cache(lambda value: values.choice(_nfc(value), STATUSES) if value else None),
    }


def _client_keys(
    row: Row, key_column: str, column: dict, result: ImportPlan, parsers: dict
) -> matching.ClientKeys | None:
    """The row's keys of its client (None: a key cell is wrong, or none is given; said on the
    plan, for a missing key on `key_column`)."""
    found, ok = {}, True
    for name, key in CLIENT_KEYS.items():
        try:
            found[key] = parsers[name](row.values.get(name, ""))
        except values.CellError as error:
            result.error(row.number, column[name], error.reason)
            ok = False
    keys = matching.ClientKeys(**found)
    if ok and not keys.given:
        result.error(row.number, column[key_column], _l("a value is required"))
    return keys if ok and keys.given else None


NOT_FOUND = {
    "national_id": lambda value: _l("no client has the national ID %(value)s", value=value),
    "client_number": lambda value: _l("no client has the client number %(value)s", value=value),
    "email": lambda value: _l("no client has the email %(value)s", value=value),
}


def _read_row(
    row: Row,
    therapists: dict,
    clients: matching.ClientIndex,
    keys: matching.ClientKeys | None,
    column: dict,
    result: ImportPlan,
    parsers: dict,
) -> _Line:
    line = _Line(row=row.number, cells=row.values)

    def check(name: str, *more):
        try:
            return parsers[name](row.values.get(name, ""), *more)
        except values.CellError as error:
            fail(name, error.reason)
            return None

    def fail(name: str, reason) -> None:
        result.error(row.number, column[name], reason)

    if keys is not None:
        try:
            found = clients.match(keys)
        except matching.MatchError as error:
            fail(next(name for name, key in CLIENT_KEYS.items() if key == error.key), error.reason)
        else:
            if found.client is None:
                name, key = next((n, k) for n, k in CLIENT_KEYS.items() if getattr(keys, k))
                fail(name, NOT_FOUND[key](getattr(keys, key)))
            else:
                line.client_id, line.client_name = found.client.id, found.client.full_name
                line.matched_by = found.key
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
    line.kind = check("kind")
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


def _hold_therapist_locks(session: Session, therapist_ids: list[int]) -> None:
    """The booking screen's lock of each therapist (same keys, same global order), in one statement."""
    if not therapist_ids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, key) FROM unnest(CAST(:keys AS integer[])) AS k(key) ORDER BY key"),
        {"space": scheduling.THERAPIST_LOCK_SPACE, "keys": sorted(therapist_ids)},
    )


def _booked_query(spans: Iterable[tuple[dt.datetime, dt.datetime | None]]):
    """Appointments in the time span of `spans` (start, end or None), a day wider at the end: a
    row that keeps an existing appointment's end does not know it yet."""
    timed = list(spans)
    span_start = min(start for start, _ in timed)
    span_end = max(end or start for start, end in timed) + dt.timedelta(days=1)
    return (
        select(
            Appointment.id,
            Appointment.therapist_id,
            Therapist.full_name.label("therapist_name"),
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.kind,
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
    timed = [line for line in lines if line.starts_at is not None]
    if not timed:
        return booked
    query = _booked_query((line.starts_at, line.ends_at) for line in timed)
    therapist_ids = {line.therapist_id for line in timed} - {None}
    for chunk in _chunks(therapist_ids):
        rows = session.execute(
            query.outerjoin(Participant, Participant.appointment_id == Appointment.id)
            .outerjoin(Client, Client.id == Participant.client_id)
            .where(Appointment.therapist_id.in_(chunk))
        )
        _collect(booked, rows)
    _load_through_clients(session, booked, query, therapist_ids, {line.client_id for line in timed} - {None})
    return booked


def _load_through_clients(session: Session, booked: dict, query, therapist_ids: set[int], client_ids: set[int]) -> None:
    """Other therapists' appointments of these clients (the file's therapists' are all read)."""
    by_client = query.join(Participant, Participant.appointment_id == Appointment.id).join(
        Client, Client.id == Participant.client_id
    )
    if len(therapist_ids) <= CHUNK:  # what is read already need not be read again
        by_client = by_client.where(Appointment.therapist_id.not_in(sorted(therapist_ids)))
    for chunk in _chunks(client_ids):
        rows = session.execute(by_client.where(Participant.client_id.in_(chunk)))
        _collect(booked, (row for row in rows if row.therapist_id not in therapist_ids))


def _load_unmentioned_participants(
    session: Session, booked: dict[int, _Booked], lines: list[_Line], appointments: list[_Appointment]
) -> None:
    """Other therapists' appointments of the participants no row mentions, in the booked
    appointments the file changes: a longer session must fit their day too."""
    clients = {
        seat.client_id for appointment in appointments if appointment.existing for seat in appointment.existing.seats
    } - {line.client_id for line in lines}
    if clients:
        query = _booked_query((a.starts_at, a.ends_at) for a in appointments if a.existing is not None)
        therapist_ids = {line.therapist_id for line in lines if line.starts_at is not None} - {None}
        _load_through_clients(session, booked, query, therapist_ids, clients)


def _load_room_mates(
    session: Session, booked: dict[int, _Booked], rooms: set[int], appointments: list[_Appointment]
) -> None:
    """The appointments in the rooms that updated appointments keep (their times may change)."""
    query = _booked_query((a.starts_at, a.ends_at) for a in appointments if a.room_id is not None)
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
                kind=row.kind,
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
    """Pair each row with the appointment its client already has with that therapist at that
    start; refuse a therapist, start and client given twice.

    A client in two appointments of one therapist at one start (a cancelled one and its
    rebooking): the live one is the match, else the oldest.
    """
    seats: dict[tuple[int, dt.datetime, int], tuple[_Booked, _Seat]] = {}
    for appointment in sorted(booked.values(), key=lambda a: (not a.live, a.id)):
        for seat in appointment.seats:
            seats.setdefault((appointment.therapist_id, appointment.starts_at, seat.client_id), (appointment, seat))
    first_row: dict[tuple[int, dt.datetime, int], int] = {}
    for line in lines:
        if line.therapist_id is None or line.starts_at is None or line.client_id is None:
            continue
        key = (line.therapist_id, line.starts_at, line.client_id)
        if key in first_row:
            result.error(
                line.row,
                column["start"],
                _l("the same therapist, start and client as row %(row)d", row=first_row[key]),
            )
            line.starts_at = None  # left out of the other checks: the duplicate is what to fix
            continue
        first_row[key] = line.row
        line.existing, line.seat = seats.get(key, (None, None))


def _group_rows(lines: list[_Line], booked: dict[int, _Booked]) -> list[_Appointment]:
    """The appointments the rows make, in the order of their first rows.

    A row whose client is booked belongs to that appointment. Any other row makes an appointment
    of its own, unless its kind is couple, family or group: then it joins, at its therapist and
    start, the live appointment in the book, else one that other rows of the file belong to, else
    the new one the rows of that kind share.
    """
    by_start: dict[tuple[int, dt.datetime], list[_Booked]] = defaultdict(list)
    for appointment in sorted(booked.values(), key=lambda a: (not a.live, a.id)):
        by_start[(appointment.therapist_id, appointment.starts_at)].append(appointment)
    of_booked: dict[int, _Appointment] = {}
    shared: dict[tuple[int, dt.datetime], _Appointment] = {}
    grouped: list[_Appointment] = []

    def join(appointment: _Appointment, line: _Line) -> None:
        if not appointment.lines:
            grouped.append(appointment)
        appointment.lines.append(line)

    def booked_one(appointment: _Booked) -> _Appointment:
        if appointment.id not in of_booked:
            of_booked[appointment.id] = _Appointment(appointment.therapist_id, appointment.starts_at, appointment)
        return of_booked[appointment.id]

    for line in lines:
        if line.therapist_id is None or line.starts_at is None:
            continue
        if line.existing is not None:
            join(booked_one(line.existing), line)
            continue
        key = (line.therapist_id, line.starts_at)
        if line.kind not in SHARED_KINDS:
            join(_Appointment(line.therapist_id, line.starts_at, None), line)
            continue
        if key not in shared:
            candidates = by_start.get(key, [])
            target = next((a for a in candidates if a.live), None) or next(
                (a for a in candidates if a.id in of_booked), None
            )
            shared[key] = booked_one(target) if target is not None else _Appointment(*key, None)
        join(shared[key], line)
    for appointment in grouped:
        appointment.lines.sort(key=lambda line: line.row)
    return sorted(grouped, key=lambda appointment: appointment.first.row)


def _settle(appointment: _Appointment, column: dict, result: ImportPlan, *, now: dt.datetime) -> None:
    """The appointment's own values from its rows, which must agree (an empty cell agrees), else
    its booked values, else the defaults; and each row's attendance."""
    existing = appointment.existing
    appointment.ends_at = _agreed_end(appointment, column, result)
    appointment.modality = _agreed(appointment, "modality", column, result) or (
        existing.modality if existing is not None else Modality.VIRTUAL
    )
    appointment.kind = _agreed(appointment, "kind", column, result) or (
        existing.kind if existing is not None else AppointmentKind.INDIVIDUAL
    )
    for line in appointment.lines:
        if line.attendance is None:
            line.attendance = (
                line.seat.attendance
                if line.seat is not None
                else scheduling.default_attendance(appointment.starts_at, now)
            )
    if appointment.kind == AppointmentKind.INDIVIDUAL:
        seats = appointment.seats()
        said = next((line for line in appointment.lines if line.kind == AppointmentKind.INDIVIDUAL), None)
        if said is not None and len(seats) > 1:
            result.error(
                said.row,
                column["kind"],
                _l(
                    "an individual session has one client; this one has %(count)d (%(names)s)",
                    count=len(seats),
                    names=", ".join(sorted(name for _, name, _, _ in seats)),
                ),
            )


def _agreed(appointment: _Appointment, name: str, column: dict, result: ImportPlan):
    """The value the rows give for one of the appointment's columns, or None when none gives it;
    a row that gives another one is in error."""
    first: _Line | None = None
    for line in appointment.lines:
        value = getattr(line, name)
        if value is None:
            continue
        if first is None:
            first = line
        elif value != getattr(first, name):
            result.error(
                line.row,
                column[name],
                _l(
                    "%(value)s differs from row %(row)d (%(other)s) for the same session",
                    value=line.cells[name],
                    row=first.row,
                    other=first.cells[name],
                ),
            )
    return getattr(first, name) if first is not None else None


def _agreed_end(appointment: _Appointment, column: dict, result: ImportPlan) -> dt.datetime | None:
    """The end the rows give (None when a row's end or duration is wrong: not known), else the
    booked one, else the default duration."""
    first: _Line | None = None
    for line in appointment.lines:
        if not line.end_given:
            continue
        if line.ends_at is None:
            return None  # that row's cell is in error already
        if first is None:
            first = line
        elif line.ends_at != first.ends_at:
            name = "end" if line.cells.get("end") else "duration_minutes"
            result.error(
                line.row,
                column[name],
                _l(
                    "the session ends at %(end)s on this row and at %(other)s on row %(row)d",
                    end=_clock(line.ends_at, appointment.starts_at),
                    other=_clock(first.ends_at, appointment.starts_at),
                    row=first.row,
                ),
            )
    if first is not None:
        return first.ends_at
    if appointment.existing is not None:
        return appointment.existing.ends_at
    return appointment.starts_at + dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])


def _clock(moment: dt.datetime, starts_at: dt.datetime) -> str:
    """A local time, with its date when it is not the start's day."""
    local = to_local(moment)
    return f"{local:%H:%M}" if local.date() == to_local(starts_at).date() else f"{local:%Y-%m-%d %H:%M}"


def _check_overlaps(
    appointments: list[_Appointment], booked: dict[int, _Booked], column: dict, result: ImportPlan
) -> None:
    """Nobody twice at once, in the database as the import would leave it.

    Per therapist, client and room: the live intervals of the file's appointments and of the
    booked ones no row touches, swept by start; each one is compared with the interval reaching
    furthest among those before it, so every interval that overlaps an earlier one is found.
    Between two of the file's, the later row is in error, naming the other; between one of the
    file's and a booked one, the file's row. A participant's clash is reported on their row (a
    booked participant no row mentions: on the appointment's first row).
    """
    resources: dict[tuple[str, int], list] = defaultdict(list)
    touched = {appointment.existing.id for appointment in appointments if appointment.existing is not None}
    with_rows: set[tuple[str, int]] = set()
    for appointment in appointments:
        if appointment.ends_at is None or not appointment.live:
            continue
        span = (appointment.starts_at, appointment.ends_at)
        owners = [(("therapist", appointment.therapist_id), appointment), (("room", appointment.room_id), appointment)]
        owners += [
            (("client", client_id), owner)
            for client_id, _, attendance, owner in appointment.seats()
            if attendance not in _ABSENT
        ]
        for key, owner in owners:
            if key[1] is not None:
                resources[key].append((*span, owner))
                with_rows.add(key)
    for appointment in booked.values():
        if appointment.id in touched or not appointment.live:
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
                _report_overlap(key, furthest, current, column, result, reported)
            if current[1] > furthest[1]:
                furthest = current


def _first_line(owner) -> _Line | None:
    """The row that answers for an interval of the file (None: a booked appointment)."""
    if isinstance(owner, _Line):
        return owner
    if isinstance(owner, _Appointment):
        return owner.first
    return None


def _report_overlap(key, first, second, column: dict, result: ImportPlan, reported: set) -> None:
    same_start = key[0] == "therapist" and first[0] == second[0]
    mine, theirs = _first_line(first[2]), _first_line(second[2])
    if mine is not None and theirs is not None:
        line, other = (mine, theirs) if mine.row > theirs.row else (theirs, mine)
        if line is other or (line.row, ("row", other.row)) in reported:
            return
        reported.add((line.row, ("row", other.row)))
        named = {
            "row": other.row,
            "name": other.client_name or other.therapist_name,
            "when": f"{to_local(other.starts_at):%Y-%m-%d %H:%M}",
        }
        reason = (
            _l(
                "overlaps row %(row)d (%(name)s, %(when)s); several clients in one session need the kind "
                "column: couple, family or group",
                **named,
            )
            if same_start
            else _l("overlaps row %(row)d (%(name)s, %(when)s)", **named)
        )
    elif mine is not None or theirs is not None:
        line, appointment = (mine, second[2]) if mine is not None else (theirs, first[2])
        if (line.row, ("appointment", appointment.id)) in reported:
            return
        reported.add((line.row, ("appointment", appointment.id)))
        reason = _conflict(key, appointment).message
        if same_start:
            reason = _l(
                "%(conflict)s Several clients in one session need the kind column: couple, family or group.",
                conflict=reason,
            )
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


def _cancellation(attendance: Attendance, reason: str) -> tuple[CancelledBy | None, str | None]:
    if attendance == Attendance.CANCELLED:
        return CancelledBy.CLIENT, reason
    return None, None


def _new_participant(line: _Line, reason: str) -> dict:
    cancelled_by, why = _cancellation(line.attendance, reason)
    return {
        "client_id": line.client_id,
        "attendance": line.attendance,
        "fee": line.fee,
        "currency": line.currency,
        "cancelled_by": cancelled_by,
        "cancellation_reason": why,
        "billed_to": BilledTo.CLIENT,
        "payer_id": None,
    }


def _planned(appointment: _Appointment, reason: str, actions: dict[int, Action]) -> _NewAppointment | _Edit | None:
    """What to write for one appointment (None: nothing), and each of its rows' action."""
    existing = appointment.existing
    wanted_appointment = {
        "ends_at": appointment.ends_at,
        "kind": appointment.kind,
        "modality": appointment.modality,
        "room_id": appointment.room_id,
        "status": appointment.status,
    }
    if existing is None:
        for line in appointment.lines:
            actions[line.row] = Action.CREATE
        return _NewAppointment(
            appointment={
                **wanted_appointment,
                "therapist_id": appointment.therapist_id,
                "starts_at": appointment.starts_at,
                "created_at": utcnow(),
            },
            participants=tuple(_new_participant(line, reason) for line in appointment.lines),
        )
    changed = {name: value for name, value in wanted_appointment.items() if value != getattr(existing, name)}
    edits, joining = [], []
    for line in appointment.lines:
        if line.seat is None:
            joining.append({**_new_participant(line, reason), "appointment_id": existing.id})
            actions[line.row] = Action.CREATE
            continue
        wanted = {"fee": line.fee, "currency": line.currency}
        if line.attendance != line.seat.attendance:
            wanted["attendance"] = line.attendance
            wanted["cancelled_by"], wanted["cancellation_reason"] = _cancellation(line.attendance, reason)
        wanted = {name: value for name, value in wanted.items() if value != getattr(line.seat, name)}
        if wanted:
            edits.append((line.seat.id, wanted))
        actions[line.row] = Action.UPDATE if wanted or changed else Action.UNCHANGED
    if not changed and not edits and not joining:
        return None
    claims = appointment.live and (not existing.live or appointment.ends_at > existing.ends_at)
    return _Edit(existing.id, changed, tuple(edits), tuple(joining), claims)
