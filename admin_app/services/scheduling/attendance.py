"""Attendance: who came, who cancelled (and who decided it, and why), who did not show up.

The appointment's status follows its participants' attendance through
`scheduling.prepare_appointment`, the one place that rule lives. Every change here is a change
of ORM objects, so the audit trail records it like any other.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload

from admin_app.models import Appointment, AppointmentStatus, Attendance, CancelledBy, Participant
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.scheduling import appointments as scheduling

REASON_MAX_LENGTH = 255
_CANCELLATIONS = {Attendance.CANCELLED, Attendance.LATE_CANCELLED}
_ATTENDANCE_FIELDS = ("attendance", "cancelled_by", "cancellation_reason")


def _choice(enum_class: type[enum.Enum], value, field: str):
    try:
        return enum_class(value)
    except ValueError:
        raise RuleViolation(_l("%(field)s: not a valid choice", field=field_label(field)), field=field) from None


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


def _cancellation(attendance: Attendance, cancelled_by, reason) -> tuple[CancelledBy | None, str | None]:
    """Who cancelled and why, as stored: required for a cancellation, nothing for anything else."""
    if attendance != Attendance.CANCELLED:
        return None, None
    if not cancelled_by:
        raise RuleViolation(
            _l("%(field)s: say who cancelled, the client or the practice", field=field_label("cancelled_by")),
            field="cancelled_by",
        )
    who = _choice(CancelledBy, cancelled_by, "cancelled_by")
    why = cancellation_reason(reason)
    if not why:
        raise RuleViolation(
            _l("%(field)s: a cancellation needs a reason", field=field_label("cancellation_reason")),
            field="cancellation_reason",
        )
    return who, why


def _attendance_edited(participant: Participant) -> bool:
    state = inspect(participant)
    if state.transient or state.pending:
        return True
    return any(state.attrs[name].history.has_changes() for name in _ATTENDANCE_FIELDS)


def prepare_attendance(session: Session, appointment: Appointment, *, status_follows: bool = False) -> Appointment:
    """Check the attendance entered on a form, then prepare the appointment as every write path does.

    A participant whose attendance, canceller or reason was just entered and who is now cancelled
    must say who cancelled and why. `status_follows`: the status is not on the form (a participant's
    own screen, the portal), so a cancelled appointment reopens when someone is no longer cancelled;
    on the appointment's form the status chosen there counts (cancelling it cancels who was expected).
    """
    # No autoflush while looking: a flush (say, on loading the participants) would write the edits
    # and wipe the history that tells which participants were just edited.
    with session.no_autoflush:
        staying = [p for p in appointment.participants if p not in session.deleted]
        edited = [p for p in staying if p.attendance == Attendance.CANCELLED and _attendance_edited(p)]
    for participant in edited:
        participant.cancelled_by, participant.cancellation_reason = _cancellation(
            Attendance.CANCELLED, participant.cancelled_by, participant.cancellation_reason
        )
    if (
        status_follows
        and appointment.status == AppointmentStatus.CANCELLED
        and any(p.attendance is not None and p.attendance not in _CANCELLATIONS for p in staying)
    ):
        appointment.status = AppointmentStatus.SCHEDULED
    recancelled = appointment.status == AppointmentStatus.CANCELLED  # it cancels who is still expected
    for participant in staying:
        if participant.attendance != Attendance.CANCELLED and not (
            recancelled and participant.attendance == Attendance.EXPECTED
        ):
            participant.cancelled_by = participant.cancellation_reason = None
    scheduling.prepare_appointment(session, appointment)
    # A participant the appointment's cancellation re-cancels keeps who and why; anyone else
    # who is not cancelled carries neither.
    for participant in staying:
        if participant.attendance != Attendance.CANCELLED:
            participant.cancelled_by = participant.cancellation_reason = None
    return appointment


def prepare_participant_attendance(session: Session, participant: Participant) -> Participant:
    """A participant saved on their own screen: the attendance rule, then their appointment's."""
    prepare_attendance(session, participant.appointment, status_follows=True)
    return participant


def record_attendance(
    session: Session,
    *,
    participant: Participant,
    attendance: Attendance | str,
    cancelled_by: CancelledBy | str | None = None,
    reason: str | None = None,
) -> Participant:
    """Record how a participant attended; the appointment's status follows. Raises RuleViolation.

    Cancelled needs who cancelled (the client or the practice) and a reason; attended,
    late-cancelled, no-show and expected carry neither (any given is dropped).
    """
    attendance = _choice(Attendance, attendance, "attendance")
    who, why = _cancellation(attendance, cancelled_by, reason)  # checked before anything changes
    participant.attendance = attendance
    participant.cancelled_by = who
    participant.cancellation_reason = why
    prepare_attendance(session, participant.appointment, status_follows=True)
    session.flush()
    return participant


def mark_attended(session: Session, *, appointment_ids: Iterable[int | str]) -> int:
    """Mark every participant still expected in these appointments as attended; returns how many.

    Cancelled appointments are left alone, and so is anyone already marked otherwise. All or
    nothing: a RuleViolation on one appointment leaves the caller to roll the whole batch back.
    """
    ids = {int(value) for value in appointment_ids if str(value).strip().isdigit()}
    if not ids:
        return 0
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.id.in_(ids), Appointment.status != AppointmentStatus.CANCELLED)
        .order_by(Appointment.starts_at, Appointment.id)
        .options(
            joinedload(Appointment.therapist),
            joinedload(Appointment.room),
            selectinload(Appointment.participants).joinedload(Participant.payer),
        )
    ).unique()
    marked = 0
    for appointment in appointments:
        expected = [p for p in appointment.participants if p.attendance == Attendance.EXPECTED]
        if not expected:
            continue
        for participant in expected:
            participant.attendance = Attendance.ATTENDED
            participant.cancelled_by = participant.cancellation_reason = None
        scheduling.prepare_appointment(session, appointment)
        marked += len(expected)
    session.flush()
    return marked
