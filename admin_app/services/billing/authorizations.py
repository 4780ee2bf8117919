"""Authorizations: how many approved sessions are scheduled, used, billed and left, and the status.

The counts are never stored or typed in: they are computed from the participants linked to each
authorization, in one SQL query for any number of authorizations (`counts_query`), so they are
right the moment an appointment is booked, cancelled or marked attended (DESIGN.md, "Money after
the session"). The status follows from the counts, the dates and what people said (an extension
was requested, it was closed), by `status_case`, the one place its order of precedence lives,
worked out by the database with the counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
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


def status_case(
    *,
    approved: ColumnElement[int],
    used: ColumnElement[int],
    scheduled: ColumnElement[int],
    valid_until: ColumnElement[dt.date],
    extension_requested: ColumnElement[bool],
    closed: ColumnElement[bool],
    today: dt.date,
    thresholds: tuple[int, int] | None = None,
) -> ColumnElement[str]:
    """The status, worked out by the database: the first that applies of closed, expired, extension
    requested, exhausted, low, active. The one place this order of precedence lives; in SQL, so a
    list of thousands gets its statuses with its counts (and can be filtered on them), not row by
    row in Python. `thresholds` are `low_thresholds()`."""
    low_sessions, expiry_days = thresholds or low_thresholds()
    low_by = today + dt.timedelta(days=expiry_days)
    return case(
        (closed, literal(AuthorizationStatus.CLOSED.value)),
        (valid_until < today, literal(AuthorizationStatus.EXPIRED.value)),
        (extension_requested, literal(AuthorizationStatus.EXTENSION_REQUESTED.value)),
        (used >= approved, literal(AuthorizationStatus.EXHAUSTED.value)),
        (
            or_(approved - used - scheduled <= low_sessions, valid_until <= low_by),
            literal(AuthorizationStatus.LOW.value),
        ),
        else_=literal(AuthorizationStatus.ACTIVE.value),
    )


def _linked_counts(conditions, excluding_participants: Iterable[int] = ()):
    """Per authorization meeting `conditions` (none: all), its linked participants counted once:
    expected, attended, missed and billed (held by a line of an issued invoice), grouped before
    any join, so a list of thousands costs what its bare SQL costs.

    The participants are narrowed by their authorization only: narrowing them by client as well
    makes PostgreSQL walk every linked participant in authorization order (a portal page of 50
    clients: 150 ms instead of 30 ms on the ten-year bench)."""
    # A charge is held by one line at most (a unique index), so the joins never count a participant
    # twice. Joined line by line, by that index: as a subquery of the issued lines, SQLite read every
    # issued line of the practice for a page of 50 authorizations.
    per_link = (
        select(
            Participant.authorization_id,
            func.count().filter(Participant.attendance == Attendance.EXPECTED).label("expected"),
            func.count().filter(Participant.attendance == Attendance.ATTENDED).label("attended"),
            func.count().filter(Participant.attendance.in_(MISSED)).label("missed"),
            func.count(Invoice.id).label("billed"),
        )
        .outerjoin(InvoiceLine, and_(InvoiceLine.participant_id == Participant.id, InvoiceLine.holds))
        .outerjoin(Invoice, and_(Invoice.id == InvoiceLine.invoice_id, Invoice.status == InvoiceStatus.ISSUED))
        .where(Participant.authorization_id.is_not(None))
    )
    if conditions:
        chosen = select(Authorization.id).where(*conditions)
        per_link = per_link.where(AmongSelected(Participant.authorization_id, chosen))
    excluded = tuple(excluding_participants)
    if excluded:
        per_link = per_link.where(Participant.id.not_in(excluded))
    return per_link.group_by(Participant.authorization_id).subquery()


def _count_columns(counted) -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    """(scheduled, used, billed) of a `_linked_counts` row, `Payer` joined (missed sessions are
    used where the payer counts them)."""
    missed = case((Payer.counts_missed_sessions.is_(True), func.coalesce(counted.c.missed, 0)), else_=0)
    return (
        func.coalesce(counted.c.expected, 0),
        func.coalesce(counted.c.attended, 0) + missed,
        func.coalesce(counted.c.billed, 0),
    )


def counts_query(
    *conditions: ColumnElement[bool],
    excluding_participants: Iterable[int] = (),
) -> Select:
    """(authorization id, scheduled, used, billed) for the authorizations meeting `conditions` (on
    `Authorization`; none: all), in one query (`_linked_counts`).

    `excluding_participants`: leave these out of the counts (the participants a batch is about to
    link again, so they are not counted twice)."""
    counted = _linked_counts(conditions, excluding_participants)
    scheduled, used, billed = _count_columns(counted)
    return (
        select(
            Authorization.id.label("authorization_id"),
            scheduled.label("scheduled"),
            used.label("used"),
            billed.label("billed"),
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
    return [_row(result) for result in session.execute(_rows_query(conditions, today))]


def _rows_query(conditions: list[ColumnElement[bool]], today: dt.date) -> Select:
    """The authorizations meeting `conditions` with their client, payer, counts and status (columns
    in `AuthorizationRow`'s order), by client, then end date."""
    counted = _linked_counts(conditions)
    scheduled, used, billed = _count_columns(counted)
    status = status_case(
        approved=Authorization.approved_sessions,
        used=used,
        scheduled=scheduled,
        valid_until=Authorization.valid_until,
        extension_requested=Authorization.extension_requested_at.is_not(None),
        closed=Authorization.closed_at.is_not(None),
        today=today,
    )
    return (
        select(
            Authorization.id,
            Authorization.payer_id,
            Payer.name,
            Authorization.client_id,
            Client.full_name,
            Client.client_number,
            Client.national_id,
            Authorization.reference,
            Authorization.valid_from,
            Authorization.valid_until,
            Authorization.therapist_id,
            Authorization.approved_sessions,
            scheduled.label("scheduled"),
            used.label("used"),
            billed.label("billed"),
            status.label("status"),
        )
        .join(Payer, Payer.id == Authorization.payer_id)
        .join(Client, Client.id == Authorization.client_id)
        .outerjoin(counted, counted.c.authorization_id == Authorization.id)
        .where(*conditions)
        .order_by(Client.full_name, Client.id, Authorization.valid_until, Authorization.id)
    )


def with_status(status: str, *, today: dt.date | None = None) -> Select:
    """The ids of the authorizations in this status today (clinic date): the status is no stored
    column (it follows from today and the counts), so this selects it by `status_case`."""
    rows = _rows_query([], today or clinic_time.today()).order_by(None).subquery()
    return select(rows.c.id).where(rows.c.status == status)


_STATUSES = {status.value: status for status in AuthorizationStatus}


def _row(values) -> AuthorizationRow:
    *record, approved, scheduled, used, billed, status = values
    return AuthorizationRow(*record, Counts(approved, scheduled, used, billed), _STATUSES[status])
