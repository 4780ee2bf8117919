"""Where each charge and each invoice stands: billed, paid, written off, moved to the client, open.

The one owner of these figures (DESIGN.md, "Money after the session"): the screens, the payments,
the ageing, the listing and the payouts read them here, in SQL, one statement for any number of
charges or invoices. Sums are worked in whole cents (`money.cents_sql`), because SQLite's ROUND
works on binary floats; the dataclasses hand them back as Decimal.

A charge's **billed** amount is the total (amount + tax) of the invoice line that holds it when
that line's invoice is issued; otherwise the charge's amount under the rule (`charges`). Its
allocations (models.payments) say what became of it:

- **paid**: parts of payments (a payer's or the client's);
- **written off**: parts staff gave up, with a reason;
- **moved**: parts of a payer's charge that are now the client's to pay.

open = billed − paid − written off. A moved part is still open until the client pays it, so the
open amount splits in two: the **payer's open** (billed − what the payer paid − written off −
moved; only for a charge billed to a payer) and the **client's open** (the rest: the whole open
amount of a client's charge, and the unpaid moved part of a payer's). Write-offs settle the
bill-to's part: on a payer's invoice, the payer's (`payments.write_off_rest`).

The **debtor** is the client when the charge is billed to the client or any part was moved to the
client, else the payer. The **state** shown beside a charge is the first that applies of:
written off (settled, with a write-off part), paid (settled; `paid_on` is the date of the
allocation that completed it, the latest one), partly paid (something paid, still open), draft
(on a draft invoice), invoiced (on an issued invoice), uninvoiced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import BindParameter, ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Allocation,
    AllocationKind,
    Appointment,
    BilledTo,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Participant,
    Payment,
)
from admin_app.services.billing.charges import charged_to_sql, charges_query, missed_session_percent, starts_in
from admin_app.services.platform import clinic_time
from admin_app.services.platform.id_lists import among
from admin_app.services.platform.money import cents_sql, from_cents


class ChargeState(enum.StrEnum):
    UNINVOICED = "uninvoiced"
    DRAFT = "draft"
    INVOICED = "invoiced"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    WRITTEN_OFF = "written_off"


class InvoiceState(enum.StrEnum):
    """An invoice's status for screens and the listing (a credit note is always issued)."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    VOID = "void"


class Debtor(enum.StrEnum):
    PAYER = "payer"
    CLIENT = "client"


@dataclasses.dataclass(frozen=True)
class ChargePosition:
    """A row of `charge_positions_query`: one charge and where it stands."""

    participant_id: int
    appointment_id: int
    client_id: int
    therapist_id: int
    starts_at: dt.datetime
    currency: str
    billed_to: BilledTo
    payer_id: int | None  # set only when billed to a payer
    invoice_id: int | None  # the draft or issued invoice holding it
    invoice_number: str | None
    billed: Decimal
    paid: Decimal
    written_off: Decimal
    moved: Decimal
    open: Decimal
    payer_open: Decimal
    client_open: Decimal
    debtor: Debtor
    state: ChargeState
    paid_on: dt.date | None  # when it was settled (paid or written off)

    @property
    def date_of_service(self) -> dt.date:
        return clinic_time.to_local(self.starts_at).date()


@dataclasses.dataclass(frozen=True)
class InvoiceFigures:
    """A row of `invoice_figures_query`. `paid` is what the bill-to paid (on a payer's invoice, the
    payer's payments: what the client paid of a moved part is the client's); `open` is what the
    bill-to still owes (0 unless issued)."""

    invoice_id: int
    currency: str
    total: Decimal
    paid: Decimal
    written_off: Decimal
    moved: Decimal
    open: Decimal
    status: InvoiceState


def allocated_query(
    applied_through: dt.date | BindParameter | None = None, participant_ids: Select | None = None
) -> Select:
    """Per charge (participant_id) with any allocation: paid_cents, paid_by_payer_cents,
    written_off_cents, moved_cents, and last_applied_on (the latest paid or written-off part);
    `applied_through`: only the parts applied on or before that day (where things stood then);
    `participant_ids` (a query of ids): only those charges' (so a client's few are read by index)."""
    last_applied_on = func.max(case((Allocation.kind != AllocationKind.MOVED_TO_CLIENT, Allocation.applied_on)))
    query = (
        select(Allocation.participant_id, *_allocation_sums(), last_applied_on.label("last_applied_on"))
        .outerjoin(Payment, Payment.id == Allocation.payment_id)
        .group_by(Allocation.participant_id)
    )
    if applied_through is not None:
        query = query.where(Allocation.applied_on <= applied_through)
    if participant_ids is not None:
        query = query.where(Allocation.participant_id.in_(participant_ids))
    return query


def _allocation_sums() -> list[ColumnElement[int]]:
    """paid_cents, paid_by_payer_cents, written_off_cents, moved_cents: the sums of the allocations
    joined (and their payments), 0 where none is."""
    cents = cents_sql(Allocation.amount)

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, cents), else_=0)), 0)

    is_paid = Allocation.kind == AllocationKind.PAID
    return [
        total(is_paid).label("paid_cents"),
        total(and_(is_paid, Payment.payer_id.is_not(None))).label("paid_by_payer_cents"),
        total(Allocation.kind == AllocationKind.WRITTEN_OFF).label("written_off_cents"),
        total(Allocation.kind == AllocationKind.MOVED_TO_CLIENT).label("moved_cents"),
    ]


def charge_positions_query(
    *,
    missed_percent: Decimal | None = None,
    currency: str | None = None,
    invoice_ids: Iterable[int] | Select | None = None,
    participant_ids: Iterable[int] | Select | None = None,
    applied_through: dt.date | BindParameter | None = None,
    **charge_filters,
) -> Select:
    """One row per charge with the columns of `ChargePosition` (amounts as *_cents), by start.

    `charge_filters` are those of `charges.charges_query` (since, until, therapist_id, payer_id,
    billed_to, client_id); `invoice_ids` keeps the charges held by those invoices;
    `applied_through` counts only the payments and write-offs applied by that day. Callers may
    wrap it (`.subquery()`) to filter on the figures, e.g. `client_open_cents > 0`.
    """
    percent = missed_session_percent() if missed_percent is None else missed_percent
    charge = charges_query(percent, **charge_filters).order_by(None).subquery("charge")
    # One client's or payer's charges, or a query of ids: read only their allocations and lines (by
    # index) before grouping.
    narrowed = participant_ids if isinstance(participant_ids, Select) else _narrowed(charge_filters)
    allocated = allocated_query(applied_through, narrowed).subquery("allocated")
    line = select(InvoiceLine.participant_id, InvoiceLine.invoice_id, InvoiceLine.amount, InvoiceLine.tax).where(
        InvoiceLine.holds
    )
    if narrowed is not None:
        line = line.where(InvoiceLine.participant_id.in_(narrowed))
    line = line.subquery("holding_line")
    issued = Invoice.status == InvoiceStatus.ISSUED
    billed = case((issued, cents_sql(line.c.amount) + cents_sql(line.c.tax)), else_=charge.c.amount_cents)
    paid = func.coalesce(allocated.c.paid_cents, 0)
    written_off = func.coalesce(allocated.c.written_off_cents, 0)
    moved = func.coalesce(allocated.c.moved_cents, 0)
    inner = (
        select(
            charge.c.participant_id,
            charge.c.appointment_id,
            charge.c.client_id,
            charge.c.therapist_id,
            charge.c.starts_at,
            charge.c.currency,
            charge.c.billed_to,
            charge.c.payer_id,
            Invoice.id.label("invoice_id"),
            Invoice.number.label("invoice_number"),
            Invoice.status.label("invoice_status"),
            billed.label("billed_cents"),
            paid.label("paid_cents"),
            func.coalesce(allocated.c.paid_by_payer_cents, 0).label("paid_by_payer_cents"),
            written_off.label("written_off_cents"),
            moved.label("moved_cents"),
            allocated.c.last_applied_on,
        )
        .select_from(charge)
        .outerjoin(line, line.c.participant_id == charge.c.participant_id)
        .outerjoin(Invoice, Invoice.id == line.c.invoice_id)
        .outerjoin(allocated, allocated.c.participant_id == charge.c.participant_id)
    )
    if currency is not None:
        inner = inner.where(charge.c.currency == currency)
    if invoice_ids is not None:
        inner = inner.where(line.c.invoice_id.in_(_ids(invoice_ids)))
    if participant_ids is not None:
        inner = inner.where(charge.c.participant_id.in_(_ids(participant_ids)))
    return _positions(inner.subquery("position"))


def _narrowed(charge_filters: dict) -> Select | None:
    """The participants of one client, a list of clients, one payer or the appointments of a period
    when the filters keep only their charges (a few among many), else None. Read from the
    participant's own columns (and a period's appointments by their start), a superset of the
    charges kept: the charges query itself (its appointment join and the CASE of who is billed)
    would be worked out again for each of the two reads it narrows (a portal page of 50 clients'
    unpaid sessions: 190 ms to 175 ms on the 30 x 36 bench). Without it a month's charges summed
    every allocation of the practice (the charges screen)."""
    conditions = []
    period = starts_in(charge_filters.get("since"), charge_filters.get("until"))
    if period:
        conditions.append(Participant.appointment_id.in_(select(Appointment.id).where(*period)))
    if charge_filters.get("client_id") is not None:
        conditions.append(Participant.client_id == charge_filters["client_id"])
    if charge_filters.get("client_ids") is not None:
        conditions.append(among(Participant.client_id, charge_filters["client_ids"]))
    if charge_filters.get("payer_id") is not None:
        conditions.append(Participant.payer_id == charge_filters["payer_id"])
    return select(Participant.id).where(*conditions) if conditions else None


def issued_positions_query(applied_through: dt.date) -> Select:
    """The charges held by issued invoices dated by `applied_through`, read from their invoice lines
    (not from every charge: a network's ten years hold a million), with what was applied to them by
    then: participant_id, client_id, currency, the invoice's id, payer_id and invoice_date, and
    `open_cents`, `payer_open_cents`, `client_open_cents` as `charge_positions_query` has them.

    The allocations are joined to the lines, then summed per line: where the planner misjudges the
    lines as a handful (a table never analysed), it then reads each line's allocations by index,
    where summing the allocations first made it scan all the sums once per line (20 s on the demo)."""
    applied = and_(Allocation.participant_id == InvoiceLine.participant_id, Allocation.applied_on <= applied_through)
    inner = (
        select(
            InvoiceLine.participant_id,
            Participant.client_id,
            Participant.currency,
            charged_to_sql().label("billed_to"),
            Invoice.id.label("invoice_id"),
            Invoice.payer_id,
            Invoice.invoice_date,
            (cents_sql(InvoiceLine.amount) + cents_sql(InvoiceLine.tax)).label("billed_cents"),
            *_allocation_sums(),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Participant, Participant.id == InvoiceLine.participant_id)
        .outerjoin(Allocation, applied)
        .outerjoin(Payment, Payment.id == Allocation.payment_id)
        .where(InvoiceLine.holds, Invoice.status == InvoiceStatus.ISSUED, Invoice.invoice_date <= applied_through)
        .group_by(InvoiceLine.id, Invoice.id, Participant.id)
        .subquery("issued_charge")
    )
    c = inner.c
    open_, payer_open = _open_cents(c)
    return select(
        c.participant_id,
        c.client_id,
        c.currency,
        c.invoice_id,
        c.payer_id,
        c.invoice_date,
        open_.label("open_cents"),
        payer_open.label("payer_open_cents"),
        (open_ - payer_open).label("client_open_cents"),
    )


def _open_cents(c) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """What is open of a charge (`c`: its billed and allocated cents), and of that what the payer owes."""
    open_ = c.billed_cents - c.paid_cents - c.written_off_cents
    to_payer = c.billed_to == BilledTo.PAYER
    payer_open = case((to_payer, c.billed_cents - c.paid_by_payer_cents - c.written_off_cents - c.moved_cents), else_=0)
    return open_, payer_open


def _positions(row) -> Select:
    """The figures worked out of one charge's billed and allocated cents (`row`: a subquery)."""
    c = row.c
    open_, payer_open = _open_cents(c)
    settled = and_(open_ <= 0, c.paid_cents + c.written_off_cents > 0)
    state = case(
        (and_(settled, c.written_off_cents > 0), literal(ChargeState.WRITTEN_OFF.value)),
        (settled, literal(ChargeState.PAID.value)),
        (c.paid_cents > 0, literal(ChargeState.PARTLY_PAID.value)),
        (c.invoice_status == InvoiceStatus.DRAFT, literal(ChargeState.DRAFT.value)),
        (c.invoice_status == InvoiceStatus.ISSUED, literal(ChargeState.INVOICED.value)),
        else_=literal(ChargeState.UNINVOICED.value),
    )
    debtor = case(
        (or_(c.billed_to == BilledTo.CLIENT, c.moved_cents > 0), literal(Debtor.CLIENT.value)),
        else_=literal(Debtor.PAYER.value),
    )
    return select(
        c.participant_id,
        c.appointment_id,
        c.client_id,
        c.therapist_id,
        c.starts_at,
        c.currency,
        c.billed_to,
        c.payer_id,
        c.invoice_id,
        c.invoice_number,
        c.billed_cents,
        c.paid_cents,
        c.written_off_cents,
        c.moved_cents,
        open_.label("open_cents"),
        payer_open.label("payer_open_cents"),
        (open_ - payer_open).label("client_open_cents"),
        debtor.label("debtor"),
        state.label("state"),
        case((settled, c.last_applied_on)).label("paid_on"),
    ).order_by(c.starts_at, c.participant_id)


def charge_positions(session: Session, **filters) -> list[ChargePosition]:
    """The charges `charge_positions_query` selects with these filters, in one statement."""
    return read_positions(session, charge_positions_query(**filters))


def read_positions(session: Session, query: Select) -> list[ChargePosition]:
    """Rows of `charge_positions_query` (perhaps narrowed by the caller) as ChargePosition."""
    return [
        ChargePosition(
            participant_id=row.participant_id,
            appointment_id=row.appointment_id,
            client_id=row.client_id,
            therapist_id=row.therapist_id,
            starts_at=row.starts_at,
            currency=row.currency,
            billed_to=BilledTo(row.billed_to),
            payer_id=row.payer_id,
            invoice_id=row.invoice_id,
            invoice_number=row.invoice_number,
            billed=from_cents(row.billed_cents),
            paid=from_cents(row.paid_cents),
            written_off=from_cents(row.written_off_cents),
            moved=from_cents(row.moved_cents),
            open=from_cents(row.open_cents),
            payer_open=from_cents(row.payer_open_cents),
            client_open=from_cents(row.client_open_cents),
            debtor=Debtor(row.debtor),
            state=ChargeState(row.state),
            paid_on=as_date(row.paid_on),
        )
        for row in session.execute(query)
    ]


def invoice_figures_query(invoice_ids: Iterable[int] | Select | None = None) -> Select:
    """One row per invoice (all of them, or `invoice_ids`: a list or a query of ids) with the
    columns of `InvoiceFigures` (amounts as *_cents), by id.

    The total counts the lines that hold their charge (a draft's or an issued invoice's); a void
    invoice or a credit note holds none, so all of its lines count. Allocations count only
    through an issued invoice's lines.

    Each line's allocations are summed first, the lines of `invoice_ids` only, their charges'
    allocations read by index: summing every allocation, then joining, read a practice's whole
    payment history for a page of 50 invoices.
    """
    ids = None if invoice_ids is None else _ids(invoice_ids)
    per_line = (
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.holds,
            (cents_sql(InvoiceLine.amount) + cents_sql(InvoiceLine.tax)).label("cents"),
            *_allocation_sums(),
        )
        .outerjoin(Allocation, Allocation.participant_id == InvoiceLine.participant_id)
        .outerjoin(Payment, Payment.id == Allocation.payment_id)
        .group_by(InvoiceLine.id)
    )
    if ids is not None:
        per_line = per_line.where(InvoiceLine.invoice_id.in_(ids))
    lines = per_line.subquery("line")
    line = lines.c
    counted = or_(line.holds, Invoice.status == InvoiceStatus.VOID, Invoice.kind == InvoiceKind.CREDIT_NOTE)
    settles = and_(line.holds, Invoice.status == InvoiceStatus.ISSUED)
    by_bill_to = case((Invoice.payer_id.is_not(None), line.paid_by_payer_cents), else_=line.paid_cents)

    def total(condition: ColumnElement[bool], cents) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, func.coalesce(cents, 0)), else_=0)), 0)

    sums = (
        select(
            Invoice.id.label("invoice_id"),
            Invoice.kind,
            Invoice.status,
            Invoice.currency,
            total(counted, line.cents).label("total_cents"),
            total(settles, by_bill_to).label("paid_cents"),
            total(settles, line.written_off_cents).label("written_off_cents"),
            total(settles, line.moved_cents).label("moved_cents"),
        )
        .outerjoin(lines, line.invoice_id == Invoice.id)
        .group_by(Invoice.id, Invoice.kind, Invoice.status, Invoice.currency)
    )
    if ids is not None:
        sums = sums.where(Invoice.id.in_(ids))
    c = sums.subquery("sums").c
    owed = and_(c.kind == InvoiceKind.INVOICE, c.status == InvoiceStatus.ISSUED)
    open_ = case((owed, c.total_cents - c.paid_cents - c.written_off_cents - c.moved_cents), else_=0)
    status = case(
        (c.kind == InvoiceKind.CREDIT_NOTE, literal(InvoiceState.ISSUED.value)),
        (c.status == InvoiceStatus.DRAFT, literal(InvoiceState.DRAFT.value)),
        (c.status == InvoiceStatus.VOID, literal(InvoiceState.VOID.value)),
        (open_ <= 0, literal(InvoiceState.PAID.value)),
        (c.paid_cents + c.written_off_cents + c.moved_cents > 0, literal(InvoiceState.PARTLY_PAID.value)),
        else_=literal(InvoiceState.ISSUED.value),
    )
    return select(
        c.invoice_id,
        c.currency,
        c.total_cents,
        c.paid_cents,
        c.written_off_cents,
        c.moved_cents,
        open_.label("open_cents"),
        status.label("status"),
    ).order_by(c.invoice_id)


def invoice_figures(session: Session, invoice_ids: Iterable[int] | Select) -> dict[int, InvoiceFigures]:
    """The figures of these invoices (a list or a query of ids), by id, in one statement."""
    return {
        row.invoice_id: InvoiceFigures(
            invoice_id=row.invoice_id,
            currency=row.currency,
            total=from_cents(row.total_cents),
            paid=from_cents(row.paid_cents),
            written_off=from_cents(row.written_off_cents),
            moved=from_cents(row.moved_cents),
            open=from_cents(row.open_cents),
            status=InvoiceState(row.status),
        )
        for row in session.execute(invoice_figures_query(invoice_ids))
    }


def unapplied(session: Session, payment_ids: Iterable[int] | Select) -> dict[int, Decimal]:
    """What each payment was not applied to (its credit, shown beside it), by id, in one statement."""
    applied = func.coalesce(func.sum(cents_sql(Allocation.amount)), 0)
    rows = session.execute(
        select(Payment.id, cents_sql(Payment.amount) - applied)
        .outerjoin(Allocation, Allocation.payment_id == Payment.id)
        .where(Payment.id.in_(_ids(payment_ids)))
        .group_by(Payment.id, Payment.amount)
    )
    return {payment_id: from_cents(cents) for payment_id, cents in rows}


def _ids(ids: Iterable[int] | Select) -> list[int] | Select:
    return ids if isinstance(ids, Select) else list(ids)


def as_date(value) -> dt.date | None:
    """A date out of a CASE (SQLite hands it back as its ISO text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
