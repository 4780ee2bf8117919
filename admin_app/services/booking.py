"""Defaults that make booking fast: who usually sees this client, at what fee."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from admin_app.models import AssignmentKind, CareAssignment, Client, ClientLink, Room, Therapist
from admin_app.services.labels import INVERSE_LINK, choice_label


@dataclass(frozen=True)
class LinkedClient:
    id: int
    name: str
    relation: str  # how they relate to the booked client, in the user's language


@dataclass(frozen=True)
class BookingDefaults:
    client: Client
    therapist: Therapist | None
    fee: Decimal | None
    currency: str | None
    linked: list[LinkedClient]  # suggested first as further participants (couple, family)
    rooms: list[Room]  # the therapist's site's rooms, for an on-site appointment


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
        linked=linked_clients(session, client_id=client_id),
        rooms=_site_rooms(session, therapist),
    )


def linked_clients(session: Session, *, client_id: int) -> list[LinkedClient]:
    """The active clients linked to this one, read from either side of each link, in one query."""
    links = session.scalars(
        select(ClientLink)
        .where((ClientLink.client_id == client_id) | (ClientLink.related_client_id == client_id))
        .options(joinedload(ClientLink.client), joinedload(ClientLink.related_client))
    )
    suggestions = []
    for link in links:
        if link.client_id == client_id:
            other, relation = link.related_client, INVERSE_LINK[link.kind.value]
        else:
            other, relation = link.client, choice_label(link.kind)
        if other.active:
            suggestions.append(LinkedClient(id=other.id, name=other.full_name, relation=str(relation)))
    return sorted(suggestions, key=lambda linked: linked.name)


def _site_rooms(session: Session, therapist: Therapist | None) -> list[Room]:
    if therapist is None or therapist.site_id is None:
        return []
    return list(session.scalars(select(Room).where(Room.site_id == therapist.site_id, Room.active).order_by(Room.name)))
