"""Authorizations: how many approved sessions are scheduled, used, billed and left, and the status.

The counts are never stored or typed in: they are computed from the participants linked to each
authorization, in one SQL query for any number of authorizations (`counts_query`), so they are
right the moment an appointment is booked, cancelled or marked attended (DESIGN.md, "Money after
the session"). The status follows from the counts, the dates and what people said (an extension
was requested, it was closed), by `status_of`, the one place its order of precedence lives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from admin_app.models import Attendance, Authorization, Client, Invoice, InvoiceLine, InvoiceStatus, Participant, Payer
from admin_app.services.platform import clinic_time
from admin_app.services.platform.id_lists import AmongSelected, among


class AuthorizationStatus(enum.StrEnum):
    ACTIVE = "active"
    LOW = "low"
    EXTENSION_REQUESTED = "extension_requested"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    CLOSED = "closed"


MISSED = (Attendance.LATE_CANCELLED, Attendance.NO_SHOW)


# The rows of a list are built by the thousand (every authorization of a network: 22,000): plain
# slotted dataclasses, which build in a third of a frozen one's time; nothing changes them.
@dataclasses.dataclass(slots=True)
class Counts:
    approved: int
    scheduled: int  # linked participants still expected
    used: int  # attended (and missed, where the payer counts missed sessions)
    billed: int  # linked charges on an issued, not void, invoice

    @property
    def remaining(self) -> int:
        return self.approved - self.used - self.scheduled


@dataclasses.dataclass(slots=True)
class AuthorizationRow:
    """One authorization with its counts and status, as every list, report and alert shows it."""

    id: int
    payer_id: int
    payer: str
    client_id: int
    client: str
    client_number: str | None
    client_national_id: str | None
    reference: str
    valid_from: dt.date
    valid_until: dt.date
    therapist_id: int | None
    counts: Counts
    status: AuthorizationStatus

    @property
    def approved(self) -> int:
        return self.counts.approved

    @property
    def remaining(self) -> int:
        return self.counts.remaining


def low_thresholds() -> tuple[int, int]:
    """(sessions left, days left): at or under either, a running authorization is low."""
    return current_app.config["AUTHORIZATION_LOW_SESSIONS"], current_app.config["AUTHORIZATION_EXPIRY_DAYS"]


def status_of(
    *,
    counts: Counts,
    valid_until: dt.date,
    extension_requested: bool,
    closed: bool,
    today: dt.date,
    thresholds: tuple[int, int] | None = None,
) -> AuthorizationStatus:
    """The first that applies of: closed, expired, extension requested, exhausted, low, active.
    `thresholds` are `low_thresholds()`, read once by a caller that asks for many rows."""
    if closed:
        return AuthorizationStatus.CLOSED
    if today > valid_until:
        return AuthorizationStatus.EXPIRED
    if extension_requested:
        return AuthorizationStatus.EXTENSION_REQUESTED
    if counts.used >= counts.approved:
        return AuthorizationStatus.EXHAUSTED
    low_sessions, expiry_days = thresholds or low_thresholds()
    if counts.remaining <= low_sessions or (valid_until - today).days <= expiry_days:
        return AuthorizationStatus.LOW
    return AuthorizationStatus.ACTIVE


def counts_query(
    *conditions: ColumnElement[bool],
    excluding_participants: Iterable[int] = (),
) -> Select:
    """(authorization id, scheduled, used, billed) for the authorizations meeting `conditions` (on
    `Authorization`; none: all), in one query: the linked participants are counted per authorization
    first, then joined, so a list of thousands costs what its bare SQL costs.

    `excluding_participants`: leave these out of the counts (the participants a batch is about to
    link again, so they are not counted twice). The participants are narrowed by their authorization
    only: narrowing them by client as well makes PostgreSQL walk every linked participant in
    authorization order (a portal page of 50 clients: 150 ms instead of 30 ms on the ten-year bench).
    """
    billed = (
        select(InvoiceLine.participant_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.holds, Invoice.status == InvoiceStatus.ISSUED)
        .subquery()
    )  # a charge is held by one line at most, so the join never counts a participant twice
    per_link = (
        select(
            Participant.authorization_id,
            func.sum(case((Participant.attendance == Attendance.EXPECTED, 1), else_=0)).label("expected"),
            func.sum(case((Participant.attendance == Attendance.ATTENDED, 1), else_=0)).label("attended"),
            func.sum(case((Participant.attendance.in_(MISSED), 1), else_=0)).label("missed"),
            func.count(billed.c.participant_id).label("billed"),
        )
        .outerjoin(billed, billed.c.participant_id == Participant.id)
        .where(Participant.authorization_id.is_not(None))
    )
    if conditions:
        chosen = select(Authorization.id).where(*conditions)
        per_link = per_link.where(AmongSelected(Participant.authorization_id, chosen))
    excluded = tuple(excluding_participants)
    if excluded:
        per_link = per_link.where(Participant.id.not_in(excluded))
    counted = per_link.group_by(Participant.authorization_id).subquery()
    missed = case((Payer.counts_missed_sessions.is_(True), func.coalesce(counted.c.missed, 0)), else_=0)
    return (
        select(
            Authorization.id.label("authorization_id"),
            func.coalesce(counted.c.expected, 0).label("scheduled"),
            (func.coalesce(counted.c.attended, 0) + missed).label("used"),
            func.coalesce(counted.c.billed, 0).label("billed"),
        )
        .join(Payer, Payer.id == Authorization.payer_id)
        .outerjoin(counted, counted.c.authorization_id == Authorization.id)
        .where(*conditions)
    )


def authorization_rows(
    session: Session,
    *,
    ids: Iterable[int] | None = None,
    client_id: int | None = None,
    client_ids: Iterable[int] | None = None,
    therapist_client_ids: Select | None = None,
    today: dt.date | None = None,
    running: bool = False,
) -> list[AuthorizationRow]:
    """Authorizations with their counts and status, in one query, ordered by client, then end date.

    `ids` / `client_id` / `client_ids` narrow the list; `therapist_client_ids` (a select of client ids) limits it to
    the clients a therapist cares for. `today` (clinic date) sets the day the status is read on.
    `running`: only those neither closed, expired nor waiting for an extension (the only ones that can
    be low, exhausted or active), so the participants of the others are not counted at all.
    """
    today = today or clinic_time.today()
    conditions = []
    if running:
        conditions += [
            Authorization.closed_at.is_(None),
            Authorization.valid_until >= today,
            Authorization.extension_requested_at.is_(None),
        ]
    if ids is not None:
        conditions.append(Authorization.id.in_(sorted(set(ids))))
    if client_id is not None:
        conditions.append(Authorization.client_id == client_id)
    clients = sorted(set(client_ids)) if client_ids is not None else None
    if clients is not None:
        conditions.append(among(Authorization.client_id, clients))
    if therapist_client_ids is not None:
        conditions.append(Authorization.client_id.in_(therapist_client_ids))
    counted = counts_query(*conditions).subquery()
    query = (
        select(
            Authorization.id,
            Authorization.payer_id,
            Authorization.client_id,
            Authorization.reference,
            Authorization.approved_sessions,
            Authorization.valid_from,
            Authorization.valid_until,
            Authorization.therapist_id,
            Authorization.extension_requested_at,
            Authorization.closed_at,
            Payer.name.label("payer_name"),
            Client.full_name,
            Client.client_number,
            Client.national_id,
            counted.c.scheduled,
            counted.c.used,
            counted.c.billed,
        )
        .join(Payer, Payer.id == Authorization.payer_id)
        .join(Client, Client.id == Authorization.client_id)
        .join(counted, counted.c.authorization_id == Authorization.id)
        .order_by(Client.full_name, Client.id, Authorization.valid_until, Authorization.id)
    )
    thresholds = low_thresholds()
    return [_row(result, today, thresholds) for result in session.execute(query)]


def ids_with_status(session: Session, status: str, *, today: dt.date | None = None) -> list[int]:
    """The authorizations in this status: read by `status_of` over one query of them all (the
    status depends on today and the counts, so it is not a stored column to filter on)."""
    return [row.id for row in authorization_rows(session, today=today) if row.status == status]


def _row(authorization, today: dt.date, thresholds: tuple[int, int]) -> AuthorizationRow:
    counts = Counts(
        approved=authorization.approved_sessions,
        scheduled=authorization.scheduled,
        used=authorization.used,
        billed=authorization.billed,
    )
    return AuthorizationRow(
        id=authorization.id,
        payer_id=authorization.payer_id,
        payer=authorization.payer_name,
        client_id=authorization.client_id,
        client=authorization.full_name,
        client_number=authorization.client_number,
        client_national_id=authorization.national_id,
        reference=authorization.reference,
        valid_from=authorization.valid_from,
        valid_until=authorization.valid_until,
        therapist_id=authorization.therapist_id,
        counts=counts,
        status=status_of(
            counts=counts,
            valid_until=authorization.valid_until,
            extension_requested=authorization.extension_requested_at is not None,
            closed=authorization.closed_at is not None,
            today=today,
            thresholds=thresholds,
        ),
    )
