"""The overlap sweep: nobody twice at once, in the book as the import would leave it, worded as
the booking screen words a clash.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l

from admin_app.services.imports.appointments.booked import Booked
from admin_app.services.imports.appointments.changes import Planned
from admin_app.services.imports.appointments.columns import Line
from admin_app.services.imports.report import ImportPlan
from admin_app.services.platform.clinic_time import clinic_zone, to_local
from admin_app.services.scheduling.attendance import CANCELLATIONS
from admin_app.services.scheduling.conflicts import Conflict, ConflictKind


def check_overlaps(appointments: list[Planned], booked: dict[int, Booked], column: dict, result: ImportPlan) -> None:
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
            if attendance not in CANCELLATIONS
        ]
        for key, owner in owners:
            if key[1] is not None:
                resources[key].append((*span, owner))
                with_rows.add(key)
    for appointment in booked.values():
        if appointment.id in touched or not appointment.live:
            continue
        keys = [("therapist", appointment.therapist_id), ("room", appointment.room_id)]
        keys += [("client", seat.client_id) for seat in appointment.seats if seat.attendance not in CANCELLATIONS]
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


def _first_line(owner) -> Line | None:
    """The row that answers for an interval of the file (None: a booked appointment)."""
    if isinstance(owner, Line):
        return owner
    if isinstance(owner, Planned):
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


def _conflict(key: tuple[str, int], appointment: Booked) -> Conflict:
    """The booking screen's wording for a clash with an appointment in the book."""
    kind = ConflictKind(key[0])
    zone = clinic_zone()
    client_name = None
    if kind == ConflictKind.CLIENT:
        client_name = next(seat.client_name for seat in appointment.seats if seat.client_id == key[1])
    return Conflict(
        kind=kind,
        appointment_id=appointment.id,
        starts_at=to_local(appointment.starts_at, zone),
        ends_at=to_local(appointment.ends_at, zone),
        therapist_name=appointment.therapist_name,
        room_name=appointment.room_name,
        client_name=client_name,
    )
