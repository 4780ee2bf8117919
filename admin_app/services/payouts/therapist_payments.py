"""A therapist's own payments: where each of their charges of a month stands, and their final payout
statements (issue 18, "Payments"; the portal's *My payments* reads it).

Named for what it holds rather than for the screen: it is the therapist's side of the payouts (the
same rows could be mailed or printed by a command), and like every service it knows no request.

Nothing is worked out again here. A charge's collection comes from the ledger
(`billing.ledger.charge_positions_query`: billed amount, state, paid-on date); its payout from the
payout lines (`models.payouts.PayoutLine`) of the therapist's **final** statements.

**Final statements** are those sent or paid. A draft is rewritten by every payout run and an
approved statement has not reached the therapist yet (staff may still hold it back before the
email goes): showing either would show figures the office has not given the therapist, and a
number they did not receive. So the list of statements, their PDFs, and the held and paid-out
notes of the sessions read sent and paid statements only.

**State of a charge**, the first that applies of:

1. **paid**: the ledger has it settled (fully paid, or the rest written off), with the day it was
   settled. The money is in: if it was held on a statement, it comes as a paid line on the next one.
2. **held**: a held line of a final statement (not paid by that statement's cut-off) and not yet on a
   paid line of a final statement: the practice waits for the money, with the number of the
   statement that held it and why (uninvoiced, invoiced, partly paid).
3. **invoiced**: on an issued invoice (a void one holds nothing; partly paid counts here: still open).
4. **uninvoiced**: on no issued invoice (on a draft only, or on none).

Paid wins over held because once the charge is paid the hold is over from the practice's side; held
wins over invoiced or uninvoiced because it tells the therapist more: their statement already
listed it and it is waiting for payment. Independently of the state, a charge on a paid line of a
final statement carries the number of that statement (**paid out**), and a held one the number of the
latest final statement that held it.

The month's rows are two statements whatever their number (the ledger's positions joined to their
clients and payers, then the payout lines of those charges); the statements list three (statements,
line totals, adjustment totals). Totals are per currency, sums of the rounded rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal

from flask_babel import gettext, pgettext
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    Attendance,
    Client,
    HeldReason,
    Participant,
    Payer,
    PayoutAdjustment,
    PayoutLine,
    PayoutStatement,
    PayoutStatus,
)
from admin_app.services.billing.ledger import ChargeState, as_date, charge_positions_query
from admin_app.services.payouts.statements import Totals, add_totals
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform import clinic_time, documents
from admin_app.services.platform.labels import choice_label, field_label
from admin_app.services.platform.money import cents_sql, from_cents, sum_per_currency
from admin_app.services.platform.months import Month
from admin_app.services.scheduling.calendar import initials

FINAL = (PayoutStatus.SENT, PayoutStatus.PAID)
EXPORT = documents.Export(f"{Participant.__tablename__}:therapist_payments")
COLUMNS = ("date_of_service", "client", "attendance", "bill_to", "amount", "currency", "state", "paid_on")


class SessionState(enum.StrEnum):
    UNINVOICED = "uninvoiced"
    INVOICED = "invoiced"
    PAID = "paid"
    HELD = "held"


# The order the totals are shown in: what waits on the practice first, what is done last.
STATES = (SessionState.UNINVOICED, SessionState.INVOICED, SessionState.HELD, SessionState.PAID)


def state_label(state: SessionState) -> str:
    """In a context of its own: "Held" is also an appointment's status (it took place), which the
    translations render as such."""
    return {
        SessionState.UNINVOICED: pgettext("charge state", "Uninvoiced"),
        SessionState.INVOICED: pgettext("charge state", "Invoiced"),
        SessionState.PAID: pgettext("charge state", "Paid"),
        SessionState.HELD: pgettext("charge state", "Held"),
    }[state]


@dataclasses.dataclass(frozen=True)
class SessionRow:
    """One charge of the therapist's month."""

    participant_id: int
    date_of_service: dt.date
    client_name: str  # initials when the client is no longer in the therapist's care
    attendance: Attendance
    payer_name: str | None  # None: billed to the client
    amount: Decimal
    currency: str
    state: SessionState
    paid_on: dt.date | None
    held_on: str | None  # number of the latest final statement that held it, while not paid out
    held_reason: HeldReason | None
    paid_out_on: str | None  # number of the final statement that paid it out


@dataclasses.dataclass(frozen=True)
class MonthPayments:
    month: Month
    rows: list[SessionRow]

    @property
    def totals(self) -> Totals:
        return sum_per_currency((row.currency, row.amount) for row in self.rows)

    @property
    def by_state(self) -> dict[SessionState, Totals]:
        """Per state (those that have rows, in `STATES` order), per currency."""
        found = {
            state: sum_per_currency((row.currency, row.amount) for row in self.rows if row.state == state)
            for state in STATES
        }
        return {state: totals for state, totals in found.items() if totals}


@dataclasses.dataclass(frozen=True)
class StatementRow:
    """One of the therapist's final statements."""

    statement_id: int
    month: Month
    number: str
    status: PayoutStatus
    paid_on: dt.date | None
    due: Totals


def month_payments(session: Session, therapist_id: int, month: Month) -> MonthPayments:
    """The therapist's charges whose date of service (local) is in `month`, by start; two statements."""
    start, end = month.utc_range()
    mine = (
        select(Participant.id)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(Appointment.therapist_id == therapist_id, Appointment.starts_at >= start, Appointment.starts_at < end)
    )
    positions = (
        charge_positions_query(
            therapist_id=therapist_id, since=month.first_day, until=month.last_day, participant_ids=mine
        )
        .order_by(None)
        .subquery("position")
    )
    in_care = positions.c.client_id.in_(clients_in_care_now(therapist_id))
    rows = session.execute(
        select(
            positions.c.participant_id,
            positions.c.starts_at,
            positions.c.currency,
            positions.c.billed_cents,
            positions.c.state,
            positions.c.paid_on,
            Client.full_name,
            case((in_care, True), else_=False).label("in_care"),
            Participant.attendance,
            Payer.name.label("payer_name"),
        )
        .join(Participant, Participant.id == positions.c.participant_id)
        .join(Client, Client.id == positions.c.client_id)
        .outerjoin(Payer, Payer.id == positions.c.payer_id)
        .order_by(positions.c.starts_at, positions.c.participant_id)
    ).all()
    payouts = _payouts(session, therapist_id, mine) if rows else {}
    return MonthPayments(
        month=month,
        rows=[_row(row, payouts.get(row.participant_id, _Payout())) for row in rows],
    )


@dataclasses.dataclass(frozen=True)
class _Payout:
    held_on: str | None = None
    held_reason: HeldReason | None = None
    paid_out_on: str | None = None


def _payouts(session: Session, therapist_id: int, participant_ids: Select) -> dict[int, _Payout]:
    """Per charge (`participant_ids`: a query of ids), the final statements' word on it: the paid
    line's statement, else the latest held one."""
    lines = session.execute(
        select(PayoutLine.participant_id, PayoutLine.held, PayoutLine.held_reason, PayoutStatement.number)
        .join(PayoutStatement, PayoutStatement.id == PayoutLine.statement_id)
        .where(
            PayoutStatement.therapist_id == therapist_id,
            PayoutStatement.status.in_(FINAL),
            PayoutLine.participant_id.in_(participant_ids),
        )
        .order_by(PayoutStatement.month, PayoutLine.id)
    )
    found: dict[int, _Payout] = {}
    for participant_id, held, reason, number in lines:
        known = found.get(participant_id, _Payout())
        if known.paid_out_on is not None:
            continue
        if held:
            found[participant_id] = _Payout(held_on=number, held_reason=HeldReason(reason))
        else:
            found[participant_id] = _Payout(paid_out_on=number)
    return found


def _row(row, payout: _Payout) -> SessionRow:
    ledger = ChargeState(row.state)
    if ledger in (ChargeState.PAID, ChargeState.WRITTEN_OFF):
        state = SessionState.PAID
    elif payout.held_on is not None:
        state = SessionState.HELD
    elif ledger in (ChargeState.INVOICED, ChargeState.PARTLY_PAID):
        state = SessionState.INVOICED
    else:  # uninvoiced, or on a draft only
        state = SessionState.UNINVOICED
    return SessionRow(
        participant_id=row.participant_id,
        date_of_service=clinic_time.to_local(row.starts_at).date(),
        client_name=row.full_name if row.in_care else initials(row.full_name),
        attendance=Attendance(row.attendance),
        payer_name=row.payer_name,
        amount=from_cents(row.billed_cents),
        currency=row.currency,
        state=state,
        paid_on=as_date(row.paid_on) if state == SessionState.PAID else None,
        held_on=payout.held_on,
        held_reason=payout.held_reason,
        paid_out_on=payout.paid_out_on,
    )


def month_csv(session: Session, therapist_id: int, month: Month) -> documents.Document:
    """The month's rows as CSV (plain decimals, ISO dates), recorded as an export."""
    payments = month_payments(session, therapist_id, month)
    header = [
        *(str(field_label(name)) for name in COLUMNS),
        gettext("Held on statement"),
        gettext("Paid out on statement"),
    ]
    rows = [
        [
            row.date_of_service.isoformat(),
            row.client_name,
            str(choice_label(row.attendance)),
            row.payer_name or gettext("Client"),
            f"{row.amount:.2f}",
            row.currency,
            state_label(row.state),
            row.paid_on.isoformat() if row.paid_on else "",
            row.held_on or "",
            row.paid_out_on or "",
        ]
        for row in payments.rows
    ]
    return documents.csv_document(
        session, header, rows, filename=documents.file_name(str(month), "my-payments", extension="csv"), export=EXPORT
    )


def final_statements(session: Session, therapist_id: int) -> list[StatementRow]:
    """The therapist's sent and paid statements, newest month first, with what each one made due
    (earned + adjustments, per currency); three statements whatever their number."""
    statements = session.execute(
        select(
            PayoutStatement.id,
            PayoutStatement.month,
            PayoutStatement.number,
            PayoutStatement.status,
            PayoutStatement.paid_on,
        )
        .where(PayoutStatement.therapist_id == therapist_id, PayoutStatement.status.in_(FINAL))
        .order_by(PayoutStatement.month.desc(), PayoutStatement.id.desc())
    ).all()
    ids = select(PayoutStatement.id).where(
        PayoutStatement.therapist_id == therapist_id, PayoutStatement.status.in_(FINAL)
    )
    earned = _sums(
        session.execute(
            select(PayoutLine.statement_id, PayoutLine.currency, func.sum(cents_sql(PayoutLine.earning)))
            .where(PayoutLine.statement_id.in_(ids), PayoutLine.held.is_(False))
            .group_by(PayoutLine.statement_id, PayoutLine.currency)
        )
    )
    adjusted = _sums(
        session.execute(
            select(
                PayoutAdjustment.statement_id, PayoutAdjustment.currency, func.sum(cents_sql(PayoutAdjustment.amount))
            )
            .where(PayoutAdjustment.statement_id.in_(ids))
            .group_by(PayoutAdjustment.statement_id, PayoutAdjustment.currency)
        )
    )
    return [
        StatementRow(
            statement_id=row.id,
            month=Month.parse(row.month),
            number=row.number,
            status=PayoutStatus(row.status),
            paid_on=row.paid_on,
            due=add_totals(earned.get(row.id, {}), adjusted.get(row.id, {})),
        )
        for row in statements
    ]


def _sums(rows: Iterable[tuple[int, str, int]]) -> dict[int, Totals]:
    found: dict[int, Totals] = {}
    for statement_id, currency, cents in rows:
        found.setdefault(statement_id, {})[currency] = from_cents(cents or 0)
    return found


def is_final_statement_of(session: Session, therapist_id: int, statement_id: int) -> bool:
    """Whether the statement is this therapist's and sent or paid: any other id (another therapist's,
    a draft, one that does not exist) is, for the therapist, a statement that does not exist."""
    return (
        session.scalar(
            select(PayoutStatement.id).where(
                PayoutStatement.id == statement_id,
                PayoutStatement.therapist_id == therapist_id,
                PayoutStatement.status.in_(FINAL),
            )
        )
        is not None
    )
