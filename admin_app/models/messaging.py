"""What the practice sends (the outbox) and what it tells its users in the app (notifications)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, str_enum, trigram_index, utcnow


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a delivery job (first try or a retry)
    SENDING = "sending"  # a delivery job has claimed it and is talking to the server
    SENT = "sent"
    FAILED = "failed"  # permanent failure, or the last retry failed
    HELD = "held"  # not delivered: no mail server or SMS provider is configured
    WITHDRAWN = "withdrawn"  # no longer due: e.g. the appointment was cancelled or moved


class OutboundMessage(Audited, Base):
    """One email or SMS, written in the transaction of its cause and delivered by a job.

    `context` holds ids only (the text is rendered at delivery, in `language`); `dedupe_key`
    is unique, so a cause that runs twice (two ticks, two workers) writes one message.
    """

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbound_message_created_at_id", "created_at", "id"),  # the outbox list's order
        trigram_index("outbound_message", "recipient"),  # the outbox list's search
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    recipient: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(5))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="SET NULL"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), default=MessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a delivery job was last put on a queue; a queued message whose job has not run
    # long after this was lost (worker killed, Redis flushed) and is dispatched again.
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __str__(self) -> str:
        return f"{self.channel} #{self.id}"


class Notification(Base):
    """An in-app notice for one user; its text is rendered in the reader's language from `kind`
    and `params` (ids and codes, no client data)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
