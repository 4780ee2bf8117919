"""Charges: what a participant of a session owes, and who is billed (DESIGN.md, "Money after the session").

Each participant gives at most one charge:
- attended: the participant's fee, billed to its bill-to (the client, or a payer); a free session
  (fee 0) gives a charge of 0, so an invoice or a receipt can still list that date of service;
- late-cancelled or no-show: `MISSED_SESSION_FEE_PERCENT` of the fee, rounded half-up to the
  currency's smallest unit, billed to the client always, never to a payer; a missed-session
  amount of 0 (the default 0 %, or a fee too small) is no charge at all;
- cancelled in time, or still expected: nothing.

The rule lives here twice, kept in step by the tests: `charge_of` for one participant in Python,
and `charges_query` in SQL for lists and totals (one row per charge, one statement for any
number). SQL works in whole cents, because SQLite's ROUND works on binary floats.

A charge's date of service is the local date of the appointment's start. SQLite has no time-zone
data, so the query returns the start instant (`starts_at`) and filters on the UTC range between
local midnights; `ChargeLine.date_of_service` converts it with `clinic_time.to_local`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from flask import current_app
from sqlalchemy import BindParameter, ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, Attendance, BilledTo, Participant
from admin_app.services.billing.authorizations import MISSED
from admin_app.services.platform import clinic_time
from admin_app.services.platform.id_lists import among
from admin_app.services.platform.money import cents_sql, from_cents, percent_cents_sql, round_amount, step_cents_sql


@dataclasses.dataclass(frozen=True)
class Charge:
    """One participant's charge: the amount in its currency and who is billed for it."""

    amount: Decimal
    currency: str
    billed_to: BilledTo
    payer_id: int | None  # set only when billed to a payer


@dataclasses.dataclass(frozen=True)
class ChargeLine:
    """A row of `charges_query`, as lists and documents use it."""

    participant_id: int
    appointment_id: int
    client_id: int
    therapist_id: int
    starts_at: dt.datetime
    amount: Decimal
    currency: str
    billed_to: BilledTo
    payer_id: int | None

    @property
    def date_of_service(self) -> dt.date:
        return clinic_time.to_local(self.starts_at).date()


def missed_session_percent() -> Decimal:
    """The practice's `MISSED_SESSION_FEE_PERCENT` (0 to 100)."""
    return current_app.config["MISSED_SESSION_FEE_PERCENT"]


def charge_of(participant: Participant, missed_percent: Decimal) -> Charge | None:
    """The participant's charge under the rule, or None when it gives none."""
    if participant.attendance == Attendance.ATTENDED:
        to_payer = participant.billed_to == BilledTo.PAYER
        return Charge(
            amount=Decimal(participant.fee),
            currency=participant.currency,
            billed_to=participant.billed_to,
            payer_id=participant.payer_id if to_payer else None,
        )
    if participant.attendance in MISSED:
        amount = round_amount(Decimal(participant.fee) * Decimal(missed_percent) / 100, participant.currency)
        if amount:
            return Charge(amount=amount, currency=participant.currency, billed_to=BilledTo.CLIENT, payer_id=None)
    return None


def charged_to_sql() -> ColumnElement[str]:
    """Who a participant's charge is billed to: their bill-to when they attended, else the client (a
    missed-session fee)."""
    return case((Participant.attendance == Attendance.ATTENDED, Participant.billed_to), else_=BilledTo.CLIENT)


def starts_in(since: dt.date | None, until: dt.date | None) -> list[ColumnElement[bool]]:
    """The appointment's start within the local dates `since` to `until` (both included; None: open)."""
    conditions = []
    if since is not None:
        conditions.append(Appointment.starts_at >= clinic_time.day_start(since))
    if until is not None:
        conditions.append(Appointment.starts_at < clinic_time.day_start(until + dt.timedelta(days=1)))
    return conditions


def charges_query(
    missed_percent: Decimal,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    before: dt.datetime | BindParameter | None = None,
    therapist_id: int | None = None,
    payer_id: int | None = None,
    billed_to: BilledTo | None = None,
    client_id: int | None = None,
    client_ids: Sequence[int] | BindParameter | None = None,
) -> Select:
    """One row per charge: participant_id, appointment_id, client_id, therapist_id, starts_at,
    amount_cents, currency, billed_to, payer_id (None when billed to the client), bill_to_id (the
    payer's or the client's id), by start.

    `since`/`until` are local dates of service, both included; `before` an instant (or a bound
    parameter: a statement built once for any month), the start excluded; `payer_id` keeps the
    charges billed to that payer (so never a missed-session fee); `billed_to` keeps one kind of
    bill-to; `client_ids` keeps those clients' charges (a list, so the database reads them by index).
    """
    amount = _amount_cents(missed_percent)
    # With no missed-session fee only attended participants give a charge (`_gives_a_charge`): the
    # participant's own bill-to, with no CASE to work out per row.
    charged_to = charged_to_sql() if missed_percent else Participant.billed_to
    charged_payer = case(
        (
            and_(Participant.attendance == Attendance.ATTENDED, Participant.billed_to == BilledTo.PAYER),
            Participant.payer_id,
        ),
        else_=None,
    )
    rows = (
        select(
            Participant.id.label("participant_id"),
            Participant.appointment_id,
            Participant.client_id,
            Appointment.therapist_id,
            Appointment.starts_at,
            amount.label("amount_cents"),
            Participant.currency,
            charged_to.label("billed_to"),
            charged_payer.label("payer_id"),
            func.coalesce(charged_payer, Participant.client_id).label("bill_to_id"),
        )
        # Every participant has its appointment: an outer join reads the same rows, and lets
        # PostgreSQL leave the appointment out of a statement that uses none of its columns
        # (a count of open charges per client).
        .outerjoin(Appointment, Appointment.id == Participant.appointment_id)
        .where(_gives_a_charge(amount, missed_percent))
        .order_by(Appointment.starts_at, Participant.id)
    )
    rows = rows.where(*starts_in(since, until))
    if before is not None:
        rows = rows.where(Appointment.starts_at < before)
    if therapist_id is not None:
        rows = rows.where(Appointment.therapist_id == therapist_id)
    if payer_id is not None:
        rows = rows.where(charged_payer == payer_id)
    if billed_to is not None:
        rows = rows.where(_charged_to(billed_to, missed_percent))
    if client_id is not None:
        rows = rows.where(Participant.client_id == client_id)
    if client_ids is not None:
        rows = rows.where(among(Participant.client_id, client_ids))
    return rows


def charge_lines(session: Session, missed_percent: Decimal, **filters) -> list[ChargeLine]:
    """The charges `charges_query` selects with these filters, in one statement."""
    return [
        ChargeLine(
            participant_id=row.participant_id,
            appointment_id=row.appointment_id,
            client_id=row.client_id,
            therapist_id=row.therapist_id,
            starts_at=row.starts_at,
            amount=from_cents(row.amount_cents),
            currency=row.currency,
            billed_to=BilledTo(row.billed_to),
            payer_id=row.payer_id,
        )
        for row in session.execute(charges_query(missed_percent, **filters))
    ]


def charge_totals(session: Session, missed_percent: Decimal, **filters) -> dict[str, Decimal]:
    """The total of the filtered charges per currency (one statement); currencies are never added."""
    charges = charges_query(missed_percent, **filters).order_by(None).subquery()
    totals = session.execute(
        select(charges.c.currency, func.sum(charges.c.amount_cents))
        .group_by(charges.c.currency)
        .order_by(charges.c.currency)
    )
    return {currency: from_cents(cents) for currency, cents in totals}


def _amount_cents(missed_percent: Decimal) -> ColumnElement[int]:
    """The charge's amount in whole cents: the fee when attended, else the missed-session share,
    rounded half-up to the currency's smallest unit in integer arithmetic (as `round_amount`)."""
    fee_cents = cents_sql(Participant.fee)
    if not missed_percent:
        return fee_cents  # only attended participants give a charge (`_gives_a_charge`)
    percent_hundredths = int(Decimal(missed_percent) * 100)
    missed = percent_cents_sql(fee_cents, percent_hundredths, step_cents_sql(Participant.currency))
    return case((Participant.attendance == Attendance.ATTENDED, fee_cents), else_=missed)


def _charged_to(billed_to: BilledTo, missed_percent: Decimal) -> ColumnElement[bool]:
    """The charges billed to this kind of bill-to, as `charged_to == billed_to` in `charges_query`
    but on the columns themselves: PostgreSQL estimates an equality on a CASE at a fraction of a
    percent, so a caseload's self-paying charges (tens of thousands) were planned as a few hundred
    and read by a nested loop per charge (2.3 s instead of some 200 ms on the 30 x 36 bench)."""
    attended = Participant.attendance == Attendance.ATTENDED
    if BilledTo(billed_to) == BilledTo.PAYER:
        return and_(attended, Participant.billed_to == BilledTo.PAYER)
    if not missed_percent:
        return Participant.billed_to == BilledTo.CLIENT  # only attended participants give a charge
    return or_(Participant.attendance != Attendance.ATTENDED, Participant.billed_to == BilledTo.CLIENT)


def _gives_a_charge(amount: ColumnElement[int], missed_percent: Decimal) -> ColumnElement[bool]:
    attended = Participant.attendance == Attendance.ATTENDED
    if not missed_percent:
        return attended
    return or_(attended, and_(Participant.attendance.in_(MISSED), amount > literal(0)))
