"""Recording payments and settling the rest of an invoice (DESIGN.md, "Payments").

- A payer's payment is applied to the named issued invoices of that payer, else to the payer's
  oldest open issued invoices in its currency (by invoice date, then number), and within an
  invoice to its lines by date of service.
- A client's payment is applied first in, first out (date of service, start, participant) to
  what the client owes in its currency: charges billed to the client (uninvoiced or invoiced) and
  the parts of payer charges moved to the client. It takes the next receipt number.
- The rest of an issued invoice can be written off, or (a payer's invoice) moved to the client;
  both need a reason.

What a payment does not cover stays on it, unapplied (`ledger.unapplied`). Each function checks
everything first, then adds and flushes in the caller's transaction: the caller commits once, and
a refusal (RuleViolation naming the field) writes nothing. The open amounts come from the ledger,
in one statement whatever the number of charges; the allocations are one batch. The debtor's row
(payer or client) is locked first (PostgreSQL), so two payments or a payment and a write-off of
the same debts queue instead of settling the same open amount twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Allocation,
    AllocationKind,
    Client,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Participant,
    Payer,
    Payment,
    PaymentMethod,
)
from admin_app.models.audit import current_actor
from admin_app.services.billing.ledger import charge_positions_query, read_positions
from admin_app.services.billing.numbers import receipt_series
from admin_app.services.platform import bounds, bulk, clinic_time
from admin_app.services.platform.documents.numbering import next_number
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.platform.money import check_currency

# What a participant's charge is made of (services.billing.charges).
CHARGE_FIELDS = ("attendance", "fee", "currency", "client_id", "client", "billed_to", "payer_id", "payer")
REFERENCE_LENGTH = 120
REASON_LENGTH = 255


def record_payer_payment(
    session: Session,
    *,
    payer_id: int,
    received_on: dt.date,
    amount: Decimal,
    currency: str,
    method: PaymentMethod | str,
    reference: str | None = None,
    invoice_ids: Sequence[int] = (),
    notes: str | None = None,
) -> Payment:
    """A payer's payment, applied to `invoice_ids` (issued invoices of this payer in this currency)
    or, when none is named, to the payer's oldest open invoices; the rest stays unapplied."""
    if session.get(Payer, payer_id, with_for_update=True) is None:
        raise NotFound(_l("%(field)s: no such payer", field=field_label("payer")), field="payer")
    payment = _new_payment(
        payer_id=payer_id,
        received_on=received_on,
        amount=amount,
        currency=currency,
        method=method,
        reference=reference,
        notes=notes,
    )
    if invoice_ids:
        _check_named_invoices(session, payment, invoice_ids)
    owed = read_positions(session, _payer_open_lines(payment, invoice_ids))
    session.add(payment)
    session.flush()
    _apply(session, payment, [(line.participant_id, line.payer_open) for line in owed])
    return payment


def record_client_payment(
    session: Session,
    *,
    client_id: int,
    received_on: dt.date,
    amount: Decimal,
    currency: str,
    method: PaymentMethod | str,
    reference: str | None = None,
    notes: str | None = None,
) -> Payment:
    """A client's payment (cash, card, transfer...), applied first in, first out to what the client
    owes in its currency; it gets the next receipt number."""
    if session.get(Client, client_id, with_for_update=True) is None:
        raise NotFound(_l("%(field)s: no such client", field=field_label("client")), field="client")
    payment = _new_payment(
        client_id=client_id,
        received_on=received_on,
        amount=amount,
        currency=currency,
        method=method,
        reference=reference,
        notes=notes,
    )
    owed = read_positions(session, _client_open_charges(payment))
    series = receipt_series()
    payment.receipt_number = series.number(next_number(session, series.key))  # late: the counter stays locked
    session.add(payment)
    session.flush()
    _apply(session, payment, [(charge.participant_id, charge.client_open) for charge in owed])
    return payment


def write_off_rest(session: Session, *, invoice_id: int, reason: str, on: dt.date | None = None) -> Decimal:
    """Give up what the bill-to still owes on an issued invoice, line by line, with a reason;
    returns the amount written off."""
    return _settle_rest(session, invoice_id, reason, on, AllocationKind.WRITTEN_OFF)


def move_rest_to_client(session: Session, *, invoice_id: int, reason: str, on: dt.date | None = None) -> Decimal:
    """Make what the payer still owes on an issued invoice the client's to pay, with a reason: the
    client's next payment finds it (`record_client_payment`). Returns the amount moved."""
    return _settle_rest(session, invoice_id, reason, on, AllocationKind.MOVED_TO_CLIENT)


def named_invoice_problem(invoice: Invoice, payer_id: int | None, currency: str):
    """Why a payer's payment in `currency` cannot be applied to `invoice` (None: it can)."""
    problem = _not_issued_problem(invoice)
    if problem is not None:
        return problem
    if invoice.payer_id is None or invoice.payer_id != payer_id:
        return _l("%(invoice)s is not billed to this payer", invoice=str(invoice))
    if invoice.currency != currency:
        return _l(
            "%(invoice)s is in %(invoice_currency)s, not %(currency)s",
            invoice=str(invoice),
            invoice_currency=invoice.currency,
            currency=currency,
        )
    return None


def refuse_changing_allocated_charges(session: Session, participants: Iterable[Participant]) -> None:
    """A charge with payments, write-offs or a move applied is part of the books: its attendance,
    fee, currency, client and bill-to no longer change (take the allocations back first). One
    query, and only when a stored participant's charge is being changed."""
    changed = {p.id: p for p in participants if charge_changed(p)}
    if not changed:
        return
    allocated = session.scalars(
        select(Allocation.participant_id).where(Allocation.participant_id.in_(list(changed))).distinct()
    ).all()
    if allocated:
        names = ", ".join(sorted(changed[participant_id].client.full_name for participant_id in allocated))
        raise RuleViolation(
            _l(
                "%(names)s: payments or write-offs are applied to this charge, so its attendance, fee and "
                "bill-to cannot change.",
                names=names,
            ),
            field="participants",
        )


def charge_changed(participant: Participant) -> bool:
    """Whether a stored participant's charge (attendance, fee, currency, client, bill-to) is being changed."""
    state = inspect(participant)
    if not state.persistent:
        return False
    for name in CHARGE_FIELDS:
        history = state.attrs[name].history
        if history.has_changes() and list(history.deleted) != list(history.added):
            return True
    return False


def _not_issued_problem(invoice: Invoice):
    """Payments and write-offs apply to issued invoices only (not drafts, void ones, credit notes)."""
    if invoice.kind == InvoiceKind.INVOICE and invoice.status == InvoiceStatus.ISSUED:
        return None
    return _l("%(invoice)s is not an issued invoice (it is %(status)s)", invoice=str(invoice), status=invoice.status)


def _new_payment(*, received_on, amount, currency, method, reference, notes, **payer_or_client) -> Payment:
    """The payment's own values checked, each refusal naming its field; not added yet."""
    if received_on is None:
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("received_on")), field="received_on"
        )
    bounds.refuse(bounds.date_problem(received_on), "received_on")
    amount = Decimal(amount) if amount is not None else None
    bounds.refuse(bounds.amount_problem(amount), "amount")
    if amount is None or amount <= 0:
        raise RuleViolation(_l("%(field)s: must be more than zero", field=field_label("amount")), field="amount")
    reference = (reference or "").strip() or None
    bounds.refuse(bounds.length_problem(reference, REFERENCE_LENGTH), "reference")
    return Payment(
        received_on=received_on,
        amount=amount,
        currency=check_currency(currency, field="currency"),
        method=_method(method),
        reference=reference,
        notes=(notes or "").strip() or None,
        created_by_id=current_actor()[0],
        **payer_or_client,
    )


def _method(value: PaymentMethod | str) -> PaymentMethod:
    try:
        return PaymentMethod(value)
    except ValueError:
        raise RuleViolation(
            _l(
                "%(field)s: %(value)s is not one of: %(allowed)s",
                field=field_label("method"),
                value=value,
                allowed=", ".join(PaymentMethod),
            ),
            field="method",
        ) from None


def _check_named_invoices(session: Session, payment: Payment, invoice_ids: Iterable[int]) -> None:
    ids = list(dict.fromkeys(invoice_ids))
    found = {invoice.id: invoice for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
    problems = [
        _l("invoice %(id)s does not exist", id=id_)
        if id_ not in found
        else named_invoice_problem(found[id_], payment.payer_id, payment.currency)
        for id_ in ids
    ]
    problems = [str(problem) for problem in problems if problem is not None]
    if problems:
        raise RuleViolation(
            _l("%(field)s: %(problems)s", field=field_label("invoices"), problems="; ".join(problems)),
            field="invoices",
        )


def _payer_open_lines(payment: Payment, invoice_ids: Sequence[int]):
    """The lines the payer still owes on its issued invoices in the payment's currency (or the
    named ones), oldest invoice first, each by date of service."""
    position = charge_positions_query(payer_id=payment.payer_id, currency=payment.currency).order_by(None).subquery()
    query = (
        select(*position.c)
        .join(Invoice, Invoice.id == position.c.invoice_id)
        .where(
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
            Invoice.payer_id == payment.payer_id,
            position.c.payer_open_cents > 0,
        )
        # Numbers of one series have a fixed width ("INV-000042"), so they sort as text.
        .order_by(Invoice.invoice_date, Invoice.number, position.c.starts_at, position.c.participant_id)
    )
    if invoice_ids:
        query = query.where(Invoice.id.in_(list(invoice_ids)))
    return query


def _client_open_charges(payment: Payment):
    """What the client owes in the payment's currency, first in first out."""
    position = charge_positions_query(client_id=payment.client_id, currency=payment.currency).order_by(None).subquery()
    return (
        select(*position.c)
        .where(position.c.client_open_cents > 0)
        .order_by(position.c.starts_at, position.c.participant_id)
    )


def _apply(session: Session, payment: Payment, owed: list[tuple[int, Decimal]]) -> None:
    """Paid allocations of the (flushed) payment over `owed` (participant, amount) in order, while
    it lasts."""
    left, parts = payment.amount, []
    for participant_id, amount in owed:
        if left <= 0:
            break
        part = min(left, amount)
        parts.append((participant_id, part))
        left -= part
    _allocate(
        session,
        AllocationKind.PAID,
        parts,
        currency=payment.currency,
        applied_on=payment.received_on,
        payment_id=payment.id,
    )
    session.expire(payment, ["allocations"])


def _allocate(session: Session, kind: AllocationKind, parts: list[tuple[int, Decimal]], **fields) -> None:
    """Allocations of `kind` for (participant, amount) `parts`, in one batch with their audit
    events, so a payment over many charges costs as many statements as one over a few."""
    rows = [
        {"participant_id": participant_id, "kind": kind, "amount": amount, "created_by_id": current_actor()[0]}
        | {"payment_id": None, "reason": None}
        | fields
        for participant_id, amount in parts
    ]
    bulk.insert_records(session, Allocation, rows, bulk.audit_stamp())


def _settle_rest(
    session: Session, invoice_id: int, reason: str | None, on: dt.date | None, kind: AllocationKind
) -> Decimal:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_l("%(field)s: give the reason", field=field_label("reason")), field="reason")
    bounds.refuse(bounds.length_problem(reason, REASON_LENGTH), "reason")
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(_l("%(field)s: no such invoice", field=field_label("invoices")), field="invoices")
    bounds.refuse(_not_issued_problem(invoice), "invoices")
    if kind == AllocationKind.MOVED_TO_CLIENT and invoice.payer_id is None:
        raise RuleViolation(
            _l("%(invoice)s is billed to the client already: write the rest off instead", invoice=str(invoice)),
            field="invoices",
        )
    if invoice.payer_id is not None:
        session.get(Payer, invoice.payer_id, with_for_update=True)
    else:
        session.get(Client, invoice.client_id, with_for_update=True)
    lines = read_positions(session, charge_positions_query(invoice_ids=[invoice.id]))
    rests = [(line, line.payer_open if invoice.payer_id is not None else line.client_open) for line in lines]
    parts = [(line.participant_id, rest) for line, rest in rests if rest > 0]
    if not parts:
        raise RuleViolation(_l("Nothing is left to settle on %(invoice)s.", invoice=str(invoice)), field="invoices")
    _allocate(session, kind, parts, currency=invoice.currency, applied_on=on or clinic_time.today(), reason=reason)
    return sum((rest for _participant, rest in parts), Decimal(0))
