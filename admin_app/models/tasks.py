"""The admin home's to-do list: tasks the periodic scan writes (or staff add by hand), and the Bad Fit list.

A generated task has a kind and a subject (the id of what caused it, or a month): "authorization 41 is
low". The scan (services.tasks.scan) keeps at most one **live** task per kind and subject (a partial
unique index: two scans at once cannot write two). A task is live from when its cause appears until
the scan sees the cause gone (`cause_gone_at`): an open task then closes itself, and a task staff marked
done stays done without being written again while the same cause lasts. A task added by hand has no
subject and is never touched by the scan.

A Bad Fit entry flags a client by their own pattern of attendance (DESIGN.md, "Bad Fit"); one open
entry per client (a partial unique index). Only participations that start after an entry's resolution
can open the next one.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.audit import Audited
from admin_app.models.base import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from admin_app.models.auth import User
    from admin_app.models.people import Client, Therapist
    from admin_app.models.scheduling import Participant


class TaskKind(enum.StrEnum):
    AUTHORIZATION_LOW = "authorization_low"  # subject: authorization id (low or expiring)
    EXTENSION_REQUESTED = "extension_requested"  # subject: authorization id, no extension recorded yet
    AUTHORIZATION_EXPIRED = "authorization_expired"  # subject: authorization id, sessions still booked
    INVOICE_OVERDUE = "invoice_overdue"  # subject: payer id (its invoices unpaid past its terms)
    MESSAGE_FAILED = "message_failed"  # subject: "failed" (every message that failed for good)
    BAD_FIT = "bad_fit"  # subject: Bad Fit entry id
    CLIENT_REQUEST = "client_request"  # subject: client request id (a therapist asks to (de)activate a client)
    PAYOUTS_WAITING = "payouts_waiting"  # subject: the month "YYYY-MM" of draft payout statements
    INVOICE_DRAFTS_OLD = "invoice_drafts_old"  # subject: "drafts" (every draft older than N days)
    RESERVATION_LOW_USE = "reservation_low_use"  # subject: room reservation id (used under ROOM_USE_LOW_PERCENT)
    MANUAL = "manual"  # added by hand; no subject


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"  # marked done by staff
    CLOSED = "closed"  # closed by the scan: its cause is gone


class AdminTask(Audited, Base):
    __tablename__ = "admin_task"
    __table_args__ = (
        Index(
            "uq_admin_task_live",
            "kind",
            "subject",
            unique=True,
            sqlite_where=text("cause_gone_at IS NULL AND subject IS NOT NULL"),
            postgresql_where=text("cause_gone_at IS NULL AND subject IS NOT NULL"),
        ),
        Index("ix_admin_task_status_assigned", "status", "assigned_to_id"),
        CheckConstraint("kind = 'manual' OR subject IS NOT NULL", name="generated_has_subject"),
        CheckConstraint("kind != 'manual' OR title IS NOT NULL", name="manual_has_title"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind, "task_kind"))
    subject: Mapped[str | None] = mapped_column(String(40))
    # What the description needs beyond the subject (counts, dates): ids and figures, never names.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The client and therapist concerned, when there is one: the list shows and links them in one query.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))  # a task added by hand
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus, "task_status"), default=TaskStatus.OPEN)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_on: Mapped[dt.date] = mapped_column(Date)  # the clinic day it opened
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    snoozed_until: Mapped[dt.date | None]  # hidden from the open list until this clinic day
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    cause_gone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client | None] = relationship()
    therapist: Mapped[Therapist | None] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __str__(self) -> str:
        return f"#{self.id}"


class BadFitReason(enum.StrEnum):
    NO_SHOW = "no_show"
    TWO_CANCELLATIONS = "two_cancellations"


class BadFitState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class BadFitResolution(enum.StrEnum):
    KEPT = "kept"  # the client stays on
    DEACTIVATED = "deactivated"  # the client was deactivated


class BadFitEntry(Audited, Base):
    __tablename__ = "bad_fit_entry"
    __table_args__ = (
        Index(
            "uq_bad_fit_entry_open",
            "client_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        CheckConstraint("state = 'open' OR resolution IS NOT NULL", name="resolved_has_resolution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    # The appointment that triggered it: its therapist, its local date.
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"))
    reason: Mapped[BadFitReason] = mapped_column(str_enum(BadFitReason, "bad_fit_reason"))
    on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    state: Mapped[BadFitState] = mapped_column(str_enum(BadFitState, "bad_fit_state"), default=BadFitState.OPEN)
    resolution: Mapped[BadFitResolution | None] = mapped_column(str_enum(BadFitResolution, "bad_fit_resolution"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    client: Mapped[Client] = relationship()
    therapist: Mapped[Therapist] = relationship()
    participant: Mapped[Participant] = relationship()
    resolved_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"#{self.id}"


class RequestAction(enum.StrEnum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"


class ClientRequest(Audited, Base):
    """A therapist asks the office to activate or deactivate a client (the portal's *Requests*); it
    becomes an admin task, and the answer (done or refused, with the office's note) goes back to the
    therapist as a notification."""

    __tablename__ = "client_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    action: Mapped[RequestAction] = mapped_column(str_enum(RequestAction, "request_action"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, "request_status"), default=RequestStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    answer_note: Mapped[str | None] = mapped_column(Text)

    therapist: Mapped[Therapist] = relationship()
    client: Mapped[Client] = relationship()

    def __str__(self) -> str:
        return f"#{self.id}"
