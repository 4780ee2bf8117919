"""Issuing invoices and voiding them with a credit note (DESIGN.md, "Invoices").

Issuing gives each draft the next number of its series: the practice's invoice series, or the
payer's own where the payer has a prefix. Numbers come from the platform counter in the caller's
transaction (services.platform.documents.numbering): gap-free and never reused, even when several
processes issue at once; a batch takes each series' numbers in one statement and writes the
invoices in one bulk UPDATE. On PostgreSQL the drafts are read FOR UPDATE, so a draft issued by
another process meanwhile is seen as issued and refused; SQLite serialises writers.

An issued invoice never changes. Voiding it (with a reason) marks it void, frees its charges for a
later run, and issues a credit note (its own series) with the opposite amounts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from flask_babel import lazy_gettext, ngettext
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payer,
)
from admin_app.models.base import utcnow
from admin_app.services.billing.numbers import Series, credit_note_series, invoice_series
from admin_app.services.platform import bulk, clinic_time
from admin_app.services.platform.documents.numbering import next_number, next_numbers
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.id_lists import among


@dataclasses.dataclass(frozen=True)
class Issued:
    """An invoice as issuing left it: what its callers say of it (a caller that needs the record reads it)."""

    id: int
    number: str


def issue(session: Session, invoice_ids: Sequence[int]) -> list[Issued]:
    """Issue these drafts, all or none: each gets the next number of its series and is read-only from
    then on. Refused, naming each invoice and reason, when one is not a draft, has no line, is dated
    after today (never post-dated) or before one of its dates of service.

    The drafts are read as rows (locked) with their lines' count and last date of service, each
    series' numbers taken in one statement, and the invoices and their audit events written in bulk;
    the issued invoices' ids and numbers are returned, by id (reading hundreds of them back as records
    took a fifth of the issue)."""
    ids = sorted(set(invoice_ids))
    drafts = session.execute(_drafts_query(ids)).all()
    _check_issuable(ids, drafts)
    series_of = {prefix: invoice_series(prefix) for prefix in {draft.invoice_prefix for draft in drafts}}
    by_series: dict[Series, list[int]] = {}
    for draft in drafts:
        by_series.setdefault(series_of[draft.invoice_prefix], []).append(draft.id)
    now = utcnow()
    changes = []
    for series, series_ids in by_series.items():
        numbers = next_numbers(session, series.key, len(series_ids))
        for invoice_id, value in zip(series_ids, numbers, strict=True):
            changed = {
                "status": InvoiceStatus.ISSUED,
                "series": series.key,
                "number": series.number(value),
                "issued_at": now,
            }
            changes.append((invoice_id, changed))
    bulk.update_by_id(session, Invoice, changes)
    bulk.record_updates(
        session, bulk.audit_stamp(), [(Invoice.__tablename__, id_, changed) for id_, changed in changes]
    )
    _expire_loaded(session, ids)
    return [Issued(invoice_id, changed["number"]) for invoice_id, changed in sorted(changes)]


def _expire_loaded(session: Session, ids: Sequence[int]) -> None:
    """The bulk UPDATE goes around the session: an invoice it already holds would still read as a draft.
    The session's few records are looked through, not each of hundreds of ids looked up."""
    wanted = set(ids)
    held = [record for key, record in session.identity_map.items() if key[0] is Invoice and key[1][0] in wanted]
    for invoice in held:
        session.expire(invoice, ["status", "series", "number", "issued_at"])


def all_drafts(session: Session) -> list[int]:
    return session.scalars(select(Invoice.id).where(Invoice.status == InvoiceStatus.DRAFT).order_by(Invoice.id)).all()


def _drafts_query(ids: Sequence[int]):
    """The invoices `ids`, locked (PostgreSQL), each with its payer's invoice prefix and its lines'
    count and last date of service (correlated by the lines' index): one statement, where separate
    ones for the prefixes and the lines added half of the issue's time in Python and round trips."""
    lines = select(func.count()).where(InvoiceLine.invoice_id == Invoice.id).scalar_subquery()
    last_day = select(func.max(InvoiceLine.date_of_service)).where(InvoiceLine.invoice_id == Invoice.id)
    return (
        select(
            Invoice.id,
            Invoice.status,
            Invoice.number,
            Invoice.payer_id,
            Invoice.invoice_date,
            Payer.invoice_prefix,
            lines.label("lines"),
            last_day.scalar_subquery().label("last_day"),
        )
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .where(among(Invoice.id, ids))
        .order_by(Invoice.id)
        .with_for_update(of=Invoice)
    )


def _check_issuable(ids: Sequence[int], drafts: Sequence) -> None:
    found = {invoice.id for invoice in drafts}
    problems = [lazy_gettext("Invoice %(id)s does not exist.", id=missing) for missing in ids if missing not in found]
    today = clinic_time.today()
    for invoice in drafts:
        if invoice.status != InvoiceStatus.DRAFT:
            problems.append(lazy_gettext("Invoice %(number)s is already issued.", number=invoice.number))
        elif not invoice.lines:
            problems.append(lazy_gettext("Draft %(id)s has no lines.", id=invoice.id))
        elif invoice.invoice_date > today:
            problems.append(
                lazy_gettext("Draft %(id)s is dated after today: an invoice is never post-dated.", id=invoice.id)
            )
        elif invoice.invoice_date < invoice.last_day:
            problems.append(
                lazy_gettext(
                    "Draft %(id)s is dated before its last date of service (%(day)s).",
                    id=invoice.id,
                    day=invoice.last_day.isoformat(),
                )
            )
    if problems:
        heading = ngettext(
            "Nothing was issued: %(num)d problem.", "Nothing was issued: %(num)d problems.", len(problems)
        )
        raise RuleViolation(" ".join([heading, *map(str, problems)]))


def void(session: Session, invoice: Invoice, reason: str | None) -> Invoice:
    """Void an issued invoice and issue its credit note; its charges are free to be invoiced again.

    Refused while payments or write-offs are applied to its charges: they would be left on a void
    invoice (take them back first)."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(lazy_gettext("Give the reason for voiding the invoice."), field="void_reason")
    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
        raise RuleViolation(lazy_gettext("Only an issued invoice can be voided."))
    holding = select(InvoiceLine.participant_id).where(InvoiceLine.invoice_id == invoice.id, InvoiceLine.holds)
    if session.scalar(select(exists().where(Allocation.participant_id.in_(holding)))):
        raise RuleViolation(
            lazy_gettext(
                "Invoice %(number)s has payments or write-offs applied; it cannot be voided.", number=invoice.number
            )
        )
    series = credit_note_series()
    credit = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        status=InvoiceStatus.ISSUED,
        payer_id=invoice.payer_id,
        client_id=invoice.client_id,
        currency=invoice.currency,
        invoice_date=clinic_time.today(),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        credits_id=invoice.id,
        notes=reason,
        issued_at=utcnow(),
        series=series.key,
        number=series.number(next_number(session, series.key)),
    )
    credit.lines = [_opposite(line) for line in invoice.lines]
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = utcnow()
    invoice.void_reason = reason[:255]
    for line in invoice.lines:
        line.holds = False
    session.add(credit)
    session.flush()
    return credit


def _opposite(line: InvoiceLine) -> InvoiceLine:
    return InvoiceLine(
        participant_id=line.participant_id,
        holds=False,
        date_of_service=line.date_of_service,
        therapist_id=line.therapist_id,
        client_id=line.client_id,
        authorization_id=line.authorization_id,
        description=line.description,
        charge_amount=-line.charge_amount,
        amount=-line.amount,
        adjustment_reason=line.adjustment_reason,
        tax_rate=line.tax_rate,
        tax=-line.tax,
    )
