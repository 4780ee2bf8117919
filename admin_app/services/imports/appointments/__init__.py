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
appointment must agree on what belongs to the appointment (kind, end, modality, room); an empty
cell agrees with anything.

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
- Room: the `site` and `room` columns, both or neither, name a room in use of a site in use (by
  name, case, accents and spacing aside, as the rooms import matches them); an unknown one is an
  error naming the value. Only an on-site session takes a room: a row naming one for a session
  that is virtual (by its modality cell, as booked, or by default when the cell is empty) is an
  error. An on-site row without them gets no room (a booked one keeps its room); staff pick one
  in the appointment book. A room another therapist has reserved then is a warning of the plan,
  not an error (the booking screen saves and warns too), found in one query for the whole file.
- Status sets the participant's attendance and the appointment's status follows all of its
  participants as `scheduling.attendance.appointment_status` says. A row cancelled by the file records the
  client as the one who cancelled, with the reason "Imported from a spreadsheet"; a participant
  already cancelled keeps who cancelled and why.
- Participants are billed to the client unless the `payer` column names a payer; the
  `authorization` column names the one to use, else the rule picks, rows in order of start
  (`billing` says how, and what a payer that refuses bookings beyond what it approved does).
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
therapists (`scheduling.guard.hold_therapist_locks`), so bookings made meanwhile queue behind the
import when plan and apply share one transaction. Clients are not locked (a large file has tens of
thousands, more than PostgreSQL's lock table holds); PostgreSQL's exclusion constraints still guard
therapists and rooms, and a clash met there is reported as a RuleViolation.

Modules: `columns` (the file's columns and a row read), `booked` (what the book already holds
around the rows), `changes` (the rows grouped into appointments and what to write for each),
`overlaps` (the overlap sweep), `billing` (payer and authorization of each row), `write` (the bulk
write); `plan` here runs them in order.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.models import Client
from admin_app.models.base import utcnow
from admin_app.services.imports import matching
from admin_app.services.imports.appointments import billing, changes
from admin_app.services.imports.appointments.booked import Booked, load_booked, load_rooms, load_through_clients
from admin_app.services.imports.appointments.columns import (
    COLUMNS,
    KEY_COLUMNS,
    REQUIRED,
    Line,
    cell_parsers,
    cells,
    email_key,
    read_row,
    sites_by_name,
    therapists_by_email,
)
from admin_app.services.imports.appointments.overlaps import check_overlaps
from admin_app.services.imports.appointments.write import apply
from admin_app.services.imports.reading import Table
from admin_app.services.imports.report import ImportPlan
from admin_app.services.imports.rows import report_missing_columns
from admin_app.services.platform.locking import hold_sqlite_write_lock
from admin_app.services.rooms.booking import RoomBooking, clashes_with_reservations
from admin_app.services.scheduling.guard import hold_therapist_locks

__all__ = ["COLUMNS", "KEY_COLUMNS", "KIND", "REQUIRED", "apply", "plan"]

KIND = "appointments"


def plan(session: Session, table: Table) -> ImportPlan:
    """Check every row against the file and the database; nothing is written.

    Takes the locks the package's docstring describes, held until the caller's transaction ends:
    a dry run rolls back at once, an import applies the plan in the same transaction.
    """
    result = ImportPlan(kind=KIND)
    missing = report_missing_columns(result, table, REQUIRED, COLUMNS)
    if not matching.has_client_column(result, table):
        return result
    if missing:
        return result
    hold_sqlite_write_lock(session)
    column = {name: table.headers.get(name, name) for name in COLUMNS}
    therapists = therapists_by_email(session, cells(table.rows, "therapist_email", email_key))
    parsers = cell_parsers()
    key_column = matching.first_client_column(table)
    keys = {row.number: matching.client_keys(row, key_column, column, result, parsers) for row in table.rows}
    clients = matching.load_client_index(
        session,
        (k for k in keys.values() if k is not None),
        columns=(Client.id, Client.full_name, Client.national_id, Client.client_number, Client.email),
    )
    hold_therapist_locks(session, [therapist.id for therapist in therapists.values()])
    sites = sites_by_name(session, table.rows)
    lines = [
        read_row(row, therapists, clients, keys[row.number], column, result, parsers, sites)
        for row in table.checked_rows()
    ]
    result.matched = matching.count_matches(line.matched_by for line in lines)
    timed = [line for line in lines if line.starts_at is not None]
    booked = load_booked(
        session,
        [(line.starts_at, line.ends_at) for line in timed],
        {line.therapist_id for line in timed} - {None},
        {line.client_id for line in timed} - {None},
    )
    changes.match_existing(lines, booked, column, result)
    appointments = changes.group_rows(lines, booked)
    now = utcnow()
    for appointment in appointments:
        changes.settle(appointment, column, result, now=now)
    _load_unmentioned_participants(session, booked, lines, appointments)
    rooms = {appointment.room_id for appointment in appointments} - {None}
    if rooms:
        spans = [(a.starts_at, a.ends_at) for a in appointments if a.room_id is not None]
        load_rooms(session, booked, spans, rooms)
    check_overlaps(appointments, booked, column, result)
    billing.bill_rows(session, lines, column, result)
    # Each appointment none of whose rows is wrong says what its rows would do, so a preview shows
    # them even in a file that cannot be imported yet; such a file plans no change.
    failed = {error.row for error in result.errors}
    reason = str(changes.IMPORTED_REASON)  # stored text, in the language of whoever imports
    for appointment in appointments:
        if not any(line.row in failed for line in appointment.lines):
            change = changes.planned_change(appointment, reason, result.actions)
            if change is not None and not failed:
                result.changes.append(change)
    if not failed:
        result.warnings.extend(_reserved_by_others(session, appointments))
    result.errors.sort(key=lambda error: error.row)
    return result


def _reserved_by_others(session: Session, appointments: list[changes.Planned]) -> list[str]:
    """A warning per appointment the file puts in a room another therapist has reserved then."""
    given = [a for a in appointments if a.given_room is not None and a.live and a.room_id is not None]
    bookings = {RoomBooking(a.room_id, a.therapist_id, a.starts_at, a.ends_at): a.first.row for a in given if a.ends_at}
    return [
        str(
            _l(
                "row %(row)d: room %(room)s is reserved by %(therapist)s on %(weekday)s from %(start)s to %(end)s "
                "(the session of %(when)s is imported; agree on the room with them)",
                row=bookings[clash.booking],
                **clash.params(),
            )
        )
        for clash in clashes_with_reservations(session, list(bookings))
    ]


def _load_unmentioned_participants(
    session: Session, booked: dict[int, Booked], lines: list[Line], appointments: list[changes.Planned]
) -> None:
    """Other therapists' appointments of the participants no row mentions, in the booked
    appointments the file changes: a longer session must fit their day too."""
    clients = {
        seat.client_id for appointment in appointments if appointment.existing for seat in appointment.existing.seats
    } - {line.client_id for line in lines}
    if clients:
        spans = [(a.starts_at, a.ends_at) for a in appointments if a.existing is not None]
        therapist_ids = {line.therapist_id for line in lines if line.starts_at is not None} - {None}
        load_through_clients(session, booked, spans, therapist_ids, clients)
