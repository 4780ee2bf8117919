"""What the booking screens say about authorizations before anything is saved, and after.

Before: the form shows, per participant, who the session will be billed to (the client's active
payment source unless the staff chose) and what it does to the authorization the rule will pick
("3 of 10 left after this booking", or the warning that it goes beyond or that nothing covers the
date); a series shows it for each of its dates, counted in order as `linking.Linker` links them.
After: the warnings `linking.booking_notices` finds, as texts to flash. The rule itself stays in
`linking`; this module only asks it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from admin_app.models import Appointment, Authorization, Client, Participant, Payer
from admin_app.services.billing import linking


@dataclasses.dataclass(frozen=True)
class Bill:
    """Who a participant on the form is billed to: `payer_id`, or the client (None); while the staff
    have not chosen (`chosen` False), the client's active payment source decides."""

    client_id: int
    payer_id: int | None = None
    chosen: bool = False


@dataclasses.dataclass(frozen=True)
class Outlook:
    """One participant of a booking: the payer billed (None: the client pays) and, for a payer, the
    preview of the authorization the rule will use (None when the date is not known yet)."""

    payer: Payer | None
    preview: linking.Preview | None


def booking_outlooks(session: Session, *, bills: Sequence[Bill], starts_at: dt.datetime | None) -> list[Outlook]:
    """For each participant of the form, in order, the payer billed and its authorization preview."""
    outlooks = []
    for bill in bills:
        if bill.chosen:
            payer = session.get(Payer, bill.payer_id) if bill.payer_id is not None else None
        else:
            payer = linking.default_payer(session, bill.client_id)
        preview = None
        if payer is not None and starts_at is not None:
            preview = linking.preview(session, client_id=bill.client_id, payer_id=payer.id, starts_at=starts_at)
        outlooks.append(Outlook(payer, preview))
    return outlooks


@dataclasses.dataclass(frozen=True)
class DateOutlook:
    """One date of a series: the preview of each of its clients billed to a payer."""

    previews: list[linking.Preview]

    @property
    def beyond(self) -> bool:
        return any(preview.beyond for preview in self.previews)

    @property
    def refused(self) -> bool:
        return any(preview.refused for preview in self.previews)


def series_outlooks(session: Session, *, client_ids: Sequence[int], starts: Sequence[dt.datetime]) -> list[DateOutlook]:
    """For each start of a series (given in order), the preview of each of its clients billed to a
    payer (their payment source, as each occurrence will be), each date counting for the next one:
    the dates past what is approved read as beyond, and refused where the payer says so."""
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(client_ids)))}
    payers = {client_id: linking.default_payer(session, client_id) for client_id in client_ids}
    billed = [(client_id, payer) for client_id, payer in payers.items() if payer is not None]
    linker = linking.Linker(session, {(client_id, payer.id) for client_id, payer in billed})
    outlooks = []
    for starts_at in starts:
        day = linking.service_date(starts_at)
        previews = []
        for client_id, payer in billed:
            candidate = linker.pick(client_id, payer.id, day)
            if candidate is not None:
                linker.take(candidate, None)
            previews.append(linking.preview_of(candidate, payer=payer, client=clients[client_id].full_name, day=day))
        outlooks.append(DateOutlook(previews))
    return outlooks


def booking_warnings(session: Session, appointment_ids: Iterable[int]) -> list[str]:
    """What saved appointments leave beyond what is approved (or uncovered), to flash as warnings;
    a few queries whatever their number (a series)."""
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.id.in_(sorted(set(appointment_ids))))
        .order_by(Appointment.starts_at)
        .options(selectinload(Appointment.participants))
    ).all()
    return [notice.text for notice in linking.booking_notices(session, appointments)]


def participant_warnings(session: Session, participant: Participant) -> list[str]:
    """`booking_warnings` about one participant saved on its own screen."""
    return [notice.text for notice in linking.booking_notices(session, [participant.appointment], only=[participant])]


def authorization_choices(session: Session, participant: Participant) -> list[Authorization]:
    """The authorizations staff may choose for a participant: its client's, from the payer it is
    billed to, the latest first."""
    if participant.client_id is None or participant.payer_id is None:
        return []
    return list(
        session.scalars(
            select(Authorization)
            .where(Authorization.client_id == participant.client_id, Authorization.payer_id == participant.payer_id)
            .options(joinedload(Authorization.payer))
            .order_by(Authorization.valid_until.desc(), Authorization.id.desc())
        )
    )


def choose_authorization(participant: Participant, authorization: Authorization | None) -> None:
    """The staff's choice on the participant: an authorization (the rule leaves it alone; the
    booking rules check it belongs to the client and payer), or None to give the choice back to
    the rule, which picks again when the participant is saved."""
    participant.authorization = authorization
    participant.authorization_id = authorization.id if authorization is not None else None
    participant.authorization_chosen = authorization is not None
