"""The demo practice's payments, recorded as its staff would record them: through the payments
service (`record_payer_payment`, `record_client_payment`, `write_off_rest`, `move_rest_to_client`),
after the invoices (demo/invoices.py), so every figure on the screens comes from real allocations.

- Each payer pays its invoices of a month in one transfer, its payment terms after their date, when
  that day has come and the invoices are more than `PAID_AFTER_DAYS` old: recent invoices stay open,
  so the ageing has something in each bucket. One invoice of each payer's oldest month is never
  paid (it ages past 90 days), and the practice's `InvoicingPlan.late_payer` (ICBC in Vancouver)
  has not paid its most recent month invoiced yet, though its terms are over: the sessions the payout
  statements hold (demo/payouts.py). (Lima's insurer is late by its 45-day terms alone.)
- In the payer's most recent paid month (`InvoicingPlan.adjusted_payer`), one invoice is paid short
  and the rest written off, and another paid short and the rest moved to the client.
- Each self-paying client pays by card (a receipt each payment), per currency: the invoices dated up to
  the first payout month (demo/payouts.py) in one payment the day before it (settled, and paid out,
  before the practice's payouts began), then each later invoice `CLIENT_PAYS_AFTER_DAYS` after its date
  (so each month's payout statement pays the sessions its clients paid that month, and the therapists'
  caseloads show a client red for unpaid sessions only when they really owe); every `UNPAID_EVERY`-th
  client has paid only invoices older than `LATE_PAYER_DAYS` and still owes the rest.
No email is queued: the receipts of a demo's past are not sent (staff can send one from the screen).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.demo.payouts import first_payout_day
from admin_app.demo.practices import DemoPractice
from admin_app.models import Allocation, Invoice, InvoiceKind, InvoiceStatus, Payer, Payment, PaymentMethod
from admin_app.services.billing import payments
from admin_app.services.billing.ledger import invoice_figures_query
from admin_app.services.platform import clinic_time
from admin_app.services.platform.money import from_cents

PAID_AFTER_DAYS = 45
UNPAID_EVERY = 7
LATE_PAYER_DAYS = 120
CLIENT_PAYS_AFTER_DAYS = 2
SHORT = Decimal("15.00")
MOVED_REASON = "Not covered by the claim: the client's share"
WRITE_OFF_REASON = "The payer's fee schedule is lower"


def load_payments(session: Session, practice: DemoPractice, *, today: dt.date) -> dict[str, int]:
    """Record the demo's payments (see the module); the caller commits. Returns counts."""
    today = min(today, clinic_time.today())  # never a payment received after today
    open_invoices = _open_issued(session, today - dt.timedelta(days=CLIENT_PAYS_AFTER_DAYS))
    payers_from = today - dt.timedelta(days=PAID_AFTER_DAYS)
    payer_batches: dict[tuple[int, dt.date, str], list] = defaultdict(list)
    client_invoices: dict[tuple[int, str], list] = defaultdict(list)
    for invoice in open_invoices:
        if invoice.payer_id is not None:
            if invoice.invoice_date >= payers_from:
                continue  # recent: the payer has not paid yet
            payer_batches[(invoice.payer_id, invoice.invoice_date, invoice.currency)].append(invoice)
        else:
            client_invoices[(invoice.client_id, invoice.currency)].append(invoice)
    _payers_pay(session, practice, payer_batches, today)
    _clients_pay(session, client_invoices, today, first_payout_day(today))
    return payment_counts(session)


def payment_counts(session: Session) -> dict[str, int]:
    return {
        "payments": session.scalar(select(func.count(Payment.id))),
        "receipts": session.scalar(select(func.count(Payment.receipt_number))),
        "allocations": session.scalar(select(func.count(Allocation.id))),
    }


def _open_issued(session: Session, dated_before: dt.date) -> list:
    """Issued invoices dated before that day with something open, oldest first (one statement)."""
    figures = invoice_figures_query().subquery("figures")
    return session.execute(
        select(Invoice.id, Invoice.payer_id, Invoice.client_id, Invoice.currency, Invoice.invoice_date)
        .add_columns(figures.c.open_cents)
        .join(figures, figures.c.invoice_id == Invoice.id)
        .where(
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
            Invoice.invoice_date < dated_before,
            figures.c.open_cents > 0,
        )
        .order_by(Invoice.invoice_date, Invoice.id)
    ).all()


def _payers_pay(session: Session, practice: DemoPractice, batches: dict, today: dt.date) -> None:
    terms = dict(session.execute(select(Payer.id, Payer.payment_terms_days)).all())
    names = dict(session.execute(select(Payer.id, Payer.name)).all())
    first_month: dict[int, dt.date] = {}
    for payer_id, day, _currency in batches:
        first_month.setdefault(payer_id, day)
    last_month = {payer_id: day for payer_id, day, _currency in batches}
    late = next((payer_id for payer_id, name in names.items() if name == practice.invoicing.late_payer), None)
    for (payer_id, day, currency), invoices in batches.items():
        if payer_id == late and day == last_month[payer_id]:
            continue  # overdue: the late payer has not paid it yet
        if day == first_month[payer_id]:
            invoices = invoices[1:]  # the one invoice this payer never paid
        received = min(day + dt.timedelta(days=terms[payer_id]), today)
        short = names[payer_id] == practice.invoicing.adjusted_payer and day == last_month[payer_id]
        if short and len(invoices) > 2:
            *invoices, moved, written_off = invoices
            _pay(session, payer_id, [moved], received, currency, short_by=SHORT)
            payments.move_rest_to_client(session, invoice_id=moved.id, reason=MOVED_REASON, on=received)
            _pay(session, payer_id, [written_off], received, currency, short_by=SHORT)
            payments.write_off_rest(session, invoice_id=written_off.id, reason=WRITE_OFF_REASON, on=received)
        if invoices:
            _pay(session, payer_id, invoices, received, currency)


def _pay(session: Session, payer_id: int, invoices: list, on: dt.date, currency: str, short_by=Decimal(0)) -> None:
    payments.record_payer_payment(
        session,
        payer_id=payer_id,
        received_on=on,
        amount=sum((from_cents(invoice.open_cents) for invoice in invoices), Decimal(0)) - short_by,
        currency=currency,
        method=PaymentMethod.TRANSFER,
        reference=f"EFT-{payer_id}-{invoices[0].invoice_date:%Y%m}-{invoices[0].id}",
        invoice_ids=[invoice.id for invoice in invoices],
    )


def _clients_pay(
    session: Session, invoices: dict[tuple[int, str], list], today: dt.date, payouts_from: dt.date
) -> None:
    """Each client pays their old invoices by card (see the module); every `UNPAID_EVERY`-th client
    only those older than `LATE_PAYER_DAYS` (they owe the months since)."""
    late = today - dt.timedelta(days=LATE_PAYER_DAYS)
    for index, ((client_id, currency), owed) in enumerate(sorted(invoices.items())):
        if index % UNPAID_EVERY == UNPAID_EVERY - 1:
            owed = [invoice for invoice in owed if invoice.invoice_date < late]
        before = [invoice for invoice in owed if invoice.invoice_date <= payouts_from]
        payments_due = [(payouts_from - dt.timedelta(days=1), before)] if before else []
        payments_due += [
            (invoice.invoice_date + dt.timedelta(days=CLIENT_PAYS_AFTER_DAYS), [invoice])
            for invoice in owed
            if invoice.invoice_date > payouts_from
        ]
        for on, paid in payments_due:
            payments.record_client_payment(
                session,
                client_id=client_id,
                received_on=on,
                amount=sum((from_cents(invoice.open_cents) for invoice in paid), Decimal(0)),
                currency=currency,
                method=PaymentMethod.CARD,
            )
