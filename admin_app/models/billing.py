"""Who pays: third-party payers and each client's payment sources."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, str_enum

if TYPE_CHECKING:
    from admin_app.models.people import Client


class PayerKind(enum.StrEnum):
    INSURER = "insurer"
    EMPLOYER = "employer"
    OTHER = "other"


class Payer(Audited, Base):
    __tablename__ = "payer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[PayerKind] = mapped_column(str_enum(PayerKind, "payer_kind"))
    billing_email: Mapped[str | None] = mapped_column(String(255))
    billing_address: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

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
