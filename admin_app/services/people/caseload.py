"""Every therapist's caseload at a glance: their clients, who pays, where the current authorization
stands, when the client was last and will next be seen, and a colour for what needs the staff.

A client is listed under each therapist who has a care assignment of them, direct or indirect,
active or deactivated. The figures come from their owners, never worked out again here: the
authorization counts and status from `billing.authorizations.authorization_rows`, the current one by
the linking rule (`billing.linking.pick_among`), the unpaid sessions from the ledger
(`billing.ledger.charge_positions_query`). The whole tab is five statements however many therapists
and clients it shows: the assignments, the payment sources, the authorizations, the unpaid sessions
per client and the last and next appointment per therapist and client.

Colour (issue 17): **red** when one of the client's authorizations is low or expiring (status LOW), or
when a self-paying client has more than one unpaid session; **pink** when one has an extension requested
(status EXTENSION_REQUESTED). Red wins over pink: red needs the staff to act now (ask for an extension,
chase a payment), pink only waits for the payer's answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    AssignmentKind,
    Attendance,
    BilledTo,
    CareAssignment,
    Client,
    Participant,
    Payer,
    PaymentSource,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.billing.authorizations import AuthorizationRow, AuthorizationStatus, authorization_rows
from admin_app.services.billing.charges import missed_session_percent
from admin_app.services.billing.ledger import charge_positions_query
from admin_app.services.billing.linking import pick_among
from admin_app.services.platform import clinic_time
from admin_app.services.platform.collector import collector_paused
from admin_app.services.platform.id_lists import among, ids_parameter


class TherapistStatus(enum.StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class Colour(enum.StrEnum):
    RED = "red"
    PINK = "pink"
    NONE = "none"


class Reason(enum.StrEnum):
    """Why a client has their colour (the badge says it: colour alone is not accessible)."""

    AUTHORIZATION_LOW = "authorization_low"  # red
    UNPAID_SESSIONS = "unpaid_sessions"  # red: self-paying, more than one session unpaid
    EXTENSION_REQUESTED = "extension_requested"  # pink


RED_REASONS = (Reason.AUTHORIZATION_LOW, Reason.UNPAID_SESSIONS)


@dataclasses.dataclass(slots=True)
class CaseloadClient:
    """One client in one therapist's caseload (built by the thousand: slotted, not frozen, which
    builds in a third of the time; nothing changes it)."""

    client_id: int
    client: str
    client_number: str
    client_active: bool
    kind: AssignmentKind
    assignment_active: bool
    deactivated_on: dt.date | None
    payers: tuple[str, ...]  # the payers of the client's active payment sources
    self_pay: bool  # an active self-pay source, or no active source with a payer
    authorization: AuthorizationRow | None  # the current one (see `current_authorization`)
    unpaid_sessions: int  # charges billed to the client with something still open
    last_appointment: dt.datetime | None  # the latest past start with this therapist, not cancelled
    next_appointment: dt.datetime | None  # the earliest future start with this therapist, not cancelled
    reasons: tuple[Reason, ...]
    colour: Colour  # `colour_of(reasons)`


def colour_of(reasons: Iterable[Reason]) -> Colour:
    """Red when a reason needs the staff now, else pink when one waits for the payer, else none."""
    if any(reason in RED_REASONS for reason in reasons):
        return Colour.RED
    return Colour.PINK if Reason.EXTENSION_REQUESTED in reasons else Colour.NONE


@dataclasses.dataclass(frozen=True, slots=True)
class _ClientFacts:
    """What a caseload line says of the client, the same under each of their therapists (and shared
    by the clients alike: `_facts_without_authorization`)."""

    payers: tuple[str, ...]
    self_pay: bool
    authorization: AuthorizationRow | None
    unpaid_sessions: int
    reasons: tuple[Reason, ...]
    colour: Colour


@dataclasses.dataclass(frozen=True)
class TherapistCaseload:
    """A therapist and the clients shown (those of the colour asked for); the counts are of all their clients."""

    therapist_id: int
    therapist: str
    active: bool
    clients: list[CaseloadClient]
    client_count: int
    red_count: int
    pink_count: int


@dataclasses.dataclass
class _Source:
    payers: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (payer id, name) by source id
    default_payer_id: int | None = None  # what a booking today is billed to (`linking.default_payer`)
    self_pay_source: bool = False

    @property
    def payers_shown(self) -> tuple[str, ...]:
        return tuple(name for _id, name in self.payers)

    @property
    def self_pay(self) -> bool:
        """Paid by the client: a self-pay source, or no payer at all."""
        return self.self_pay_source or not self.payers


_NO_SOURCE = _Source()  # a client without an active payment source (never changed: `_sources` makes its own)


def caseloads(
    session: Session,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    therapist_status: TherapistStatus | str | None = None,
    colour: Colour | str | None = None,
    therapist_ids: Iterable[int] | None = None,
) -> list[TherapistCaseload]:
    """Every therapist (or the active or deactivated ones, or those of `therapist_ids`: a page of them)
    with their clients, by name, in five statements whatever their number. `colour` keeps the clients
    of that colour, and the therapists who have one. `now` (default the clock) splits last from next
    appointment; `today` (default the clinic's date now) is the day authorizations are read on."""
    now = now or utcnow()
    today = today or clinic_time.to_local(now).date()
    chosen = _therapist_conditions(therapist_status, therapist_ids)
    with collector_paused():  # every therapist's: 88,000 lines in a network of 200
        return _caseloads(session, chosen, colour, today=today, now=now)


def _caseloads(
    session: Session, chosen: list[ColumnElement], colour: Colour | str | None, *, today: dt.date, now: dt.datetime
) -> list[TherapistCaseload]:
    rows = session.execute(_assignments(chosen)).all()
    lines = _lines(session, rows, chosen, today=today, now=now)

    result: list[TherapistCaseload] = []
    for therapist_key, group in _by_therapist(rows):
        first = group[0]
        mine = [lines[therapist_key, row.client_id] for row in group if row.client_id is not None]
        shown = [line for line in mine if colour is None or line.colour == colour]
        if colour is not None and not shown:
            continue
        result.append(
            TherapistCaseload(
                therapist_id=therapist_key,
                therapist=first.therapist,
                active=first.therapist_active,
                clients=shown,
                client_count=len(mine),
                red_count=sum(line.colour == Colour.RED for line in mine),
                pink_count=sum(line.colour == Colour.PINK for line in mine),
            )
        )
    return result


def therapist_clients(
    session: Session,
    therapist_id: int,
    client_ids: Iterable[int] | None = None,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict[int, CaseloadClient]:
    """One therapist's caseload lines, by client id: those of `client_ids` (a page of the portal's
    *My clients*), or all of them. The same five statements and figures as `caseloads`, so the
    portal colours a client exactly as the staff's tab does; a client the therapist has no care
    assignment of has no line."""
    now = now or utcnow()
    today = today or clinic_time.to_local(now).date()
    chosen = [Therapist.id == therapist_id]
    query = _assignments(chosen)
    if client_ids is not None:
        client_ids = sorted(set(client_ids))
        if not client_ids:
            return {}
        query = query.where(Client.id.in_(client_ids))
    rows = session.execute(query).all()
    return {
        client_id: line for (_therapist, client_id), line in _lines(session, rows, chosen, today=today, now=now).items()
    }


def _assignments(chosen: list[ColumnElement]):
    """The first statement: the chosen therapists and their care assignments, by name (its columns
    in the order `_line` unpacks them)."""
    return (
        select(
            Therapist.id.label("therapist_id"),
            Therapist.full_name.label("therapist"),
            Therapist.active.label("therapist_active"),
            CareAssignment.kind,
            CareAssignment.active.label("assignment_active"),
            CareAssignment.deactivated_on,
            Client.id.label("client_id"),
            Client.full_name.label("client"),
            Client.client_number,
            Client.active.label("client_active"),
        )
        .outerjoin(CareAssignment, CareAssignment.therapist_id == Therapist.id)
        .outerjoin(Client, Client.id == CareAssignment.client_id)
        .where(*chosen)
        .order_by(Therapist.full_name, Therapist.id, Client.full_name, Client.id)
    )


def _lines(
    session: Session, rows, chosen: list[ColumnElement], *, today: dt.date, now: dt.datetime
) -> dict[tuple[int, int], CaseloadClient]:
    """The other four statements: each (therapist, client) line of the assignment rows with its
    payment sources, authorizations, unpaid sessions and last and next appointment."""
    # Some therapists' clients as a list of ids (not a subquery): the database reads each figure by
    # index. Every therapist's are (nearly) every client: no list, each figure read whole (a list of
    # a network's 88,000 clients, written into four statements, made them slower than reading all).
    assigned = sorted({row.client_id for row in rows if row.client_id is not None}) if chosen else None
    sources = _sources(session, assigned)
    authorizations: dict[int, list[AuthorizationRow]] = defaultdict(list)
    for row in authorization_rows(session, client_ids=assigned, today=today):
        authorizations[row.client_id].append(row)
    self_paying = None if assigned is None else [id_ for id_ in assigned if sources.get(id_, _NO_SOURCE).self_pay]
    unpaid = {
        client_id: count
        for client_id, count in _unpaid_sessions(session, self_paying).items()
        if sources.get(client_id, _NO_SOURCE).self_pay
    }
    seen = _appointments(session, assigned, chosen, now)
    facts: dict[int, _ClientFacts] = {}
    lines = {}
    for row in rows:
        client_id = row.client_id
        if client_id is None:
            continue
        client = facts.get(client_id)
        if client is None:
            source = sources.get(client_id, _NO_SOURCE)
            client = facts[client_id] = _facts(
                source, authorizations.get(client_id, ()), unpaid.get(client_id, 0), today
            )
        lines[row.therapist_id, client_id] = _line(row, client, seen.get((row.therapist_id, client_id), _NEVER))
    return lines


def current_authorization(
    rows: list[AuthorizationRow], default_payer_id: int | None, today: dt.date
) -> AuthorizationRow | None:
    """Among the client's authorizations that are not closed (`rows` by `valid_until`), the one the
    linking rule would pick for a session today billed to the client's default payer; else the latest
    by `valid_until` (an expired one, or one of another payer), so the tab still shows where it ended."""
    open_rows = [row for row in rows if row.status != AuthorizationStatus.CLOSED]
    picked = pick_among([row for row in open_rows if row.payer_id == default_payer_id], today)
    return picked or max(open_rows, key=lambda row: (row.valid_until, row.id), default=None)


def _therapist_conditions(status: TherapistStatus | str | None, ids: Iterable[int] | None) -> list[ColumnElement]:
    conditions = []
    if status is not None:
        conditions.append(Therapist.active.is_(TherapistStatus(status) == TherapistStatus.ACTIVE))
    if ids is not None:
        conditions.append(Therapist.id.in_(sorted(set(ids))))
    return conditions


def _sources(session: Session, assigned: list[int] | None) -> dict[int, _Source]:
    """Each client's active payment sources, oldest first (those of `assigned`, or all)."""
    sources: dict[int, _Source] = {}
    query = (
        select(PaymentSource.client_id, PaymentSource.payer_id, Payer.name, Payer.active)
        .outerjoin(Payer, Payer.id == PaymentSource.payer_id)
        .where(PaymentSource.active.is_(True))
        .order_by(PaymentSource.id)
    )
    if assigned is not None:
        query = query.where(among(PaymentSource.client_id, assigned))
    rows = session.execute(query)
    for client_id, payer_id, name, payer_active in rows:
        source = sources.setdefault(client_id, _Source())
        if payer_id is None:
            source.self_pay_source = True
            continue
        source.payers.append((payer_id, name))
        if payer_active and source.default_payer_id is None:
            source.default_payer_id = payer_id
    return sources


def _unpaid_sessions(session: Session, self_paying: list[int] | None) -> dict[int, int]:
    """Per client (of `self_paying`, or every one), the charges billed to the client that are still
    open, read from the ledger in one grouped statement (its allocations and invoice lines narrowed
    to these clients)."""
    if self_paying is None:
        return dict(session.execute(_unpaid_query(missed_session_percent(), some=False)).all())
    if not self_paying:
        return {}
    return dict(session.execute(_unpaid_query(missed_session_percent(), some=True), {"clients": self_paying}).all())


@functools.lru_cache(maxsize=8)
def _unpaid_query(missed_percent: Decimal, *, some: bool) -> Select:
    """The unpaid sessions' statement, built once per setting with the clients a parameter: building
    the ledger's positions took about 4 ms, three times what SQLite takes to run it for a page of 50
    clients (the portal's *My clients*)."""
    clients = ids_parameter("clients") if some else None
    positions = charge_positions_query(missed_percent=missed_percent, billed_to=BilledTo.CLIENT, client_ids=clients)
    positions = positions.order_by(None).subquery()
    return select(positions.c.client_id, func.count()).where(positions.c.open_cents > 0).group_by(positions.c.client_id)


def _appointments(
    session: Session, assigned: list[int] | None, chosen: list[ColumnElement], now: dt.datetime
) -> dict[tuple[int, int], tuple[dt.datetime | None, dt.datetime | None]]:
    """(therapist, client) → (last, next) start, in one grouped statement. A session cancelled in time
    is neither (the client was not seen, and will not be); a no-show or a late cancellation is the last
    appointment, since it was booked and missed."""
    booked = Appointment.status != AppointmentStatus.CANCELLED
    held = and_(booked, Participant.attendance != Attendance.CANCELLED)
    coming = and_(booked, Participant.attendance == Attendance.EXPECTED)
    last = func.max(Appointment.starts_at).filter(held, Appointment.starts_at < now)
    upcoming = func.min(Appointment.starts_at).filter(coming, Appointment.starts_at >= now)
    query = (
        select(Appointment.therapist_id, Participant.client_id, last, upcoming)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .group_by(Appointment.therapist_id, Participant.client_id)
    )
    if assigned is not None:
        query = query.where(
            among(Participant.client_id, assigned), Appointment.therapist_id.in_(select(Therapist.id).where(*chosen))
        )
    rows = session.execute(query)
    return {(therapist, client): (_instant(first), _instant(then)) for therapist, client, first, then in rows}


def _instant(value) -> dt.datetime | None:
    """A start out of MAX/MIN of a CASE: SQLite hands it back as text, naive, in UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _by_therapist(rows):
    groups: dict[int, list] = {}
    for row in rows:
        groups.setdefault(row.therapist_id, []).append(row)
    return groups.items()


_NEVER = (None, None)  # no appointment with this therapist: neither last nor next
_KINDS = {kind.value: kind for kind in AssignmentKind}


def _facts(source: _Source, rows: Sequence[AuthorizationRow], unpaid_sessions: int, today: dt.date) -> _ClientFacts:
    if not rows:
        return _facts_without_authorization(source.payers_shown, source.self_pay, unpaid_sessions)
    self_pay = source.self_pay
    statuses = {authorization.status for authorization in rows}
    reasons = []
    if AuthorizationStatus.LOW in statuses:
        reasons.append(Reason.AUTHORIZATION_LOW)
    if self_pay and unpaid_sessions > 1:
        reasons.append(Reason.UNPAID_SESSIONS)
    if AuthorizationStatus.EXTENSION_REQUESTED in statuses:
        reasons.append(Reason.EXTENSION_REQUESTED)
    return _ClientFacts(
        payers=source.payers_shown,
        self_pay=self_pay,
        authorization=current_authorization(rows, source.default_payer_id, today),
        unpaid_sessions=unpaid_sessions,
        reasons=tuple(reasons),
        colour=colour_of(reasons),
    )


@functools.lru_cache(maxsize=1024)
def _facts_without_authorization(payers: tuple[str, ...], self_pay: bool, unpaid_sessions: int) -> _ClientFacts:
    """Most clients have no authorization: their facts follow from who pays and the unpaid count,
    and the many alike share one (a caseload builds them by the thousand)."""
    reasons = (Reason.UNPAID_SESSIONS,) if self_pay and unpaid_sessions > 1 else ()
    return _ClientFacts(payers, self_pay, None, unpaid_sessions, reasons, colour_of(reasons))


def _line(row, client: _ClientFacts, seen: tuple[dt.datetime | None, dt.datetime | None]) -> CaseloadClient:
    _therapist, _name, _active, kind, assignment_active, deactivated_on, client_id, name, number, client_active = row
    return CaseloadClient(
        client_id,
        name,
        number,
        client_active,
        _KINDS[kind],
        assignment_active,
        deactivated_on,
        client.payers,
        client.self_pay,
        client.authorization,
        client.unpaid_sessions,
        *seen,
        client.reasons,
        client.colour,
    )
