"""Defaults that make booking fast: who usually sees this client, at what fee, and what a session
shared with the clients linked to them is (couple, family or group, each paying a share of one fee)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from admin_app.models import (
    AppointmentKind,
    AssignmentKind,
    CareAssignment,
    Client,
    ClientLink,
    LinkKind,
    Room,
    Therapist,
)
from admin_app.services.platform.labels import INVERSE_LINK, choice_label
from admin_app.services.platform.money import shared_fees


@dataclass(frozen=True)
class LinkedClient:
    id: int
    name: str
    relation: str  # how they relate to the booked client, in the user's language


@dataclass(frozen=True)
class BookingDefaults:
    client: Client
    therapist: Therapist | None  # the client's usual therapist
    fee: Decimal | None  # the session's fee: the booked therapist's default
    currency: str | None
    linked: list[LinkedClient]  # suggested first as further participants (couple, family)
    rooms: list[Room]  # the therapist's site's rooms, for an on-site appointment
    kind: AppointmentKind  # of a session of the client with the `others` asked about
    fees: list[Decimal]  # each participant's share of `fee`: the client's, then the others' in order


def booking_defaults(
    session: Session, *, client_id: int, other_client_ids: Sequence[int] = (), therapist_id: int | None = None
) -> BookingDefaults | None:
    """The client's active therapist (a direct assignment before an indirect one, then the
    newest) and that therapist's default fee and currency; None for an unknown client.

    With `other_client_ids` (further participants) and `therapist_id` (the therapist booked, when
    it is not the client's own), the kind of the session and each participant's share of the fee,
    as `rules.prepare_appointment` will save them when the fees are left empty.
    """
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
    booked = session.get(Therapist, therapist_id) if therapist_id is not None else therapist
    client_ids = [client_id, *(i for i in other_client_ids if i != client_id)]
    fee = booked.default_fee if booked else None
    currency = booked.default_currency if booked else None
    return BookingDefaults(
        client=client,
        therapist=therapist,
        fee=fee,
        currency=currency,
        linked=linked_clients(session, client_id=client_id),
        rooms=_site_rooms(session, booked),
        kind=session_kind(session, client_ids=client_ids),
        fees=shared_fees(fee, currency, len(client_ids)) if fee is not None else [],
    )


def bookable_therapist(session: Session, therapist_id: int | None) -> Therapist | None:
    """The therapist a booking asked for by id (a slot of the book), if they are active."""
    therapist = session.get(Therapist, therapist_id) if therapist_id is not None else None
    return therapist if therapist is not None and therapist.active else None


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


def kind_of_session(client_ids: Sequence[int], links: Iterable[tuple[int, int, LinkKind]]) -> AppointmentKind:
    """What a session of these clients is, from the links between them.

    One client: individual. Two partners: a couple. Clients all related through links, with a
    guardian, child or sibling among them (a couple and their child too): a family. Clients not
    all related (three strangers, two partners and a friend): a group.
    """
    members = set(client_ids)
    if len(members) <= 1:
        return AppointmentKind.INDIVIDUAL
    among = [(a, b, kind) for a, b, kind in links if a in members and b in members and a != b]
    # Joined through links (a small union-find): one family or couple, else a group.
    root = {member: member for member in members}

    def find(member: int) -> int:
        while root[member] != member:
            root[member] = root[root[member]]
            member = root[member]
        return member

    for a, b, _kind in among:
        root[find(a)] = find(b)
    if len({find(member) for member in members}) > 1:
        return AppointmentKind.GROUP
    partners = all(kind == LinkKind.PARTNER_OF for _a, _b, kind in among)
    return AppointmentKind.COUPLE if len(members) == 2 and partners else AppointmentKind.FAMILY


def session_kind(session: Session, *, client_ids: Sequence[int]) -> AppointmentKind:
    """`kind_of_session` with the links between these clients read in one query."""
    members = sorted(set(client_ids))
    if len(members) <= 1:
        return AppointmentKind.INDIVIDUAL
    links = session.execute(
        select(ClientLink.client_id, ClientLink.related_client_id, ClientLink.kind).where(
            ClientLink.client_id.in_(members), ClientLink.related_client_id.in_(members)
        )
    )
    return kind_of_session(members, [tuple(link) for link in links])
