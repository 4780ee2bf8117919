"""Appointments (therapy sessions) and the clients taking part in them."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, CurrencyCode, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from admin_app.models.billing import Authorization, Payer
    from admin_app.models.people import Client, Therapist
    from admin_app.models.sites import Room


class AppointmentKind(enum.StrEnum):
    INDIVIDUAL = "individual"
    COUPLE = "couple"
    FAMILY = "family"
    GROUP = "group"


class Modality(enum.StrEnum):
    VIRTUAL = "virtual"
    ON_SITE = "on_site"


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class Attendance(enum.StrEnum):
    EXPECTED = "expected"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    NO_SHOW = "no_show"


class CancelledBy(enum.StrEnum):
    CLIENT = "client"
    PRACTICE = "practice"


class BilledTo(enum.StrEnum):
    CLIENT = "client"
    PAYER = "payer"


class AppointmentSeries(Audited, Base):
    """A recurring booking: every `interval_weeks` weeks at the same local time.

    Its appointments are ordinary rows pointing back here, so each can be moved or cancelled
    on its own ("this occurrence") or from one onwards ("this and following").
    """

    __tablename__ = "appointment_series"
    __table_args__ = (CheckConstraint("interval_weeks IN (1, 2)", name="interval_weeks"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    interval_weeks: Mapped[int] = mapped_column(default=1)
    occurrences: Mapped[int | None]
    until: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    therapist: Mapped[Therapist] = relationship()
    appointments: Mapped[list[Appointment]] = relationship(back_populates="series", order_by="Appointment.starts_at")


class Appointment(Audited, Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_appointment_therapist_start", "therapist_id", "starts_at"),
        Index("ix_appointment_room_start", "room_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[AppointmentKind] = mapped_column(
        str_enum(AppointmentKind, "appointment_kind"), default=AppointmentKind.INDIVIDUAL
    )
    modality: Mapped[Modality] = mapped_column(str_enum(Modality, "modality"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="RESTRICT"))
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.SCHEDULED
    )
    video_link: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_series.id", ondelete="SET NULL"), index=True)

    therapist: Mapped[Therapist] = relationship()
    room: Mapped[Room | None] = relationship()
    series: Mapped[AppointmentSeries | None] = relationship(back_populates="appointments")
    participants: Mapped[list[Participant]] = relationship(back_populates="appointment", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"#{self.id}"


class Participant(Audited, Base):
    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("appointment_id", "client_id", name="uq_participant_client"),
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        CheckConstraint("billed_to = 'client' OR payer_id IS NOT NULL", name="payer_when_billed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    attendance: Mapped[Attendance] = mapped_column(str_enum(Attendance, "attendance"), default=Attendance.EXPECTED)
    fee: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(CurrencyCode)
    cancelled_by: Mapped[CancelledBy | None] = mapped_column(str_enum(CancelledBy, "cancelled_by"))
    cancellation_reason: Mapped[str | None] = mapped_column(String(255))
    billed_to: Mapped[BilledTo] = mapped_column(str_enum(BilledTo, "billed_to"), default=BilledTo.CLIENT)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="RESTRICT"))
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("payer_authorization.id", ondelete="RESTRICT"), index=True
    )
    # The staff chose the authorization: the rule no longer picks it (services.billing.linking).
    authorization_chosen: Mapped[bool] = mapped_column(default=False)

    appointment: Mapped[Appointment] = relationship(back_populates="participants")
    client: Mapped[Client] = relationship()
    payer: Mapped[Payer | None] = relationship()
    authorization: Mapped[Authorization | None] = relationship()

    def __str__(self) -> str:
        return f"#{self.id}"
