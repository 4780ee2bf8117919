"""The outbox: every email and SMS is a row first, written in the transaction of its cause.

Delivery is at least once per claim and never twice for one row at a time: a delivery job
claims a queued row with one conditional UPDATE (`claim`), commits, talks to the server, and
records the outcome. The ids of rows queued in a transaction wait in `session.info` until it
commits; the job layer then dispatches them (a rolled-back cause dispatches nothing). Rows
whose job was lost are found again by `due_for_dispatch`, which the periodic reconciler runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.models import Channel, MessageStatus, OutboundMessage
from admin_app.models.base import utcnow
from admin_app.services.messaging import notifications
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.locking import hold_sqlite_write_lock

PENDING_DISPATCH = "outbox.pending_dispatch"
MAX_ATTEMPTS = 5
# Waits after failed attempts 1..4: tries at 0, 1, 6, 21 and 61 minutes.
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(minutes=40),
)
# A queued row whose job has not run this long after dispatch lost its job.
LOST_AFTER = dt.timedelta(minutes=10)
# A claim older than this belongs to a worker that died mid-send (jobs time out sooner).
CLAIM_EXPIRES_AFTER = dt.timedelta(minutes=5)
RESENDABLE = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.HELD)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to."""

    status: MessageStatus  # SENT, QUEUED (try again later), FAILED, HELD or WITHDRAWN
    error: str | None = None

    @classmethod
    def sent(cls) -> Outcome:
        return cls(MessageStatus.SENT)

    @classmethod
    def temporary(cls, error: str) -> Outcome:
        return cls(MessageStatus.QUEUED, error)

    @classmethod
    def permanent(cls, error: str) -> Outcome:
        return cls(MessageStatus.FAILED, error)

    @classmethod
    def held(cls, error: str) -> Outcome:
        return cls(MessageStatus.HELD, error)

    @classmethod
    def withdrawn(cls, reason: str) -> Outcome:
        return cls(MessageStatus.WITHDRAWN, reason)


def queue_message(
    session: Session,
    *,
    channel: Channel,
    recipient: str,
    template: str,
    language: str,
    context: dict[str, int | str],
    dedupe_key: str,
    client_id: int | None = None,
    now: dt.datetime | None = None,
) -> OutboundMessage | None:
    """Write one message for delivery after commit; None when `dedupe_key` was already used."""
    now = now or utcnow()
    message = OutboundMessage(
        channel=channel,
        recipient=recipient,
        template=template,
        language=language,
        context=context,
        dedupe_key=dedupe_key,
        client_id=client_id,
        status=MessageStatus.QUEUED,
        attempts=0,
        created_at=now,
        dispatched_at=now,
        next_attempt_at=now,
    )
    hold_sqlite_write_lock(session)  # so the SAVEPOINT below sits inside the transaction
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another tick or worker wrote this message first (or it was written long ago).
        return None
    _pending(session).append(message.id)
    return message


def existing_dedupe_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of `keys` already have a message (one query per 500 keys)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(session.scalars(select(OutboundMessage.dedupe_key).where(OutboundMessage.dedupe_key.in_(chunk))))
    return found


def _pending(session: Session) -> list[int]:
    return session.info.setdefault(PENDING_DISPATCH, [])


def claim(session: Session, message_id: int, now: dt.datetime | None = None) -> OutboundMessage | None:
    """Take a queued, due message for one delivery attempt; None when it is not ours to send
    (already sent, claimed by another job, withdrawn, or not yet due). The caller commits
    before sending, so a second job for the same row finds it claimed."""
    now = now or utcnow()
    claimed = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == message_id,
            OutboundMessage.status == MessageStatus.QUEUED,
            or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now),
        )
        .values(status=MessageStatus.SENDING, claimed_at=now, attempts=OutboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    return session.get(OutboundMessage, message_id, populate_existing=True)


def record_outcome(
    session: Session, message: OutboundMessage, outcome: Outcome, now: dt.datetime | None = None
) -> None:
    """Store the attempt's result; schedule a retry or give up and tell the admins."""
    now = now or utcnow()
    message.claimed_at = None
    message.last_error = outcome.error[:500] if outcome.error else None
    if outcome.status == MessageStatus.SENT:
        message.status = MessageStatus.SENT
        message.sent_at = now
        message.next_attempt_at = None
        return
    if outcome.status == MessageStatus.QUEUED and message.attempts < MAX_ATTEMPTS:
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = now + RETRY_DELAYS[message.attempts - 1]
        message.dispatched_at = None  # the reconciler dispatches it when the retry is due
        return
    message.status = MessageStatus.FAILED if outcome.status == MessageStatus.QUEUED else outcome.status
    message.next_attempt_at = None
    if message.status == MessageStatus.FAILED:
        notifications.notify_admins(session, notifications.MESSAGE_FAILED, message_id=message.id, now=now)


def due_for_dispatch(session: Session, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Mark and return the queued messages that need a (new) delivery job: retries now due,
    and rows whose job was lost; claims abandoned by a dead worker are queued again first."""
    now = now or utcnow()
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == MessageStatus.SENDING, OutboundMessage.claimed_at < now - CLAIM_EXPIRES_AFTER)
        .values(status=MessageStatus.QUEUED, claimed_at=None, dispatched_at=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    ids = list(
        session.scalars(
            select(OutboundMessage.id)
            .where(
                OutboundMessage.status == MessageStatus.QUEUED,
                or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now),
                or_(OutboundMessage.dispatched_at.is_(None), OutboundMessage.dispatched_at < now - LOST_AFTER),
            )
            .order_by(OutboundMessage.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def send_again(session: Session, message_id: int, now: dt.datetime | None = None) -> OutboundMessage:
    """Staff asked for another delivery of a sent, failed or held message: a fresh set of tries."""
    now = now or utcnow()
    message = session.get(OutboundMessage, message_id)
    if message is None:
        raise NotFound(_l("This message does not exist."))
    if message.status == MessageStatus.WITHDRAWN:
        raise RuleViolation(_l("A withdrawn message is no longer due (its appointment was cancelled or moved)."))
    if message.status not in RESENDABLE:
        raise RuleViolation(_l("Only a sent, failed or held message can be sent again; this one is still in progress."))
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    message.dispatched_at = now
    session.flush()
    _pending(session).append(message.id)
    return message
