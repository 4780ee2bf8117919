"""The monthly client survey: one invitation per client and month, and its single answer."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from admin_app.models.people import Client, Therapist


class SurveyInvitation(Audited, Base):
    """The survey of `month` ("YYYY-MM", clinic time) about `client`'s sessions, sent to
    `recipient` (the client, or for a minor without email the guardian linked to them).

    The link's token is derived from SECRET_KEY and `token_nonce` (so the email can be rendered
    at delivery from ids); only its hash is kept for the lookup.
    """

    __tablename__ = "survey_invitation"
    __table_args__ = (UniqueConstraint("client_id", "month", name="uq_survey_invitation_client_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(5))
    token_nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship(foreign_keys=[client_id])
    recipient: Mapped[Client] = relationship(foreign_keys=[recipient_id])
    response: Mapped[SurveyResponse | None] = relationship(back_populates="invitation")

    def __str__(self) -> str:
        return f"{self.month} #{self.id}"


class SurveyResponse(Audited, Base):
    __tablename__ = "survey_response"
    __table_args__ = (
        CheckConstraint("nps_score BETWEEN 0 AND 10", name="nps_range"),
        Index("ix_survey_response_submitted_at_id", "submitted_at", "id"),  # the responses list's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitation.id", ondelete="CASCADE"), unique=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    nps_score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[SurveyInvitation] = relationship(back_populates="response")
    ratings: Mapped[list[SurveyRating]] = relationship(back_populates="response", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.month} #{self.id}"


class SurveyRating(Audited, Base):
    """1 to 5 stars for one therapist the client saw that month."""

    __tablename__ = "survey_rating"
    __table_args__ = (
        UniqueConstraint("response_id", "therapist_id", name="uq_survey_rating_response_therapist"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="RESTRICT"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    stars: Mapped[int]

    response: Mapped[SurveyResponse] = relationship(back_populates="ratings")
    therapist: Mapped[Therapist] = relationship()
