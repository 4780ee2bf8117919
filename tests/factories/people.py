"""Therapists and clients; each factory flushes and returns the record."""

from __future__ import annotations

from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import CareAssignment, Client, CompensationModel, Therapist
from admin_app.services.people.compensation import start_terms
from tests.factories.sequence import next_number


def make_therapist(**fields) -> Therapist:
    """A therapist on a 40 % commission; giving `service_fee` makes it a service-fee therapist."""
    n = next_number()
    compensation = (
        {"compensation_model": CompensationModel.SERVICE_FEE, "commission_percent": None}
        if fields.get("service_fee") is not None
        else {"compensation_model": CompensationModel.COMMISSION, "commission_percent": Decimal("40.00")}
    )
    values = {
        "full_name": f"Therapist {n}",
        "email": f"therapist{n}@example.com",
        **compensation,
        "default_fee": Decimal("150.00"),
        "default_currency": "PEN",
        **fields,
    }
    therapist = Therapist(**values)
    db.session.add(therapist)
    start_terms(db.session, [therapist])  # as every path that creates a therapist does
    return therapist


def make_client(therapist: Therapist | None = None, **fields) -> Client:
    """A client; with a therapist, also in that therapist's care."""
    n = next_number()
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
