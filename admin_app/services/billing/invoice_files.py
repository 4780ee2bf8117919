"""Invoices and credit notes as files: a PDF and a workbook each, and per category (a run, or a payer
and a period) one ZIP of PDFs and one workbook with a summary sheet and a sheet per invoice.

Everything comes from `invoice_documents` (a constant number of queries for any number of invoices)
and is written in the language asked for: the reader's for a download, the recipient's for an email.
File names carry the number and the claim reference, never a client's name (ICBC's rule, kept for
every payer). Each download is recorded as an export by the documents service that makes it; the
PDF attached to an email is recorded as the invoice's sending instead (services.billing.sending).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models.audit import Actor
from admin_app.services.billing.invoice_documents import (
    Category,
    InvoiceDocument,
    Practitioner,
    category_invoice_ids,
    invoice_document,
    invoice_documents,
)
from admin_app.services.platform import documents
from admin_app.services.platform.documents.pdf import render_pdf
from admin_app.services.platform.documents.spreadsheets import Sheet
from admin_app.services.platform.progress import Progress, ignore

TEMPLATE = "pdf/invoice.html"
AUDITED_ENTITY = "invoice"


def invoice_pdf(session: Session, invoice_id: int, *, language: str) -> documents.Document:
    """One invoice or credit note as a PDF, recorded as an export of that invoice."""
    document = invoice_document(session, invoice_id)
    return documents.pdf_document(
        session,
        invoice_html(document, language=language),
        filename=document.file_name("pdf"),
        export=documents.Export(AUDITED_ENTITY, invoice_id),
    )


def invoice_pdf_bytes(session: Session, invoice_id: int, *, language: str) -> tuple[str, bytes]:
    """The same PDF's file name and content, for an email attachment (not an export: the sending
    that attaches it is its record)."""
    document = invoice_document(session, invoice_id)
    return document.file_name("pdf"), render_pdf(invoice_html(document, language=language))


def invoice_workbook(session: Session, invoice_id: int, *, language: str) -> documents.Document:
    """One invoice or credit note as a workbook of one sheet: header block, lines, totals."""
    document = invoice_document(session, invoice_id)
    language = _language(language)
    with force_locale(language):
        sheets = [Sheet(document.label, list(_invoice_rows(document)))]
    return documents.workbook_document(
        session, sheets, filename=document.file_name("xlsx"), export=documents.Export(AUDITED_ENTITY, invoice_id)
    )


def category_pdfs(
    session: Session,
    category: Category,
    *,
    language: str,
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    progress: Progress = ignore,
) -> documents.Document:
    """A ZIP of the category's invoices, one PDF each (`progress` counts them), named as each one's
    own download."""
    chosen = invoice_documents(session, category_invoice_ids(session, category))
    return documents.pdf_zip_document(
        session,
        [(document.file_name("pdf"), invoice_html(document, language=language)) for document in chosen],
        filename=category_file_name(category, "zip"),
        export=documents.Export(AUDITED_ENTITY),
        now=now,
        actor=actor,
        progress=progress,
    )


def category_workbook(session: Session, category: Category, *, language: str) -> documents.Document:
    """One workbook for the category: a summary sheet (one row per invoice), then a sheet per invoice."""
    chosen = invoice_documents(session, category_invoice_ids(session, category))
    with force_locale(_language(language)):
        sheets = [
            Sheet(gettext("Summary"), list(_summary_rows(chosen))),
            *(Sheet(document.label, list(_invoice_rows(document))) for document in chosen),
        ]
    return documents.workbook_document(
        session, sheets, filename=category_file_name(category, "xlsx"), export=documents.Export(AUDITED_ENTITY)
    )


def category_file_name(category: Category, extension: str) -> str:
    """ "invoice-run-7.zip", or "invoices-payer-3-2026-10-01-2026-10-31.xlsx" (ids, never names)."""
    if category.run_id is not None:
        return documents.file_name("invoice-run", category.run_id, extension=extension)
    return documents.file_name("invoices-payer", category.payer_id, category.since, category.until, extension=extension)


def invoice_html(document: InvoiceDocument, *, language: str) -> str:
    """The invoice as a complete HTML document for the PDF writer, every value escaped."""
    language = _language(language)
    with force_locale(language):
        return render_template(
            TEMPLATE,
            language=language,
            invoice=document,
            title=_title(document),
            practice_name=current_app.config["PRACTICE_NAME"],
            practice_address=current_app.config["PRACTICE_ADDRESS"],
            practitioners=[practitioner_text(practitioner) for practitioner in document.practitioners],
            rate=percent,
        )


def practitioner_text(practitioner: Practitioner) -> str:
    """ "Lucía Torres, R.Psych., registration 01234 (College of Health and Care Professionals of BC);
    supervised by ..." in the current language."""
    parts = [practitioner.name]
    if practitioner.designation:
        parts.append(practitioner.designation)
    if practitioner.registration_number:
        registration = gettext("registration %(number)s", number=practitioner.registration_number)
        if practitioner.registration_body:
            registration += f" ({practitioner.registration_body})"
        parts.append(registration)
    text = ", ".join(parts)
    if practitioner.supervisor is not None:
        text += "; " + gettext("supervised by %(supervisor)s", supervisor=practitioner_text(practitioner.supervisor))
    return text


def percent(rate: Decimal) -> str:
    """A tax rate as "0 %", "5 %" or "12.5 %"."""
    return f"{rate.normalize():f} %"


def _title(document: InvoiceDocument) -> str:
    if document.is_draft:
        return gettext("DRAFT invoice")
    return gettext("Credit note") if document.is_credit_note else gettext("Invoice")


def _invoice_rows(document: InvoiceDocument) -> Iterator[list[object]]:
    """Header block (label, value), a blank row, the lines, a blank row, the totals under the last column."""
    config = current_app.config
    yield [_title(document)]
    yield [gettext("Number"), document.number or gettext("DRAFT")]
    yield [gettext("Date"), document.invoice_date]
    if document.credits_number:
        yield [gettext("Credits invoice"), document.credits_number]
    yield [gettext("Practice"), config["PRACTICE_NAME"]]
    if config["PRACTICE_ADDRESS"]:
        yield [gettext("Practice address"), config["PRACTICE_ADDRESS"]]
    if document.provider_number:
        yield [gettext("Vendor number"), document.provider_number]
    yield [gettext("Bill to"), document.bill_to_name]
    if document.bill_to_address:
        yield [gettext("Billing address"), document.bill_to_address]
    if document.client_name:
        yield [gettext("Client"), document.client_name]
        yield [gettext("Date of birth"), document.client_birth_date]
    if document.reference:
        yield [gettext("Claim reference"), document.reference]
    for practitioner in document.practitioners:
        yield [gettext("Therapist"), practitioner_text(practitioner)]
    yield [gettext("Currency"), document.currency]
    if document.notes:
        yield [gettext("Notes"), document.notes]
    yield []
    header = [
        gettext("Date of service"),
        gettext("Client"),
        gettext("Date of birth"),
        gettext("Claim reference"),
        gettext("Therapist"),
        gettext("Description"),
        gettext("Amount"),
        gettext("Tax rate (%)"),
        gettext("Tax"),
        gettext("Total"),
    ]
    yield header
    for line in document.lines:
        yield [
            line.date_of_service,
            line.client_name,
            line.client_birth_date,
            line.reference,
            line.therapist_name,
            line.description,
            line.amount,
            line.tax_rate,
            line.tax,
            line.total,
        ]
    yield []
    padding = [None] * (len(header) - 2)
    yield [gettext("Subtotal"), *padding, document.subtotal]
    yield [gettext("Tax"), *padding, document.tax]
    yield [gettext("Total"), *padding, document.total]


def _summary_rows(chosen: Sequence[InvoiceDocument]) -> Iterator[list[object]]:
    yield [
        gettext("Number"),
        gettext("Date"),
        gettext("Kind"),
        gettext("Bill to"),
        gettext("Client"),
        gettext("Claim reference"),
        gettext("Currency"),
        gettext("Subtotal"),
        gettext("Tax"),
        gettext("Total"),
    ]
    for document in chosen:
        clients = document.client_name or "; ".join(dict.fromkeys(line.client_name for line in document.lines))
        yield [
            document.number or gettext("DRAFT"),
            document.invoice_date,
            _title(document),
            document.bill_to_name,
            clients,
            "; ".join(document.references),
            document.currency,
            document.subtotal,
            document.tax,
            document.total,
        ]


def _language(language: str) -> str:
    return language if language in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]
