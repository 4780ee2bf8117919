"""Rules of the appointment book.

Later work (conflicts, series, attendance workflow) builds on `prepare_appointment`, the one
function every write path (screens, import, CLI) calls before an appointment is saved.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    BilledTo,
    Modality,
    Participant,
)
from admin_app.services.errors import RuleViolation
from admin_app.services.labels import field_label
from admin_app.services.money import check_currency


def default_end(starts_at: dt.datetime) -> dt.datetime:
    return starts_at + dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])


def default_attendance(starts_at: dt.datetime, now: dt.datetime | None = None) -> Attendance:
    """A past appointment entered after the fact was attended unless said otherwise."""
    now = now or dt.datetime.now(dt.UTC)
    return Attendance.ATTENDED if starts_at < now else Attendance.EXPECTED


def prepare_appointment(session: Session, appointment: Appointment) -> Appointment:
    """Fill defaults and check an appointment about to be saved; raises RuleViolation."""
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
    for participant in staying:
        prepare_participant(participant, appointment)
    _sync_status(appointment, staying)
    return appointment


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


def prepare_participant(participant: Participant, appointment: Appointment) -> Participant:
    therapist = appointment.therapist
    if participant.client is None and participant.client_id is None:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("client")), field="client")
    if participant.fee is None and therapist is not None:
        participant.fee = therapist.default_fee
    if not participant.currency and therapist is not None:
        participant.currency = therapist.default_currency
    if participant.fee is None or participant.fee < 0:
        raise RuleViolation(_l("%(field)s: must not be negative", field=field_label("fee")), field="fee")
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
    attendances = {p.attendance for p in participants}
    if not attendances:
        return
    if attendances & {Attendance.ATTENDED, Attendance.NO_SHOW}:
        appointment.status = AppointmentStatus.HELD
    elif attendances <= {Attendance.CANCELLED, Attendance.LATE_CANCELLED}:
        appointment.status = AppointmentStatus.CANCELLED
    else:
        appointment.status = AppointmentStatus.SCHEDULED
