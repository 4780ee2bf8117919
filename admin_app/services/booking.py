"""Defaults that make booking fast: who usually sees this client, at what fee."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from admin_app.models import AssignmentKind, CareAssignment, Client, Therapist


@dataclass(frozen=True)
class BookingDefaults:
    client: Client
    therapist: Therapist | None
    fee: Decimal | None
    currency: str | None


def booking_defaults(session: Session, *, client_id: int) -> BookingDefaults | None:
    """The client's active therapist (a direct assignment before an indirect one, then the
    newest) and that therapist's default fee and currency; None for an unknown client."""
    client = session.get(Client, client_id)
    if client is None:
        return None
    assignment = session.scalar(
        select(CareAssignment)
        .join(CareAssignment.therapist)
        .where(CareAssignment.client_id == client_id, CareAssignment.active, Therapist.active)
        .options(joinedload(CareAssignment.therapist))
        .order_by((CareAssignment.kind == AssignmentKind.INDIRECT).asc(), CareAssignment.id.desc())
        .limit(1)
    )
    therapist = assignment.therapist if assignment else None
    return BookingDefaults(
        client=client,
        therapist=therapist,
        fee=therapist.default_fee if therapist else None,
        currency=therapist.default_currency if therapist else None,
    )
