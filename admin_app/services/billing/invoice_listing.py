"""The invoice listing (`flask billing invoices`): one entry per invoice or credit note, with its
figures from the ledger and its lines, as JSON or CSV.

Three statements whatever the number of invoices: the invoices with their bill-to, their figures
(`ledger.invoice_figures_query`), their lines. Amounts are strings with two decimals, as in the
other reports. The file names clients, so making it is recorded in the audit trail as an export.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from admin_app.models import Authorization, Client, Invoice, InvoiceLine, InvoiceStatus, Payer
from admin_app.services.billing.ledger import InvoiceState, invoice_figures_query
from admin_app.services.platform import clinic_time, documents
from admin_app.services.platform.money import from_cents

STATUSES = tuple(state.value for state in InvoiceState)
CSV_COLUMNS = (
    "id",
    "number",
    "kind",
    "bill_to",
    "client_national_id",
    "client_number",
    "currency",
    "total",
    "paid",
    "status",
    "issued_on",
    "lines",
)
EXPORT = documents.Export(Invoice.__tablename__)


def invoice_entries(session: Session, status: str | None = None) -> list[dict]:
    """Every invoice and credit note (or those of one listing status), by id."""
    figures = invoice_figures_query().subquery("figures")
    rows = session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.kind,
            Invoice.status,
            Invoice.invoice_date,
            Invoice.currency,
            Payer.name.label("payer"),
            Client.full_name.label("client"),
            Client.national_id,
            Client.client_number,
            figures.c.total_cents,
            figures.c.paid_cents,
            figures.c.status.label("state"),
        )
        .join(figures, figures.c.invoice_id == Invoice.id)
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .outerjoin(Client, Client.id == Invoice.client_id)
        .where(*([figures.c.status == status] if status else []))
        .order_by(Invoice.id)
    ).all()
    lines = _lines(session, [row.id for row in rows])
    return [
        {
            "id": row.id,
            "number": row.number,
            "kind": row.kind.value,
            "bill_to": row.payer or row.client,
            "client_national_id": row.national_id,
            "client_number": row.client_number,
            "currency": row.currency,
            "total": str(from_cents(row.total_cents)),
            "paid": str(from_cents(row.paid_cents)),
            "status": row.state,
            "issued_on": None if row.status == InvoiceStatus.DRAFT else row.invoice_date.isoformat(),
            "lines": lines.get(row.id, []),
        }
        for row in rows
    ]


def _lines(session: Session, invoice_ids: list[int]) -> dict[int, list[dict]]:
    """The lines of these invoices in one statement, by date of service."""
    if not invoice_ids:
        return {}
    client = aliased(Client)
    rows = session.execute(
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.date_of_service,
            InvoiceLine.description,
            InvoiceLine.amount,
            InvoiceLine.tax,
            client.client_number,
            Authorization.reference,
        )
        .join(client, client.id == InvoiceLine.client_id)
        .outerjoin(Authorization, Authorization.id == InvoiceLine.authorization_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.date_of_service, InvoiceLine.id)
    )
    lines: dict[int, list[dict]] = {}
    for row in rows:
        lines.setdefault(row.invoice_id, []).append(
            {
                "date_of_service": row.date_of_service.isoformat(),
                "client_number": row.client_number,
                "reference": row.reference,
                "description": row.description,
                "amount": str(row.amount),
                "tax": str(row.tax),
                "total": str(row.amount + row.tax),
            }
        )
    return lines


def invoices_json(session: Session, status: str | None = None) -> documents.Document:
    text = json.dumps(invoice_entries(session, status), ensure_ascii=False, indent=2) + "\n"
    return documents.text_document(session, text, mimetype="application/json", filename=_name("json"), export=EXPORT)


def invoices_csv(session: Session, status: str | None = None) -> documents.Document:
    """One CSV row per invoice; `lines` is the number of its lines (the JSON carries them whole)."""
    entries = invoice_entries(session, status)
    rows = ([len(entry[column]) if column == "lines" else entry[column] for column in CSV_COLUMNS] for entry in entries)
    return documents.csv_document(session, CSV_COLUMNS, rows, filename=_name("csv"), export=EXPORT)


def _name(extension: str) -> str:
    return documents.file_name("invoices", clinic_time.today().isoformat(), extension=extension)
