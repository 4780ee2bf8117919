"""The demo practice's invoices, made as its staff would make them: through the billing services
(`invoice_run`, `drafts`, `issuing`), never as rows written by hand, so the demo shows what the
software does.

Each month before the demo's today's month gets an invoice run through its last day, its drafts
dated the first day of the next month (when the staff would have run it), and they are issued, except
the last month's: those are the drafts waiting to be reviewed. The charges of today's month stay
uninvoiced, and so do the last two months of the plan's `left_to_run` payer (ICBC in Vancouver):
the month-end run a new user tries first (Billing → Invoice run). Besides, as the practice's
`InvoicingPlan` says: the first month's invoices have one line billed at a payer's agreed rate
(with the reason), and the first issued invoice of a payer is voided with its credit note, its
charges invoiced again by the next month's run; the last month's drafts have an adjusted line too.

The services read the clock for what they stamp: `issued_at`, and a credit note's date, are the
moment of the load; each invoice's own date is its month's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from admin_app.demo.practices import DemoPractice, InvoicingPlan
from admin_app.models import Appointment, Invoice, InvoiceKind, InvoiceLine, Payer
from admin_app.services.billing import drafts, issuing
from admin_app.services.billing.invoice_run import invoice_run
from admin_app.services.platform import clinic_time
from admin_app.services.platform.months import Month


def load_invoices(session: Session, practice: DemoPractice, *, today: dt.date | None = None) -> dict[str, int]:
    """Invoice the demo's past months (see the module); the caller commits. Returns the counts of
    invoices by kind and status, and of their lines."""
    today = min(today or clinic_time.today(), clinic_time.today())  # never an invoice dated after today
    first_start = session.scalar(select(func.min(Appointment.starts_at)))
    if first_start is None:
        return {}
    months = Month.containing(first_start).until(Month.containing(today).previous())
    plan = practice.invoicing
    payer_ids = dict(session.execute(select(Payer.name, Payer.id)).all())
    voided = False
    held_back = payer_ids.get(plan.left_to_run) if plan.left_to_run else None
    for index, month in enumerate(months):
        skipped = held_back if index >= len(months) - 2 else None
        run_ids = _run_month(session, month, list(payer_ids.values()), skipped)
        if not run_ids:
            continue
        made = session.execute(
            select(Invoice.id, Invoice.payer_id).where(Invoice.run_id.in_(run_ids)).order_by(Invoice.id)
        ).all()
        last = index == len(months) - 1
        if index == 0 or last:
            _adjust_a_line(session, made, payer_ids[plan.adjusted_payer], plan)
        if last:
            break
        issuing.issue(session, [invoice.id for invoice in made])
        if not voided:
            voided = _void_one(session, made, payer_ids[plan.voided_payer], plan)
    return invoice_counts(session)


def _run_month(session: Session, month: Month, payer_ids: list[int], skipped: int | None) -> list[int]:
    """The month's invoice run(s), dated the first of the next month: one for everyone, or one per
    payer but `skipped` and one for the self-paying clients. The ids of the runs that made drafts."""
    dated = month.last_day + dt.timedelta(days=1)
    if skipped is None:
        outcomes = [invoice_run(session, month.last_day, invoice_date=dated)]
    else:
        outcomes = [
            invoice_run(session, month.last_day, payer_id=payer_id, invoice_date=dated)
            for payer_id in sorted(payer_ids)
            if payer_id != skipped
        ]
        outcomes.append(invoice_run(session, month.last_day, self_pay=True, invoice_date=dated))
    return [outcome.run.id for outcome in outcomes if outcome.run is not None]


def invoice_counts(session: Session) -> dict[str, int]:
    """How many invoices and credit notes stand in each status, and how many lines they hold (one statement each)."""
    counts = {
        f"{'credit notes' if kind == InvoiceKind.CREDIT_NOTE else 'invoices'} {status}": number
        for kind, status, number in session.execute(
            select(Invoice.kind, Invoice.status, func.count()).group_by(Invoice.kind, Invoice.status)
        )
    }
    return {**dict(sorted(counts.items())), "invoice lines": session.scalar(select(func.count(InvoiceLine.id)))}


def _adjust_a_line(session: Session, invoices: Sequence[Row], payer_id: int, plan: InvoicingPlan) -> None:
    """Bill the payer's agreed rate on the first of its lines whose charge differs from it."""
    line = session.scalars(
        select(InvoiceLine)
        .where(
            InvoiceLine.invoice_id.in_([invoice.id for invoice in invoices if invoice.payer_id == payer_id]),
            InvoiceLine.charge_amount != plan.adjusted_amount,
        )
        .order_by(InvoiceLine.invoice_id, InvoiceLine.date_of_service, InvoiceLine.id)
        .limit(1)
    ).first()
    if line is not None:
        drafts.adjust_line(line, plan.adjusted_amount, plan.adjustment_reason)


def _void_one(session: Session, issued: Sequence[Row], payer_id: int, plan: InvoicingPlan) -> bool:
    """Void the payer's first invoice of these issued ones (id, payer_id) (it gets a credit note);
    False when it has none."""
    first = next((invoice for invoice in issued if invoice.payer_id == payer_id), None)
    if first is None:
        return False
    issuing.void(session, session.get(Invoice, first.id), plan.void_reason)
    return True
