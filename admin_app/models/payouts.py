"""Therapist payout statements: what the practice owes a therapist for a month (DESIGN.md, "Money after the session").

A statement's lines are snapshots written by the payout run (services.payouts.run): the charge, what was
collected of it, the compensation terms applied and the therapist's earning. A **held** line is a charge
up to the cut-off that was not paid by then; it is listed for information and comes back, as a paid
line, on the first later statement by whose cut-off it is paid. A charge is paid out once: at most one
paid line per participant across all statements (a partial unique index), so two runs at once can never
pay a session twice.

A draft's lines are rewritten by each run; once approved the statement is left alone by runs, and once
sent its lines, adjustments and totals never change (a correction is an adjustment on a later statement).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, CurrencyCode, Money, Percent, UTCDateTime, str_enum, utcnow
from admin_app.models.people import CompensationModel

if TYPE_CHECKING:
    from admin_app.models.billing import Payer
    from admin_app.models.people import Client, Therapist

PAYOUT_SERIES = "payout_statement"


class PayoutStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENT = "sent"
    PAID = "paid"


class HeldReason(enum.StrEnum):
    """Why a charge up to the cut-off is not paid out yet."""

    UNINVOICED = "uninvoiced"
    INVOICED = "invoiced"  # invoiced, nothing paid yet
    PARTLY_PAID = "partly_paid"


class PayoutRun(Audited, Base):
    """One payout run for a month: who ran it and when. The first month ever run is where payouts
    begin: charges before it were settled before the practice used the product."""

    __tablename__ = "payout_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-10"
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class PayoutStatement(Audited, Base):
    """One therapist's statement for one month; `number` is set when it is approved."""

    __tablename__ = "payout_statement"
    __table_args__ = (
        UniqueConstraint("therapist_id", "month", name="uq_payout_statement_therapist_month"),
        UniqueConstraint("number", name="uq_payout_statement_number"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_once_approved"),
        CheckConstraint("status <> 'paid' OR paid_on IS NOT NULL", name="paid_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-10"
    cut_off: Mapped[dt.date]  # the month's last day, clinic time
    status: Mapped[PayoutStatus] = mapped_column(
        str_enum(PayoutStatus, "payout_status"), default=PayoutStatus.DRAFT, index=True
    )
    number: Mapped[str | None] = mapped_column(String(40))
    # The email, once staff edited it (else generated from the practice's default text at sending);
    # frozen when sent, so the statement keeps what the therapist received.
    email_subject: Mapped[str | None] = mapped_column(String(255))
    email_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id", ondelete="SET NULL"))
    paid_on: Mapped[dt.date | None]  # the date of the transfer to the therapist
    paid_reference: Mapped[str | None] = mapped_column(String(120))

    therapist: Mapped[Therapist] = relationship()
    lines: Mapped[list[PayoutLine]] = relationship(
        back_populates="statement",
        order_by="(PayoutLine.held, PayoutLine.date_of_service, PayoutLine.id)",
        cascade="all, delete-orphan",
    )
    adjustments: Mapped[list[PayoutAdjustment]] = relationship(
        back_populates="statement", order_by="PayoutAdjustment.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.number or f"draft {self.month}"


class PayoutLine(Audited, Base):
    """One charge on a statement: paid (earned now) or held (listed, earned on a later statement).

    `amount` is the charge as billed; `collected` what was collected of it (a written-off part is not);
    the terms are those in force on the date of service; `earning` is worked out of `collected` for a
    paid line, and of `amount` for a held one (what it will bring once paid in full).
    """

    __tablename__ = "payout_line"
    __table_args__ = (
        Index(
            "uq_payout_line_paid_participant",
            "participant_id",
            unique=True,
            sqlite_where=text("NOT held"),
            postgresql_where=text("NOT held"),
        ),
        CheckConstraint("held = (held_reason IS NOT NULL)", name="held_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("payout_statement.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="RESTRICT"), index=True)
    held: Mapped[bool] = mapped_column(default=False)
    date_of_service: Mapped[dt.date]
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"))
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"))  # None: self-pay
    currency: Mapped[str] = mapped_column(CurrencyCode)
    amount: Mapped[Decimal]
    collected: Mapped[Decimal]
    compensation_model: Mapped[CompensationModel] = mapped_column(str_enum(CompensationModel, "compensation_model"))
    commission_percent: Mapped[Decimal | None] = mapped_column(Percent)
    service_fee: Mapped[Decimal | None] = mapped_column(Money)
    earning: Mapped[Decimal]
    held_reason: Mapped[HeldReason | None] = mapped_column(str_enum(HeldReason, "held_reason"))

    statement: Mapped[PayoutStatement] = relationship(back_populates="lines")
    client: Mapped[Client] = relationship()
    payer: Mapped[Payer | None] = relationship()


class PayoutAdjustment(Audited, Base):
    """An amount added to (or, negative, taken from) a statement, with its reason: how a sent statement
    is corrected, on the next one."""

    __tablename__ = "payout_adjustment"
    __table_args__ = (CheckConstraint("amount <> 0", name="not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("payout_statement.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CurrencyCode)
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    statement: Mapped[PayoutStatement] = relationship(back_populates="adjustments")


class PayoutEmailText(Base):
    """The practice's default payout email in one language (else the built-in text): placeholders
    such as {therapist} and {month} are filled for each statement."""

    __tablename__ = "payout_email_text"

    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
