"""Invoices and credit notes, their lines, the runs that draft them and the sendings that email them.

An invoice line holds one charge (a participant of a session, DESIGN.md "Money after the session").
`holds` marks the line that keeps the charge invoiced: at most one per participant (a partial unique
index), so two runs at once, or a run twice, can never invoice a charge twice. A line stops holding
when it is removed from a draft or its invoice is voided; a credit note's lines never hold.

An issued invoice never changes: its number, date, lines and amounts are read-only from then on
(services.billing.drafts refuses every change); voiding it (services.billing.issuing) issues a
credit note with the opposite amounts and frees the charges.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, CurrencyCode, Percent, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from admin_app.models.billing import Authorization, Payer
    from admin_app.models.people import Client, Therapist
    from admin_app.models.scheduling import Participant

INVOICE_SERIES = "invoice"
CREDIT_NOTE_SERIES = "credit_note"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"


class InvoiceRun(Audited, Base):
    """One invoice run: the drafts it made for the uninvoiced charges up to `through`."""

    __tablename__ = "invoice_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    through: Mapped[dt.date]
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"))
    self_pay: Mapped[bool] = mapped_column(default=False)  # only the charges billed to clients
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    payer: Mapped[Payer | None] = relationship()


class Invoice(Audited, Base):
    """An invoice (to a payer or a client) or a credit note; `number` is set when issued."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("series", "number", name="uq_invoice_series_number"),
        CheckConstraint("payer_id IS NOT NULL OR client_id IS NOT NULL", name="has_bill_to"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_once_issued"),
        CheckConstraint("status <> 'void' OR void_reason IS NOT NULL", name="void_has_reason"),
        Index("ix_invoice_bill_to", "payer_id", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind, "invoice_kind"), default=InvoiceKind.INVOICE)
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus, "invoice_status"), default=InvoiceStatus.DRAFT, index=True
    )
    series: Mapped[str | None] = mapped_column(String(40))
    number: Mapped[str | None] = mapped_column(String(40))
    # Billed to a payer (payer_id; client_id too when one invoice per client), or to a client alone.
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    currency: Mapped[str] = mapped_column(CurrencyCode)
    invoice_date: Mapped[dt.date]  # local date; set at issue unless the draft's was changed by hand
    period_start: Mapped[dt.date | None]  # the first and last dates of service it may hold
    period_end: Mapped[dt.date]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_run.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    credits_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(255))

    payer: Mapped[Payer | None] = relationship()
    client: Mapped[Client | None] = relationship()
    run: Mapped[InvoiceRun | None] = relationship()
    credits: Mapped[Invoice | None] = relationship(remote_side=[id])
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="(InvoiceLine.date_of_service, InvoiceLine.id)"
    )

    def __str__(self) -> str:
        return self.number or f"draft {self.id}"


class InvoiceLine(Audited, Base):
    """One charge on an invoice: a date of service, its description, amount and tax.

    `charge_amount` is the charge when the line was made; `amount` is what is billed (the same,
    unless a draft's line was adjusted, with the reason). On a credit note both are negative.
    """

    __tablename__ = "invoice_line"
    __table_args__ = (
        Index(
            "uq_invoice_line_holding_participant",
            "participant_id",
            unique=True,
            sqlite_where=text("holds"),
            postgresql_where=text("holds"),
        ),
        CheckConstraint("amount = charge_amount OR adjustment_reason IS NOT NULL", name="adjustment_has_reason"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="RESTRICT"), index=True)
    holds: Mapped[bool] = mapped_column(default=True)
    date_of_service: Mapped[dt.date]
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"))
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("payer_authorization.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(String(255))
    charge_amount: Mapped[Decimal]
    amount: Mapped[Decimal]
    adjustment_reason: Mapped[str | None] = mapped_column(String(255))
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    participant: Mapped[Participant] = relationship()
    therapist: Mapped[Therapist] = relationship()
    client: Mapped[Client] = relationship()
    authorization: Mapped[Authorization | None] = relationship()

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


class InvoiceSending(Base):
    """Each time an invoice was emailed: to whom, when, and the outbox message that carries it."""

    __tablename__ = "invoice_sending"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
