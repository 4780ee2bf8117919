"""Payments received, from a spreadsheet (a bank statement, a payer's remittance).

Each row is one payment: date, amount, currency, method, optional reference, and who paid, one of:
- `invoice_number`: a payer's payment of that issued invoice (the payer is the invoice's; a
  `payer` cell, when given too, must name it);
- `payer`: a payer by name (any case), applied to its oldest open invoices in that currency;
- the client's national ID or client number (or email, as `matching` says): a client's payment,
  applied first in, first out, with a receipt number.
Rows are recorded in the file's order by the same service as the screen (`billing.payments`),
so a later row finds what an earlier one left open. A payment has no natural key: the same file
imported twice records its payments twice (the preview says how many will be created).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Invoice, InvoiceKind, Payer, PaymentMethod
from admin_app.services.billing import payments
from admin_app.services.imports import matching, values
from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import Action, ImportPlan, RowError
from admin_app.services.imports.rows import Cells, chunks, report_missing_columns
from admin_app.services.platform.errors import RuleViolation

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("fecha",),
    "amount": ("monto",),
    "currency": ("moneda",),
    "method": ("metodo",),
    "reference": ("referencia",),
    "invoice_number": ("factura",),
    "payer": ("pagador",),
    **matching.CLIENT_COLUMN_ALIASES,
}
REQUIRED: tuple[str, ...] = ("date", "amount", "currency", "method")
# What tells the rows apart.
KEY_COLUMNS: tuple[str, ...] = ("date", "amount", "currency", "invoice_number", "payer", *matching.CLIENT_COLUMNS)
KEY_PARSERS = {
    "client_national_id": matching.parse_national_id,
    "client_number": matching.parse_client_number,
    "client_email": values.email,
}
# Methods as staff write them, in English, Spanish and French.
METHODS = {
    "cash": PaymentMethod.CASH,
    "efectivo": PaymentMethod.CASH,
    "espèces": PaymentMethod.CASH,
    "card": PaymentMethod.CARD,
    "tarjeta": PaymentMethod.CARD,
    "carte": PaymentMethod.CARD,
    "transfer": PaymentMethod.TRANSFER,
    "transferencia": PaymentMethod.TRANSFER,
    "virement": PaymentMethod.TRANSFER,
    "cheque": PaymentMethod.CHEQUE,
    "check": PaymentMethod.CHEQUE,
    "chèque": PaymentMethod.CHEQUE,
    "other": PaymentMethod.OTHER,
    "otro": PaymentMethod.OTHER,
    "autre": PaymentMethod.OTHER,
}
WHO_COLUMNS = ("invoice_number", "payer", *matching.CLIENT_COLUMNS)  # a row needs one of them
# The service's fields, as the file's columns (a refusal at write time names the cell).
FIELD_COLUMNS = {"received_on": "date", "invoices": "invoice_number"}


@dataclasses.dataclass
class Line:
    row: Row
    cells: Cells
    fields: dict[str, object]  # received_on, amount, currency, method, reference
    invoice_number: str | None
    payer: str | None
    keys: matching.ClientKeys | None


@dataclasses.dataclass(frozen=True)
class Change:
    """One payment to record: by a payer (to `invoice_ids`, else oldest first) or by a client."""

    row: int
    headers: dict[str, str]
    fields: dict[str, object]
    payer_id: int | None = None
    invoice_ids: tuple[int, ...] = ()
    client_id: int | None = None


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="payments")
    if report_missing_columns(result, table, REQUIRED, COLUMNS):
        return result
    if not any(name in table.headers for name in WHO_COLUMNS):
        result.error(1, "invoice_number", WHO_PAID)
        return result
    lines = [read_row(result, table, row) for row in table.checked_rows()]
    invoices = invoices_by_number(session, {line.invoice_number for line in lines} - {None})
    payers = {payer.name.casefold(): payer for payer in session.scalars(select(Payer))}
    clients = matching.load_client_index(session, (line.keys for line in lines if line.keys is not None))
    for line in lines:
        change = resolve(line, table, invoices, payers, clients)
        if change is not None and line.cells.ok:
            result.actions[line.row.number] = Action.CREATE
            result.changes.append(change)
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    """Each payment through the payments service, in the file's order; no commit. A refusal
    there (the rows were checked, so only a change meanwhile) is raised naming its row and cell:
    every caller rolls the whole file back on a RuleViolation."""
    for change in plan.changes:
        try:
            if change.client_id is not None:
                payments.record_client_payment(session, client_id=change.client_id, **change.fields)
            else:
                payments.record_payer_payment(
                    session, payer_id=change.payer_id, invoice_ids=change.invoice_ids, **change.fields
                )
        except RuleViolation as refused:
            column = FIELD_COLUMNS.get(refused.field, refused.field) or ""
            where = RowError(change.row, change.headers.get(column, column), str(refused))
            raise RuleViolation(str(where), field="file") from None


WHO_PAID = _l(
    "say who paid: invoice_number, payer, or the client's client_national_id or client_number "
    "(factura, pagador, dni, numero_cliente)"
)


def read_row(result: ImportPlan, table: Table, row: Row) -> Line:
    cells = Cells(result, table, row)
    fields = {
        "received_on": cells("date", values.local_date),
        "amount": cells("amount", positive_amount),
        "currency": cells("currency", values.currency),
        "method": cells("method", values.choice, aliases=METHODS),
        "reference": cells("reference", values.text, max_length=payments.REFERENCE_LENGTH, is_required=False),
    }
    keys = None
    if any(row.values.get(name) for name in matching.CLIENT_COLUMNS):
        column = {name: table.headers.get(name, name) for name in COLUMNS}
        keys = matching.client_keys(row, matching.first_client_column(table), column, result, KEY_PARSERS)
        if keys is None:
            cells.ok = False  # said on the plan by client_keys
    return Line(
        row=row,
        cells=cells,
        fields=fields,
        invoice_number=cells("invoice_number", values.text, max_length=40, is_required=False),
        payer=cells("payer", values.text, max_length=200, is_required=False),
        keys=keys,
    )


def positive_amount(value: str) -> Decimal:
    amount = values.amount(value)
    if amount <= 0:
        raise values.CellError(_l("must be more than zero, got %(value)s", value=value))
    return amount


def invoices_by_number(session: Session, numbers: set[str]) -> dict[str, list[Invoice]]:
    """The invoices (not credit notes) with the file's numbers; one number may be in two series."""
    found: dict[str, list[Invoice]] = {}
    for chunk in chunks(sorted(numbers)):
        query = select(Invoice).where(Invoice.number.in_(chunk), Invoice.kind == InvoiceKind.INVOICE)
        for invoice in session.scalars(query):
            found.setdefault(invoice.number, []).append(invoice)
    return found


def resolve(
    line: Line,
    table: Table,
    invoices: dict[str, list[Invoice]],
    payers: dict[str, Payer],
    clients: matching.ClientIndex,
) -> Change | None:
    """Who paid, against the database; None when the row is in error (said on the plan)."""
    cells = line.cells
    payer = None
    if line.payer is not None:
        payer = payers.get(line.payer.casefold())
        if payer is None:
            cells.fail("payer", _l("no payer is named %(value)s", value=line.payer))
    given = [line.invoice_number is not None or line.payer is not None, line.keys is not None]
    if all(given):
        cells.fail(
            "invoice_number" if line.invoice_number else "payer",
            _l("give either the payer (or its invoice) or the client, not both"),
        )
    elif not any(given) and cells.ok:
        cells.fail(next(name for name in WHO_COLUMNS if name in table.headers), WHO_PAID)
    change = {"row": line.row.number, "headers": table.headers, "fields": line.fields}
    if line.invoice_number is not None:
        invoice = invoice_of(line, invoices, payer)
        return Change(**change, payer_id=invoice.payer_id, invoice_ids=(invoice.id,)) if invoice and cells.ok else None
    if payer is not None:
        return Change(**change, payer_id=payer.id) if cells.ok else None
    if line.keys is not None:
        try:
            found = matching.existing_client(clients, line.keys)
        except matching.MatchError as error:
            cells.fail(matching.key_column(error.key), error.reason)
            return None
        return Change(**change, client_id=found.client.id) if cells.ok else None
    return None


def invoice_of(line: Line, invoices: dict[str, list[Invoice]], payer: Payer | None) -> Invoice | None:
    """The row's invoice, when it can take a payer's payment in the row's currency."""
    cells, number = line.cells, line.invoice_number
    candidates = invoices.get(number, [])
    if payer is not None:
        candidates = [invoice for invoice in candidates if invoice.payer_id == payer.id] or candidates
    if not candidates:
        cells.fail("invoice_number", _l("no invoice has the number %(value)s", value=number))
        return None
    if len(candidates) > 1:
        cells.fail("invoice_number", _l("%(value)s is the number of several invoices: add the payer", value=number))
        return None
    invoice = candidates[0]
    if invoice.payer_id is None:
        cells.fail(
            "invoice_number",
            _l("%(value)s is billed to a client: name the client (dni or numero_cliente) instead", value=number),
        )
        return None
    if payer is not None and invoice.payer_id != payer.id:
        cells.fail("payer", _l("%(invoice)s is not billed to %(payer)s", invoice=number, payer=payer.name))
        return None
    currency = line.fields["currency"]
    problem = payments.named_invoice_problem(invoice, invoice.payer_id, currency) if currency else None
    if problem is not None:
        cells.fail("invoice_number", problem)
        return None
    return invoice
