"""What an invoice or credit note document says, for the PDF, the workbook and the email (BILLING-NOTES.md:
what BC payers check).

`invoice_documents` loads any number of invoices in two queries (the invoices with their bill-to and
the invoice they credit; the lines with their client, therapist, supervisor and authorization), so a
category of hundreds of invoices costs what one does. The figures are the stored lines: each line is
already rounded half-up, and the totals are sums of those lines, in the invoice's one currency, so
the document adds up to the screen.

A category is the invoices of one run (every status: the run's drafts show as drafts), or the issued
and voided invoices and credit notes of a payer dated within a period (what was sent to the payer).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from admin_app.models import (
    Authorization,
    Client,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    Payer,
    Therapist,
)
from admin_app.services.platform import bounds
from admin_app.services.platform.documents import file_name
from admin_app.services.platform.errors import NotFound, RuleViolation


@dataclasses.dataclass(frozen=True)
class Practitioner:
    """Who gave the service, as a payer or a benefit plan asks: name, designation, registration, and
    the supervisor of a provisional registrant."""

    name: str
    designation: str | None
    registration_number: str | None
    registration_body: str | None
    supervisor: Practitioner | None = None


@dataclasses.dataclass(frozen=True)
class DocumentLine:
    """One date of service: for whom (a per-period payer invoice names a client on each line), by
    whom, what, and its rounded figures."""

    date_of_service: dt.date
    description: str
    client_name: str
    client_birth_date: dt.date | None
    reference: str | None
    therapist_name: str
    amount: Decimal
    tax_rate: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


@dataclasses.dataclass(frozen=True)
class InvoiceDocument:
    """One invoice or credit note as its document shows it. `number` is None for a draft."""

    id: int
    kind: InvoiceKind
    status: InvoiceStatus
    number: str | None
    invoice_date: dt.date
    currency: str
    bill_to_name: str
    bill_to_address: str | None
    provider_number: str | None
    payer_id: int | None
    client_id: int | None  # the bill-to client, or the one client of a per-client payer invoice
    client_name: str | None
    client_birth_date: dt.date | None
    notes: str | None
    credits_number: str | None  # the invoice a credit note credits
    practitioners: tuple[Practitioner, ...]
    lines: tuple[DocumentLine, ...]

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def references(self) -> tuple[str, ...]:
        """The claim or authorization references of its lines, each once, in order of service."""
        return tuple(dict.fromkeys(line.reference for line in self.lines if line.reference))

    @property
    def reference(self) -> str | None:
        """The claim reference when the invoice has exactly one (a per-client invoice), else None."""
        references = self.references
        return references[0] if len(references) == 1 else None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def label(self) -> str:
        """How a file or a sheet names it: the number, or "draft-<id>"."""
        return self.number or f"draft-{self.id}"

    def file_name(self, extension: str) -> str:
        """ "inv-000012-clm-88812345.pdf": the number and the claim reference, never a client's name."""
        if self.is_draft:
            return file_name("draft", self.id, extension=extension)
        return file_name(*filter(None, [self.number, self.reference]), extension=extension)


@dataclasses.dataclass(frozen=True)
class Category:
    """The invoices of a run, or of a payer dated within a period (local dates, both included)."""

    run_id: int | None = None
    payer_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Category:
        """`run=ID`, or `payer=ID&since=YYYY-MM-DD&until=YYYY-MM-DD`; refused naming the field."""
        run = (args.get("run") or "").strip()
        if run:
            run_id = bounds.record_id(run)
            if run_id is None:
                raise RuleViolation(_l("Run: give the number of an invoice run."), field="run")
            return cls(run_id=run_id)
        payer = (args.get("payer") or "").strip()
        if not payer:
            raise RuleViolation(_l("Choose an invoice run, or a payer and a period."), field="payer")
        payer_id = bounds.record_id(payer)
        if payer_id is None:
            raise RuleViolation(_l("Payer: choose a payer from the list."), field="payer")
        since = _date(args, "since", _l("From"))
        until = _date(args, "until", _l("Until"))
        if since > until:
            raise RuleViolation(_l("Until: the period ends before it starts."), field="until")
        return cls(payer_id=payer_id, since=since, until=until)

    def args(self) -> dict[str, str]:
        """The query string `parse` reads back (a run in the background keeps its category so)."""
        if self.run_id is not None:
            return {"run": str(self.run_id)}
        return {"payer": str(self.payer_id), "since": self.since.isoformat(), "until": self.until.isoformat()}


def _date(args: Mapping[str, str], name: str, label) -> dt.date:
    raw = (args.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        if not raw:
            raise RuleViolation(_l("%(field)s: required.", field=label), field=name) from None
        raise RuleViolation(_l("%(field)s: give a date as YYYY-MM-DD.", field=label), field=name) from None


def category_invoice_ids(session: Session, category: Category) -> list[int]:
    """The category's invoices in order of number (drafts last, by id). Refused when the run or payer
    does not exist or the category holds no invoice."""
    query = select(Invoice.id).order_by(Invoice.number.is_(None), Invoice.series, Invoice.number, Invoice.id)
    if category.run_id is not None:
        if session.get(InvoiceRun, category.run_id) is None:
            raise RuleViolation(_l("Invoice run %(id)s does not exist.", id=category.run_id), field="run")
        query = query.where(Invoice.run_id == category.run_id)
    else:
        if session.get(Payer, category.payer_id) is None:
            raise RuleViolation(_l("Payer: this payer does not exist."), field="payer")
        query = query.where(
            Invoice.payer_id == category.payer_id,
            Invoice.status != InvoiceStatus.DRAFT,
            Invoice.invoice_date.between(category.since, category.until),
        )
    ids = list(session.scalars(query))
    if not ids:
        raise RuleViolation(_l("There are no invoices to download for this choice."))
    return ids


def invoice_document(session: Session, invoice_id: int) -> InvoiceDocument:
    found = invoice_documents(session, [invoice_id])
    if not found:
        raise NotFound(_l("This invoice does not exist."))
    return found[0]


def invoice_documents(session: Session, invoice_ids: Sequence[int]) -> list[InvoiceDocument]:
    """The documents of these invoices, in the order given (unknown ids left out), in two queries."""
    ids = list(dict.fromkeys(invoice_ids))
    if not ids:
        return []
    lines = _lines(session, ids)
    credited = aliased(Invoice)
    rows = session.execute(
        select(Invoice, Payer, Client, credited.number.label("credits_number"))
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .outerjoin(Client, Client.id == Invoice.client_id)
        .outerjoin(credited, credited.id == Invoice.credits_id)
        .where(Invoice.id.in_(ids))
    ).all()
    by_id = {row.Invoice.id: _document(row, lines.get(row.Invoice.id, [])) for row in rows}
    return [by_id[invoice_id] for invoice_id in ids if invoice_id in by_id]


def _document(row, lines: list[tuple[DocumentLine, Practitioner]]) -> InvoiceDocument:
    invoice, payer, client = row.Invoice, row.Payer, row.Client
    return InvoiceDocument(
        id=invoice.id,
        kind=invoice.kind,
        status=invoice.status,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        currency=invoice.currency,
        bill_to_name=payer.name if payer is not None else client.full_name,
        bill_to_address=payer.billing_address if payer is not None else None,
        provider_number=payer.provider_number if payer is not None else None,
        payer_id=invoice.payer_id,
        client_id=invoice.client_id,
        client_name=client.full_name if client is not None else None,
        client_birth_date=client.birth_date if client is not None else None,
        notes=invoice.notes,
        credits_number=row.credits_number,
        practitioners=tuple(dict.fromkeys(practitioner for _line, practitioner in lines)),
        lines=tuple(line for line, _practitioner in lines),
    )


def _lines(session: Session, ids: list[int]) -> dict[int, list[tuple[DocumentLine, Practitioner]]]:
    supervisor = aliased(Therapist)
    rows = session.execute(
        select(
            InvoiceLine,
            Client.full_name.label("client_name"),
            Client.birth_date,
            Authorization.reference,
            Therapist,
            supervisor,
        )
        .join(Client, Client.id == InvoiceLine.client_id)
        .join(Therapist, Therapist.id == InvoiceLine.therapist_id)
        .outerjoin(supervisor, supervisor.id == Therapist.supervisor_id)
        .outerjoin(Authorization, Authorization.id == InvoiceLine.authorization_id)
        .where(InvoiceLine.invoice_id.in_(ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.date_of_service, InvoiceLine.id)
    ).all()
    found: dict[int, list[tuple[DocumentLine, Practitioner]]] = {}
    for row in rows:
        line = row.InvoiceLine
        therapist = row.Therapist
        practitioner = _practitioner(therapist, row[5] if therapist.provisional else None)
        found.setdefault(line.invoice_id, []).append(
            (
                DocumentLine(
                    date_of_service=line.date_of_service,
                    description=line.description,
                    client_name=row.client_name,
                    client_birth_date=row.birth_date,
                    reference=row.reference,
                    therapist_name=therapist.full_name,
                    amount=line.amount,
                    tax_rate=line.tax_rate,
                    tax=line.tax,
                ),
                practitioner,
            )
        )
    return found


def _practitioner(therapist: Therapist, supervisor: Therapist | None) -> Practitioner:
    return Practitioner(
        name=therapist.full_name,
        designation=therapist.designation,
        registration_number=therapist.registration_number,
        registration_body=therapist.registration_body,
        supervisor=None if supervisor is None else _practitioner(supervisor, None),
    )
