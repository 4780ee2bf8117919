"""Payments that come back, how they settle charges, and the receipts they give.

A payment comes from a payer or from a client. It is applied to charges (participants) by
allocations; an allocation is `paid` (part of a payment), `written_off` (staff gave up the rest,
with a reason) or `moved_to_client` (the rest of a payer's charge is now the client's to pay, with
a reason). What a payment does not cover stays on it as unapplied credit.

A charge is settled when its paid and written-off allocations reach its amount
(services.billing.ledger), and paid on the date of the allocation that settled it.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, CurrencyCode, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from admin_app.models.billing import Payer
    from admin_app.models.people import Client
    from admin_app.models.scheduling import Participant

RECEIPT_SERIES = "receipt"


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    TRANSFER = "transfer"  # bank transfer, e-transfer, direct deposit
    CHEQUE = "cheque"
    OTHER = "other"


class AllocationKind(enum.StrEnum):
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    MOVED_TO_CLIENT = "moved_to_client"


class Payment(Audited, Base):
    """Money received from a payer or a client, in one currency."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("(payer_id IS NULL) <> (client_id IS NULL)", name="one_payer_or_client"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("receipt_number IS NULL OR client_id IS NOT NULL", name="receipt_for_client"),
        Index("ix_payment_received_on_id", "received_on", "id"),  # the payments list's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    received_on: Mapped[dt.date]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CurrencyCode)
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    reference: Mapped[str | None] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)
    receipt_number: Mapped[str | None] = mapped_column(String(40), unique=True)  # a client's payment
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    payer: Mapped[Payer | None] = relationship()
    client: Mapped[Client | None] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(back_populates="payment", order_by="Allocation.id")


class Allocation(Audited, Base):
    """A part of a charge settled by a payment, written off, or moved from the payer to the client."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("(kind = 'paid') = (payment_id IS NOT NULL)", name="paid_by_payment"),
        CheckConstraint("kind = 'paid' OR reason IS NOT NULL", name="reason_unless_paid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[AllocationKind] = mapped_column(str_enum(AllocationKind, "allocation_kind"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CurrencyCode)
    applied_on: Mapped[dt.date]  # local date: the payment's date, or the day of the write-off or move
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    payment: Mapped[Payment | None] = relationship(back_populates="allocations")
    participant: Mapped[Participant] = relationship()


class ReceiptLink(Base):
    """An emailed link to a receipt's PDF: the token is derived from SECRET_KEY and `token_nonce`
    (services.platform.tokens); only its hash is kept; it works until `expires_at`."""

    __tablename__ = "receipt_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), index=True)
    token_nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
