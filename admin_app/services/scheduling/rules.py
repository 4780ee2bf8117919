"""What an appointment must be before it is written, and the hooks every write path calls.

`prepare_appointment` is the one function every write path (screens, series, attendance,
CLI) calls before an appointment is saved: it fills defaults, checks the rules (a time, a
therapist, a room on site, an https video link, the participants' fees and who is billed; the status follows the
attendance) and, since nobody may be booked twice at once, writes the appointment itself through
the database guard (a flush; the caller still commits or rolls back). The screens' and the
portal's attendance (`prepare_attendance`, `record_attendance`) and the list's "mark attended"
first check what attendance was entered, then prepare the appointment the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    BilledTo,
    CancelledBy,
    Modality,
    Participant,
)
from admin_app.services.billing import linking, payments
from admin_app.services.payouts import statements
from admin_app.services.platform import bounds
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.platform.money import check_currency, shared_fees
from admin_app.services.scheduling.attendance import (
    CANCELLATIONS,
    cancellation,
    choice,
    default_attendance,
    follow_attendance,
)
from admin_app.services.scheduling.booking import session_kind
from admin_app.services.scheduling.guard import dialect_of, future_id, write_without_clash
from admin_app.services.scheduling.video_links import checked_video_link

_ATTENDANCE_FIELDS = ("attendance", "cancelled_by", "cancellation_reason")


def default_end(starts_at: dt.datetime) -> dt.datetime:
    return starts_at + dt.timedelta(minutes=current_app.config["DEFAULT_APPOINTMENT_MINUTES"])


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
    by another request: see `guard`. A cancelled appointment blocks nothing and
    is not checked. A RuleViolation leaves the caller's transaction usable, except when the
    database had to refuse an edit of an existing appointment: then the caller must roll back, as
    every caller does on a RuleViolation.

    A session bound to no database (the rules checked on records alone) has no other
    appointments to clash with: the defaults and rules apply, nothing is written.
    """
    with session.no_autoflush:  # nothing reaches the database before the checks are done
        linked = _apply_rules(session, appointment)
    write_without_clash(session, appointment)
    linking.refuse_beyond_approved(session, appointment, linked)
    return appointment


def _apply_rules(session: Session, appointment: Appointment) -> list[Participant]:
    """The rules of an appointment; returns the participants linked to an authorization here."""
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
    if times.video_link.history.has_changes():  # a link stored before the rule stays until edited
        appointment.video_link = checked_video_link(appointment.video_link)
    _check_no_charge_removed(session, appointment)
    staying = [p for p in appointment.participants if p not in session.deleted]
    if dialect_of(session) is not None:
        payments.refuse_changing_allocated_charges(session, staying)
        statements.refuse_changing_paid_out(session, appointment, staying)
    _share_the_session(session, appointment, staying)
    bound = dialect_of(session) is not None
    for participant in staying:
        if bound and participant.billed_to is None and participant.payer is None and participant.payer_id is None:
            participant.payer = linking.default_payer(session, future_id(participant, "client", "client_id"))
        prepare_participant(participant, appointment)
    follow_attendance(appointment, staying)
    return linking.link_appointment(session, appointment, staying) if bound else []


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
    if new and len(participants) > 1 and appointment.kind in (None, AppointmentKind.INDIVIDUAL) and dialect_of(session):
        client_ids = [future_id(p, "client", "client_id") for p in participants]
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


# Attendance entered on a screen, the portal or the list


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
        participant.cancelled_by, participant.cancellation_reason = cancellation(
            Attendance.CANCELLED, participant.cancelled_by, participant.cancellation_reason
        )
    if (
        status_follows
        and appointment.status == AppointmentStatus.CANCELLED
        and any(p.attendance is not None and p.attendance not in CANCELLATIONS for p in staying)
    ):
        appointment.status = AppointmentStatus.SCHEDULED
    recancelled = appointment.status == AppointmentStatus.CANCELLED  # it cancels who is still expected
    for participant in staying:
        if participant.attendance != Attendance.CANCELLED and not (
            recancelled and participant.attendance == Attendance.EXPECTED
        ):
            participant.cancelled_by = participant.cancellation_reason = None
    prepare_appointment(session, appointment)
    # A participant the appointment's cancellation re-cancels keeps who and why; anyone else
    # who is not cancelled carries neither.
    for participant in staying:
        if participant.attendance != Attendance.CANCELLED:
            participant.cancelled_by = participant.cancellation_reason = None
    return appointment


def prepare_participant_attendance(session: Session, participant: Participant) -> Participant:
    """A participant saved on their own screen: the attendance rule, then their appointment's."""
    prepare_attendance(session, _appointment_of(session, participant), status_follows=True)
    return participant


def _appointment_of(session: Session, participant: Participant) -> Appointment:
    """The participant's appointment, loaded without flushing: a lazy load's autoflush would write the
    change being checked, and the rules (payments applied, a statement paid out) could no longer see it."""
    with session.no_autoflush:
        return participant.appointment


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
    attendance = choice(Attendance, attendance, "attendance")
    who, why = cancellation(attendance, cancelled_by, reason)  # checked before anything changes
    participant.attendance = attendance
    participant.cancelled_by = who
    participant.cancellation_reason = why
    prepare_attendance(session, _appointment_of(session, participant), status_follows=True)
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
        prepare_appointment(session, appointment)
        marked += len(expected)
    session.flush()
    return marked
