"""The appointment book's rules (services.scheduling), on records not yet saved: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    BilledTo,
    Client,
    CompensationModel,
    Modality,
    Participant,
    Payer,
    Room,
    Therapist,
)
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.attendance import default_attendance
from admin_app.services.scheduling.rules import prepare_appointment

NOW = dt.datetime(2026, 11, 3, 14, 15, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def practice(clock, practice_in):
    clock.set(NOW)  # "past" and "future" are read from the app's clock
    with practice_in(DEFAULT_APPOINTMENT_MINUTES=45, CURRENCIES=("PEN", "USD")):
        yield


def therapist() -> Therapist:
    return Therapist(
        full_name="Rosa Mendoza",
        compensation_model=CompensationModel.COMMISSION,
        commission_percent=Decimal("40"),
        default_fee=Decimal("150.00"),
        default_currency="PEN",
    )


def appointment(*participants: Participant, starts_at: dt.datetime | None = None, **fields) -> Appointment:
    return Appointment(
        therapist=therapist(),
        starts_at=starts_at or NOW + dt.timedelta(days=2),
        modality=fields.pop("modality", Modality.VIRTUAL),
        participants=list(participants),
        **fields,
    )


def prepare(record: Appointment) -> Appointment:
    return prepare_appointment(Session(), record)


def participant(**fields) -> Participant:
    return Participant(client=Client(full_name="Ana Quispe"), **fields)


def test_an_appointment_without_an_end_lasts_the_default_duration():
    record = prepare(appointment())
    assert record.ends_at - record.starts_at == dt.timedelta(minutes=45)


def test_an_end_before_the_start_is_refused():
    start = NOW + dt.timedelta(days=1)
    with pytest.raises(RuleViolation) as refused:
        prepare(appointment(starts_at=start, ends_at=start - dt.timedelta(minutes=1)))
    assert refused.value.field == "ends_at"
    assert str(refused.value) == "End: the end must be after the start"


def test_an_appointment_needs_a_start_and_a_therapist():
    with pytest.raises(RuleViolation, match="Start: this field is required"):
        prepare(Appointment(therapist=therapist(), modality=Modality.VIRTUAL))
    with pytest.raises(RuleViolation, match="Therapist: this field is required"):
        prepare(Appointment(starts_at=NOW, modality=Modality.VIRTUAL))


def test_on_site_needs_a_room_and_virtual_keeps_none():
    with pytest.raises(RuleViolation) as refused:
        prepare(appointment(modality=Modality.ON_SITE))
    assert refused.value.field == "room"

    assert prepare(appointment(modality=Modality.VIRTUAL, room=Room(name="Sala 1"))).room is None
    assert prepare(appointment(modality=Modality.ON_SITE, room=Room(name="Sala 1"))).room.name == "Sala 1"


def test_a_participant_gets_the_therapists_fee_and_currency():
    record = prepare(appointment(participant()))
    [charge] = record.participants
    assert (charge.fee, charge.currency, charge.billed_to) == (Decimal("150.00"), "PEN", BilledTo.CLIENT)


def test_participants_without_a_fee_share_the_therapists_fee_and_a_typed_fee_is_kept():
    record = prepare(appointment(participant(), participant(), participant(fee=Decimal("20.00"), currency="USD")))

    assert [(p.fee, p.currency) for p in record.participants] == [
        (Decimal("50.00"), "PEN"),
        (Decimal("50.00"), "PEN"),
        (Decimal("20.00"), "USD"),
    ]


def test_a_participants_own_fee_and_currency_are_kept():
    [charge] = prepare(appointment(participant(fee=Decimal("0.00"), currency="USD"))).participants
    assert (charge.fee, charge.currency) == (Decimal("0.00"), "USD")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"fee": Decimal("-1")}, "fee", "Fee: must not be negative"),
        ({"currency": "EUR"}, "currency", "Currency: EUR is not one of the practice's currencies (PEN, USD)"),
        ({"billed_to": BilledTo.PAYER}, "payer", "Payer: choose the payer this participant is billed to"),
    ],
)
def test_a_wrong_charge_is_refused_naming_the_field(fields, field, message):
    with pytest.raises(RuleViolation) as refused:
        prepare(appointment(participant(**fields)))
    assert (refused.value.field, str(refused.value)) == (field, message)


def test_a_participant_with_a_payer_is_billed_to_the_payer():
    [charge] = prepare(appointment(participant(payer=Payer(name="Pacífico")))).participants
    assert charge.billed_to == BilledTo.PAYER


def test_a_past_appointment_was_attended_unless_said_otherwise_and_a_future_one_is_expected():
    assert default_attendance(NOW - dt.timedelta(hours=1)) == Attendance.ATTENDED
    assert default_attendance(NOW + dt.timedelta(hours=1)) == Attendance.EXPECTED

    past = prepare(appointment(participant(), starts_at=NOW - dt.timedelta(days=3)))
    future = prepare(appointment(participant(), starts_at=NOW + dt.timedelta(days=3)))
    assert (past.participants[0].attendance, past.status) == (Attendance.ATTENDED, AppointmentStatus.HELD)
    assert (future.participants[0].attendance, future.status) == (Attendance.EXPECTED, AppointmentStatus.SCHEDULED)


@pytest.mark.parametrize(
    ("attendances", "status"),
    [
        ((Attendance.ATTENDED, Attendance.CANCELLED), AppointmentStatus.HELD),
        ((Attendance.NO_SHOW,), AppointmentStatus.HELD),
        ((Attendance.CANCELLED, Attendance.LATE_CANCELLED), AppointmentStatus.CANCELLED),
        ((Attendance.EXPECTED, Attendance.CANCELLED), AppointmentStatus.SCHEDULED),
    ],
)
def test_the_status_follows_the_participants_attendance(attendances, status):
    record = prepare(appointment(*(participant(attendance=a) for a in attendances)))
    assert record.status == status


def test_cancelling_the_appointment_cancels_who_was_still_expected_only():
    record = prepare(
        appointment(
            participant(attendance=Attendance.EXPECTED),
            participant(attendance=Attendance.LATE_CANCELLED),
            status=AppointmentStatus.CANCELLED,
        )
    )
    assert [p.attendance for p in record.participants] == [Attendance.CANCELLED, Attendance.LATE_CANCELLED]
    assert record.status == AppointmentStatus.CANCELLED
