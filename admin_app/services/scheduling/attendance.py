"""Attendance: who came, who cancelled (and who decided it, and why), who did not show up; and the
one rule that an appointment's status follows its participants' attendance.

Every writer reaches these rules: `rules.prepare_appointment` (screens, series, the portal,
"mark attended") calls `follow_attendance`; the bulk writers (the spreadsheet import, the demo),
which set the status without loading records, call `appointment_status`. Nothing here reads or
writes the database, so every other scheduling module may use it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from admin_app.models import Appointment, AppointmentStatus, Attendance, CancelledBy, Participant
from admin_app.models.base import utcnow
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label

REASON_MAX_LENGTH = 255
# Who is not coming: they block no time and do not make a session held.
CANCELLATIONS = (Attendance.CANCELLED, Attendance.LATE_CANCELLED)


def choice(enum_class: type[enum.Enum], value, field: str):
    """`value` as one of `enum_class`, else a RuleViolation on `field`."""
    try:
        return enum_class(value)
    except ValueError:
        raise RuleViolation(_l("%(field)s: not a valid choice", field=field_label(field)), field=field) from None


def default_attendance(starts_at: dt.datetime, now: dt.datetime | None = None) -> Attendance:
    """A past appointment entered after the fact was attended unless said otherwise."""
    now = now or utcnow()
    return Attendance.ATTENDED if starts_at < now else Attendance.EXPECTED


def cancellation_reason(reason: str | None) -> str | None:
    """A cancellation reason as stored: trimmed, None when empty, refused when too long."""
    why = (reason or "").strip() or None
    if why is not None and len(why) > REASON_MAX_LENGTH:
        raise RuleViolation(
            _l(
                "%(field)s: at most %(count)s characters",
                field=field_label("cancellation_reason"),
                count=REASON_MAX_LENGTH,
            ),
            field="cancellation_reason",
        )
    return why


def cancellation(attendance: Attendance, cancelled_by, reason) -> tuple[CancelledBy | None, str | None]:
    """Who cancelled and why, as stored: required for a cancellation, nothing for anything else."""
    if attendance != Attendance.CANCELLED:
        return None, None
    if not cancelled_by:
        raise RuleViolation(
            _l("%(field)s: say who cancelled, the client or the practice", field=field_label("cancelled_by")),
            field="cancelled_by",
        )
    who = choice(CancelledBy, cancelled_by, "cancelled_by")
    why = cancellation_reason(reason)
    if not why:
        raise RuleViolation(
            _l("%(field)s: a cancellation needs a reason", field=field_label("cancellation_reason")),
            field="cancellation_reason",
        )
    return who, why


def follow_attendance(appointment: Appointment, participants: list[Participant]) -> None:
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
    if found and found <= set(CANCELLATIONS):
        return AppointmentStatus.CANCELLED
    return AppointmentStatus.SCHEDULED
