"""Clients, the links between them, therapists and who cares for whom."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import (
    Base,
    CurrencyCode,
    Money,
    Percent,
    UTCDateTime,
    str_enum,
    trigram_index,
    utcnow,
)
from admin_app.models.numbering import number_default

if TYPE_CHECKING:
    from admin_app.models.auth import User
    from admin_app.models.billing import PaymentSource
    from admin_app.models.sites import Site


CLIENT_NUMBER_SERIES = "client"


class ReminderPreference(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"
    NONE = "none"


class LinkKind(enum.StrEnum):
    """Read as "client <kind> related client": Ana guardian-of Luis."""

    GUARDIAN_OF = "guardian_of"
    PARTNER_OF = "partner_of"
    SIBLING_OF = "sibling_of"


class CompensationModel(enum.StrEnum):
    COMMISSION = "commission"  # the therapist is paid commission % of each fee
    SERVICE_FEE = "service_fee"  # the practice keeps a fixed fee per session


class AssignmentKind(enum.StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"  # e.g. a parent seen within a child's case


class Client(Audited, Base):
    __tablename__ = "client"
    # The clients list searches each of these by `ILIKE '%term%'` (views/people/records.py); the
    # appointment list's client filter by name.
    __table_args__ = tuple(
        trigram_index("client", column) for column in ("full_name", "client_number", "national_id", "email", "phone")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    # Given by the practice (the next of its series unless typed or imported): shown on screens and documents.
    client_number: Mapped[str] = mapped_column(String(20), unique=True, default=number_default(CLIENT_NUMBER_SERIES))
    # Optional (Canada has none a practice may ask for); unique when given.
    national_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    birth_date: Mapped[dt.date | None]
    preferred_language: Mapped[str] = mapped_column(String(5))
    reminder_preference: Mapped[ReminderPreference] = mapped_column(str_enum(ReminderPreference, "reminder_preference"))
    survey_opt_out: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)
    # The start of the client's first ever attended session (they are "new" in its month), NULL before
    # it. Kept by the database's triggers (migration 0022) on every write of participants and starts:
    # never written here, read by the year at a glance and the new clients report.
    first_attended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)

    # A link is one row seen from both clients (Ana guardian-of Luis is in Ana's `links` and in
    # Luis's `linked_from`); either side's form adds, edits and removes it.
    links: Mapped[list[ClientLink]] = relationship(
        foreign_keys="ClientLink.client_id", back_populates="client", cascade="all, delete-orphan"
    )
    linked_from: Mapped[list[ClientLink]] = relationship(
        foreign_keys="ClientLink.related_client_id", back_populates="related_client", cascade="all, delete-orphan"
    )
    # A client is only deleted when no appointment refers to them (services.people): what
    # belongs to them alone goes with them.
    care_assignments: Mapped[list[CareAssignment]] = relationship(back_populates="client", cascade="all, delete-orphan")
    payment_sources: Mapped[list[PaymentSource]] = relationship(back_populates="client", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.national_id or f'#{self.client_number}'})"


class ClientLink(Audited, Base):
    __tablename__ = "client_link"
    __table_args__ = (
        UniqueConstraint("client_id", "related_client_id", "kind", name="uq_client_link_pair"),
        CheckConstraint("client_id <> related_client_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    related_client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    kind: Mapped[LinkKind] = mapped_column(str_enum(LinkKind, "link_kind"))

    client: Mapped[Client] = relationship(foreign_keys=[client_id], back_populates="links")
    related_client: Mapped[Client] = relationship(foreign_keys=[related_client_id], back_populates="linked_from")


class Therapist(Audited, Base):
    __tablename__ = "therapist"
    __table_args__ = (
        trigram_index("therapist", "full_name"),
        CheckConstraint(
            "commission_percent IS NULL OR (commission_percent >= 0 AND commission_percent <= 100)",
            name="commission_range",
        ),
        # Only a provisional registrant practises under a supervisor, and never their own.
        CheckConstraint(
            "supervisor_id IS NULL OR (provisional AND supervisor_id <> id)",
            name="supervisor_of_provisional",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    compensation_model: Mapped[CompensationModel] = mapped_column(str_enum(CompensationModel, "compensation_model"))
    commission_percent: Mapped[Decimal | None] = mapped_column(Percent)
    service_fee: Mapped[Decimal | None] = mapped_column(Money)
    default_fee: Mapped[Decimal] = mapped_column(Money)
    default_currency: Mapped[str] = mapped_column(CurrencyCode)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), unique=True)
    # The calendar feed's secret URL is derived from SECRET_KEY and this nonce (so screens can
    # show it again); only a hash of the token is kept for the lookup. Rotating = a new nonce.
    calendar_feed_nonce: Mapped[str | None] = mapped_column(String(32))
    calendar_feed_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Professional credentials, as printed on invoices and receipts: the title (R.Psych., RCC,
    # Psicólogo colegiado…), the number and the college that registers the therapist.
    designation: Mapped[str | None] = mapped_column(String(80))
    registration_number: Mapped[str | None] = mapped_column(String(80))
    registration_body: Mapped[str | None] = mapped_column(String(120))
    provisional: Mapped[bool] = mapped_column(default=False)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"))

    site: Mapped[Site | None] = relationship()
    supervisor: Mapped[Therapist | None] = relationship(remote_side=[id])
    user: Mapped[User | None] = relationship(back_populates="therapist")
    care_assignments: Mapped[list[CareAssignment]] = relationship(back_populates="therapist")
    # Oldest first; the compensation columns above mirror the newest (services.people.compensation).
    compensation_terms: Mapped[list[CompensationTerms]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="CompensationTerms.effective_from"
    )

    def __str__(self) -> str:
        return self.full_name


class CompensationTerms(Audited, Base):
    """A therapist's compensation from a date on: the commission % of each fee, or the service fee
    the practice keeps. A session is earned by the terms in force on its date of service
    (services.people.compensation); a change adds terms, so earlier months keep their figures."""

    __tablename__ = "compensation_terms"
    __table_args__ = (
        UniqueConstraint("therapist_id", "effective_from", name="uq_compensation_terms_therapist_day"),
        CheckConstraint(
            "(compensation_model = 'commission' AND commission_percent IS NOT NULL AND service_fee IS NULL"
            " AND commission_percent >= 0 AND commission_percent <= 100)"
            " OR (compensation_model = 'service_fee' AND service_fee IS NOT NULL AND commission_percent IS NULL)",
            name="one_value",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"))
    effective_from: Mapped[dt.date]  # a clinic-local date
    # The UTC instant `effective_from` starts at the clinic: what sessions' starts are compared with,
    # since SQL cannot turn a stored instant into a clinic date on every database.
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    compensation_model: Mapped[CompensationModel] = mapped_column(str_enum(CompensationModel, "compensation_model"))
    commission_percent: Mapped[Decimal | None] = mapped_column(Percent)
    service_fee: Mapped[Decimal | None] = mapped_column(Money)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    therapist: Mapped[Therapist] = relationship(back_populates="compensation_terms")


class CareAssignment(Audited, Base):
    __tablename__ = "care_assignment"
    __table_args__ = (UniqueConstraint("client_id", "therapist_id", name="uq_care_assignment_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[AssignmentKind] = mapped_column(
        str_enum(AssignmentKind, "assignment_kind"), default=AssignmentKind.DIRECT
    )
    active: Mapped[bool] = mapped_column(default=True)
    started_on: Mapped[dt.date | None]
    deactivated_on: Mapped[dt.date | None]

    client: Mapped[Client] = relationship(back_populates="care_assignments")
    therapist: Mapped[Therapist] = relationship(back_populates="care_assignments")
