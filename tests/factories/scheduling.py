"""Appointments, written through the scheduling service as every write path does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    BilledTo,
    Client,
    Modality,
    Participant,
    Payer,
    Room,
    Therapist,
)
from admin_app.services.platform.clinic_time import from_local
from admin_app.services.scheduling.rules import save_appointment
from tests.factories.sequence import next_number


def book(
    therapist: Therapist,
    clients: Iterable[Client],
    starts_at: dt.datetime,
    *,
    minutes: int = 50,
    fee: Decimal | str | None = None,
    currency: str | None = None,
    attendance: Attendance = Attendance.ATTENDED,
    kind: AppointmentKind = AppointmentKind.INDIVIDUAL,
    modality: Modality | None = None,
    room: Room | None = None,
    status: AppointmentStatus | None = None,
    payer: Payer | None = None,
    **fields,
) -> Appointment:
    """An appointment with one participant line per client, saved (flushed) by `save_appointment`.

    Without a fee or currency the clients share the therapist's fee, in the therapist's currency, as
    on the booking screen. A naive `starts_at` is the clinic's wall time (`dt.datetime(2026, 10, 31, 23, 30)` is still
    October in Lima); an aware one is an instant. The modality is on-site when a room is given.
    A `status` is set before saving, as a screen sets it (CANCELLED cancels the expected).
    A `payer` bills every participant to it; without one the client's payment source decides.
    Other `fields` (video_link, notes ...) go to the appointment.
    """
    if starts_at.tzinfo is None:
        starts_at = from_local(starts_at)
    appointment = Appointment(
        therapist=therapist,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        kind=kind,
        modality=modality or (Modality.ON_SITE if room else Modality.VIRTUAL),
        room=room,
        participants=[
            Participant(
                client=client,
                fee=None if fee is None else Decimal(fee),
                currency=currency,
                attendance=attendance,
                **({} if payer is None else {"payer": payer, "billed_to": BilledTo.PAYER}),
            )
            for client in clients
        ],
        **fields,
    )
    if status is not None:
        appointment.status = status
    return save_appointment(db.session, appointment=appointment)


def make_appointment(
    therapist: Therapist,
    client: Client,
    starts_at: dt.datetime | None = None,
    **options,
) -> Appointment:
    """One client's appointment (see `book` for the options), attended unless said otherwise.

    Without a start it takes the next 50-minute slot of 5 October 2026 (10:00 Lima onwards), so a
    test's appointments never overlap unless it says so.
    """
    starts_at = starts_at or dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC) + dt.timedelta(
        minutes=50 * (next_number() % 12)
    )
    return book(therapist, [client], starts_at, **options)


def attended(
    therapist: Therapist, client: Client, day: int, *, month: int = 10, year: int = 2026, hour: int = 15
) -> Appointment:
    """`client` attended `therapist` that day at `hour` UTC (15:00 is 10:00 in Lima): what the survey asks about."""
    return make_appointment(therapist, client, dt.datetime(year, month, day, hour, 0, tzinfo=dt.UTC))
