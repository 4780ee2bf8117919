"""Small factories for the practice's records; each flushes and returns the record."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    Attendance,
    CareAssignment,
    Client,
    CompensationModel,
    Modality,
    Participant,
    Payer,
    PayerKind,
    Room,
    Site,
    Therapist,
)
from admin_app.services.accounts import logins
from admin_app.services.people import compensation
from admin_app.services.scheduling import appointments as scheduling

PASSWORD = "password123"
_sequence = itertools.count(1)


def make_admin(email: str = "staff@example.com", locale: str = "en"):
    return logins.create_admin(db.session, email=email, password=PASSWORD, locale=locale)


def make_therapist(**fields) -> Therapist:
    n = next(_sequence)
    values = {
        "full_name": f"Therapist {n}",
        "email": f"therapist{n}@example.com",
        "compensation_model": CompensationModel.COMMISSION,
        "commission_percent": Decimal("40.00"),
        "default_fee": Decimal("150.00"),
        "default_currency": "PEN",
        **fields,
    }
    therapist = Therapist(**values)
    db.session.add(therapist)
    compensation.start_terms(db.session, [therapist])  # as every path that creates a therapist does
    return therapist


def make_therapist_user(therapist: Therapist, locale: str = "en"):
    return logins.create_therapist_login(db.session, therapist_email=therapist.email, password=PASSWORD, locale=locale)


def make_client(therapist: Therapist | None = None, **fields) -> Client:
    n = next(_sequence)
    values = {
        "full_name": f"Client {n}",
        "national_id": f"ID{n:06d}",
        "email": f"client{n}@example.com",
        "preferred_language": "es",
        "reminder_preference": "email",
        **fields,
    }
    client = Client(**values)
    db.session.add(client)
    db.session.flush()
    if therapist is not None:
        db.session.add(CareAssignment(client=client, therapist=therapist))
        db.session.flush()
    return client


def make_appointment(
    therapist: Therapist,
    client: Client,
    starts_at: dt.datetime | None = None,
    *,
    fee: Decimal = Decimal("150.00"),
    attendance: Attendance = Attendance.ATTENDED,
    modality: Modality = Modality.VIRTUAL,
    room: Room | None = None,
) -> Appointment:
    # By default each appointment takes the next 50-minute slot of 5 October 2026 (10:00 Lima
    # onwards), so a test's appointments never overlap unless it says so.
    starts_at = starts_at or dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC) + dt.timedelta(
        minutes=50 * (next(_sequence) % 12)
    )
    appointment = Appointment(
        therapist=therapist,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=50),
        kind=AppointmentKind.INDIVIDUAL,
        modality=modality,
        room=room,
        participants=[Participant(client=client, fee=fee, currency="PEN", attendance=attendance)],
    )
    scheduling.prepare_appointment(db.session, appointment)  # as every write path does (status from attendance)
    db.session.add(appointment)
    db.session.flush()
    return appointment


def make_site(name: str | None = None, rooms: tuple[str, ...] = ("Room 1",)) -> Site:
    site = Site(name=name or f"Site {next(_sequence)}", rooms=[Room(name=room) for room in rooms])
    db.session.add(site)
    db.session.flush()
    return site


def make_payer(name: str | None = None, kind: PayerKind = PayerKind.INSURER) -> Payer:
    payer = Payer(name=name or f"Payer {next(_sequence)}", kind=kind)
    db.session.add(payer)
    db.session.flush()
    return payer
