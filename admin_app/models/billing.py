"""Who pays: third-party payers and each client's payment sources."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, CurrencyCode, Percent, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from admin_app.models.people import Client, Therapist


class PayerKind(enum.StrEnum):
    INSURER = "insurer"
    EMPLOYER = "employer"  # an employer or employee assistance programme
    PUBLIC = "public"  # a public programme (WorkSafeBC, Crime Victim Assistance Program)
    OTHER = "other"


class InvoiceGrouping(enum.StrEnum):
    PER_CLIENT = "per_client"  # one invoice per client (what most payers require)
    PER_PERIOD = "per_period"  # one invoice per payer per period


class Payer(Audited, Base):
    __tablename__ = "payer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[PayerKind] = mapped_column(str_enum(PayerKind, "payer_kind"))
    billing_email: Mapped[str | None] = mapped_column(String(255))
    billing_address: Mapped[str | None] = mapped_column(Text)
    provider_number: Mapped[str | None] = mapped_column(String(80))  # the practice's vendor number with the payer
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    invoice_grouping: Mapped[InvoiceGrouping] = mapped_column(
        str_enum(InvoiceGrouping, "invoice_grouping"), default=InvoiceGrouping.PER_CLIENT
    )
    counts_missed_sessions: Mapped[bool] = mapped_column(default=False)  # a no-show uses an approved session
    refuses_over_approved: Mapped[bool] = mapped_column(default=False)  # else a booking beyond only warns
    # Psychological and counselling services are tax-exempt (BILLING-NOTES.md): 0 unless the payer's
    # services are taxable; shown on every line of its invoices.
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    invoice_prefix: Mapped[str | None] = mapped_column(String(12), unique=True)  # its own numbering series
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        CheckConstraint("payment_terms_days >= 0 AND payment_terms_days <= 365", name="terms_days"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percent"),
    )

    def __str__(self) -> str:
        return self.name


class PaymentSource(Audited, Base):
    """How a client's sessions are paid: by the client (no payer) or by a payer."""

    __tablename__ = "payment_source"
    __table_args__ = (
        CheckConstraint(
            "payer_id IS NOT NULL OR (member_number IS NULL AND policy_number IS NULL)",
            name="self_pay_has_no_policy",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"))
    member_number: Mapped[str | None] = mapped_column(String(80))
    policy_number: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)

    client: Mapped[Client] = relationship(back_populates="payment_sources")
    payer: Mapped[Payer | None] = relationship(lazy="joined")

    @property
    def is_self_pay(self) -> bool:
        return self.payer_id is None


class Authorization(Audited, Base):
    """A payer's approval of a number of sessions for one client, between two local dates.

    Its counts (scheduled, used, billed, remaining) and its status are never stored: they are
    computed from the participants linked to it (services.billing.authorizations). What is stored
    is what people said: the approval, that an extension was requested, that it was closed.
    """

    __tablename__ = "payer_authorization"
    __table_args__ = (
        UniqueConstraint("payer_id", "reference", name="uq_authorization_payer_reference"),
        CheckConstraint("approved_sessions > 0", name="approved_positive"),
        CheckConstraint("valid_until >= valid_from", name="dates_in_order"),
        CheckConstraint("rate IS NULL OR (rate >= 0 AND currency IS NOT NULL)", name="rate_has_currency"),
        Index("ix_authorization_client_payer", "client_id", "payer_id", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(80))
    approved_sessions: Mapped[int]
    valid_from: Mapped[dt.date]
    # Indexed: the authorizations lists open on the latest valid_until first, a page read in index order.
    valid_until: Mapped[dt.date] = mapped_column(index=True)
    rate: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(CurrencyCode)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"))
    extends_id: Mapped[int | None] = mapped_column(
        ForeignKey("payer_authorization.id", ondelete="RESTRICT"), unique=True
    )  # the authorization this one extends: a chain, one extension each
    extension_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    # The approval letter, stored under the instance folder (never the web root) by its random key.
    letter_key: Mapped[str | None] = mapped_column(String(64))
    letter_name: Mapped[str | None] = mapped_column(String(255))
    letter_type: Mapped[str | None] = mapped_column(String(100))
    # The status the periodic scan last alerted on, so a change of state alerts once, never daily.
    alerted_status: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    payer: Mapped[Payer] = relationship()
    client: Mapped[Client] = relationship()
    therapist: Mapped[Therapist | None] = relationship()
    extends: Mapped[Authorization | None] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return f"{self.payer.name if self.payer else ''} {self.reference}".strip()
