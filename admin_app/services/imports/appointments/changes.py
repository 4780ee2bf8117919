"""The plan: the file's rows grouped into the appointments they make (a booked one that rows
touch, or a new one), each appointment's own values settled from its rows, and what to write for
it (`NewAppointment`, `Edit`), with each row's action.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from flask_babel import lazy_gettext as _l

from admin_app.models import AppointmentKind, AppointmentStatus, Attendance, BilledTo, CancelledBy, Modality
from admin_app.models.base import utcnow
from admin_app.services.imports.appointments.booked import Booked, Seat
from admin_app.services.imports.appointments.columns import SHARED_KINDS, Line
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.scheduling.attendance import appointment_status, default_attendance
from admin_app.services.scheduling.rules import default_end

IMPORTED_REASON = _l("Imported from a spreadsheet")
BILLED_TO_CLIENT = {
    "billed_to": BilledTo.CLIENT,
    "payer_id": None,
    "authorization_id": None,
    "authorization_chosen": False,
}


@dataclasses.dataclass
class Planned:
    """An appointment as the import would leave it: a booked one that rows touch, or a new one.

    `lines` in the file's order; the appointment's own values (end, modality, kind) are settled
    from them by `settle` (None: not known, because a cell was wrong).
    """

    therapist_id: int
    starts_at: dt.datetime
    existing: Booked | None
    lines: list[Line] = dataclasses.field(default_factory=list)
    ends_at: dt.datetime | None = None
    modality: Modality | None = None
    kind: AppointmentKind | None = None
    given_room: int | None = None  # the room the rows name (site and room columns)

    @property
    def first(self) -> Line:
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
        return appointment_status(attendance for _, _, attendance, _ in self.seats() if attendance)

    @property
    def live(self) -> bool:
        return self.status != AppointmentStatus.CANCELLED

    @property
    def room_id(self) -> int | None:
        """The room the rows name, else the booked one, kept while the appointment stays on site."""
        if self.modality != Modality.ON_SITE:
            return None
        if self.given_room is not None:
            return self.given_room
        return self.existing.room_id if self.existing is not None else None


@dataclasses.dataclass(frozen=True)
class NewAppointment:
    """The rows to insert (the participants' appointment id is known once inserted)."""

    appointment: dict
    participants: tuple[dict, ...]


@dataclasses.dataclass(frozen=True)
class Edit:
    """A booked appointment's changed values (empty when unchanged), its participants' changed
    values by id, and the participants it gains. `claims`: the appointment takes time it did not
    hold (revived, or ending later)."""

    appointment_id: int
    appointment: dict
    participants: tuple[tuple[int, dict], ...] = ()
    new_participants: tuple[dict, ...] = ()
    claims: bool = False


def match_existing(lines: list[Line], booked: dict[int, Booked], column: dict, result: ImportPlan) -> None:
    """Pair each row with the appointment its client already has with that therapist at that
    start; refuse a therapist, start and client given twice.

    A client in two appointments of one therapist at one start (a cancelled one and its
    rebooking): the live one is the match, else the oldest.
    """
    seats: dict[tuple[int, dt.datetime, int], tuple[Booked, Seat]] = {}
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


def group_rows(lines: list[Line], booked: dict[int, Booked]) -> list[Planned]:
    """The appointments the rows make, in the order of their first rows.

    A row whose client is booked belongs to that appointment. Any other row makes an appointment
    of its own, unless its kind is couple, family or group: then it joins, at its therapist and
    start, the live appointment in the book, else one that other rows of the file belong to, else
    the new one the rows of that kind share.
    """
    by_start: dict[tuple[int, dt.datetime], list[Booked]] = defaultdict(list)
    for appointment in sorted(booked.values(), key=lambda a: (not a.live, a.id)):
        by_start[(appointment.therapist_id, appointment.starts_at)].append(appointment)
    of_booked: dict[int, Planned] = {}
    shared: dict[tuple[int, dt.datetime], Planned] = {}
    grouped: list[Planned] = []

    def join(appointment: Planned, line: Line) -> None:
        if not appointment.lines:
            grouped.append(appointment)
        appointment.lines.append(line)

    def booked_one(appointment: Booked) -> Planned:
        if appointment.id not in of_booked:
            of_booked[appointment.id] = Planned(appointment.therapist_id, appointment.starts_at, appointment)
        return of_booked[appointment.id]

    for line in lines:
        if line.therapist_id is None or line.starts_at is None:
            continue
        if line.existing is not None:
            join(booked_one(line.existing), line)
            continue
        key = (line.therapist_id, line.starts_at)
        if line.kind not in SHARED_KINDS:
            join(Planned(line.therapist_id, line.starts_at, None), line)
            continue
        if key not in shared:
            candidates = by_start.get(key, [])
            target = next((a for a in candidates if a.live), None) or next(
                (a for a in candidates if a.id in of_booked), None
            )
            shared[key] = booked_one(target) if target is not None else Planned(*key, None)
        join(shared[key], line)
    for appointment in grouped:
        appointment.lines.sort(key=lambda line: line.row)
    return sorted(grouped, key=lambda appointment: appointment.first.row)


def settle(appointment: Planned, column: dict, result: ImportPlan, *, now: dt.datetime) -> None:
    """The appointment's own values from its rows, which must agree (an empty cell agrees), else
    its booked values, else the defaults; and each row's attendance. A room is for an on-site
    session only: a row naming one for a session that is virtual (said, booked, or by default) is
    in error."""
    existing = appointment.existing
    appointment.ends_at = _agreed_end(appointment, column, result)
    appointment.modality = _agreed(appointment, "modality", column, result) or (
        existing.modality if existing is not None else Modality.VIRTUAL
    )
    appointment.kind = _agreed(appointment, "kind", column, result) or (
        existing.kind if existing is not None else AppointmentKind.INDIVIDUAL
    )
    appointment.given_room = _agreed(appointment, "room", column, result)
    if appointment.modality != Modality.ON_SITE:
        for line in appointment.lines:
            if line.room_given:
                result.error(
                    line.row,
                    column["room"],
                    _l(
                        "a virtual session has no room: write on-site in %(modality)s, or leave %(site)s and "
                        "%(room)s empty",
                        modality=column["modality"],
                        site=column["site"],
                        room=column["room"],
                    ),
                )
    for line in appointment.lines:
        if line.attendance is None:
            line.attendance = (
                line.seat.attendance if line.seat is not None else default_attendance(appointment.starts_at, now)
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


def _agreed(appointment: Planned, name: str, column: dict, result: ImportPlan):
    """The value the rows give for one of the appointment's columns, or None when none gives it;
    a row that gives another one is in error."""
    shown = _room_cells if name == "room" else (lambda line: line.cells[name])
    first: Line | None = None
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
                    value=shown(line),
                    row=first.row,
                    other=shown(first),
                ),
            )
    return getattr(first, name) if first is not None else None


def _room_cells(line: Line) -> str:
    return f"{line.cells.get('site', '')} · {line.cells.get('room', '')}"


def _agreed_end(appointment: Planned, column: dict, result: ImportPlan) -> dt.datetime | None:
    """The end the rows give (None when a row's end or duration is wrong: not known), else the
    booked one, else the default duration."""
    first: Line | None = None
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
    return default_end(appointment.starts_at)


def _clock(moment: dt.datetime, starts_at: dt.datetime) -> str:
    """A local time, with its date when it is not the start's day."""
    local = to_local(moment)
    return f"{local:%H:%M}" if local.date() == to_local(starts_at).date() else f"{local:%Y-%m-%d %H:%M}"


def _cancellation(attendance: Attendance, reason: str) -> tuple[CancelledBy | None, str | None]:
    if attendance == Attendance.CANCELLED:
        return CancelledBy.CLIENT, reason
    return None, None


def _new_participant(line: Line, reason: str) -> dict:
    cancelled_by, why = _cancellation(line.attendance, reason)
    return {
        "client_id": line.client_id,
        "attendance": line.attendance,
        "fee": line.fee,
        "currency": line.currency,
        "cancelled_by": cancelled_by,
        "cancellation_reason": why,
        **(line.billing or BILLED_TO_CLIENT),
    }


def planned_change(appointment: Planned, reason: str, actions: dict[int, Action]) -> NewAppointment | Edit | None:
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
        return NewAppointment(
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
        wanted.update(line.billing or {})
        wanted = {name: value for name, value in wanted.items() if value != getattr(line.seat, name)}
        if wanted:
            edits.append((line.seat.id, wanted))
        actions[line.row] = Action.UPDATE if wanted or changed else Action.UNCHANGED
    if not changed and not edits and not joining:
        return None
    moved = appointment.room_id is not None and appointment.room_id != existing.room_id  # takes another room's time
    claims = appointment.live and (not existing.live or appointment.ends_at > existing.ends_at or moved)
    return Edit(existing.id, changed, tuple(edits), tuple(joining), claims)
