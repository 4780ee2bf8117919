"""Sending an issued invoice or credit note by email, its PDF attached (issue 15, "Sending").

*Send* writes an outbox message (delivered after the commit, retried, never sent twice for one row)
and an InvoiceSending that records who sent it, to whom, and which message carries it. Every send is
a new message (its dedupe key is the sending's id): sending twice sends twice, as staff asked.

The message holds ids only. Its PDF is made at delivery from the invoice, which never changes once
issued, so the attachment is the document staff download; the email names nothing of the client
beyond the invoice number in its subject. A payer gets it in the practice's language
(DEFAULT_LOCALE), a self-paying client in their own.
"""

from __future__ import annotations

import dataclasses

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.models import Channel, Invoice, InvoiceKind, InvoiceSending, InvoiceStatus
from admin_app.services.billing import invoice_files
from admin_app.services.billing.invoice_documents import invoice_document
from admin_app.services.messaging import outbox
from admin_app.services.messaging.attachments import Attachment
from admin_app.services.platform.documents import PDF_MIMETYPE
from admin_app.services.platform.errors import NoLongerDue, NotFound, RuleViolation
from admin_app.services.platform.money import format_money

TEMPLATE = "invoice"
ATTACHMENT = "invoice_pdf"  # the message context's `attachment`: the invoice's PDF, made at delivery


@dataclasses.dataclass(frozen=True)
class Recipient:
    email: str
    language: str


def recipient(invoice: Invoice) -> Recipient | None:
    """Where the invoice goes: the payer's billing email, or the self-paying client's email; None without one."""
    if invoice.payer is not None:
        address = (invoice.payer.billing_email or "").strip()
        return Recipient(address, current_app.config["DEFAULT_LOCALE"]) if address else None
    address = (invoice.client.email or "").strip()
    return Recipient(address, invoice.client.preferred_language) if address else None


def can_send(invoice: Invoice) -> bool:
    return invoice.status == InvoiceStatus.ISSUED and recipient(invoice) is not None


def send_invoice(session: Session, invoice_id: int, *, user_id: int | None) -> InvoiceSending:
    """Queue the email of this issued invoice or credit note and record the sending; the caller commits.
    Refused for a draft, a void invoice, or a bill-to without an email address."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(_l("This invoice does not exist."))
    if invoice.status == InvoiceStatus.DRAFT:
        raise RuleViolation(_l("A draft cannot be sent: issue it first."))
    if invoice.status == InvoiceStatus.VOID:
        raise RuleViolation(_l("Invoice %(number)s is void: send its credit note instead.", number=invoice.number))
    to = recipient(invoice)
    if to is None:
        if invoice.payer is not None:
            raise RuleViolation(
                _l("Payer %(payer)s has no billing email: add one to send invoices.", payer=invoice.payer.name)
            )
        raise RuleViolation(_l("The client has no email address: add one to send the invoice."))
    sending = InvoiceSending(invoice_id=invoice.id, recipient=to.email, created_by_id=user_id)
    session.add(sending)
    session.flush()
    message = outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=to.email,
        template=TEMPLATE,
        language=to.language,
        context={"invoice_id": invoice.id, "attachment": ATTACHMENT},
        dedupe_key=f"invoice-sending:{sending.id}",
        client_id=invoice.client_id,
    )
    sending.message_id = message.id
    session.flush()
    return sending


def invoice_email_variables(session: Session, context: dict, language: str) -> dict:
    """What the email says: the number, date, total and, for a credit note, the invoice it credits."""
    invoice = session.get(Invoice, context["invoice_id"])
    if invoice is None or invoice.status != InvoiceStatus.ISSUED:
        raise NoLongerDue(_l("The invoice was voided or deleted before the email left."))
    document = invoice_document(session, invoice.id)
    return {
        "number": document.number,
        "credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "credits_number": document.credits_number,
        "invoice_date": document.invoice_date.isoformat(),
        "total": format_money(document.total, document.currency, language),
    }


def invoice_attachment(session: Session, context: dict, language: str) -> Attachment:
    """The invoice's PDF, made at delivery."""
    name, content = invoice_files.invoice_pdf_bytes(session, context["invoice_id"], language=language)
    return Attachment(name, PDF_MIMETYPE, content)
