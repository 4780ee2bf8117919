"""Jobs of the outbox: deliver one message, re-dispatch lost ones, write due reminders.

Outbox rows written in a transaction are dispatched once it commits (`queue.dispatch_after_commit`);
a rollback forgets them, so a cause that fails sends nothing.
"""

from __future__ import annotations

from flask import current_app

from admin_app.extensions import db
from admin_app.jobs.queue import MESSAGES, enqueue, job
from admin_app.services.messaging import delivery, outbox, reminders


@job
def deliver_message(message_id: int) -> str:
    """One attempt: claim (committed before talking to the server), send, record the outcome."""
    message = outbox.claim(db.session, message_id)
    db.session.commit()
    if message is None:
        return "not due or not queued"
    outcome = delivery.attempt(db.session, message)
    outbox.record_outcome(db.session, message, outcome)
    db.session.commit()
    return str(message.status)


@job
def reconcile_outbox() -> int:
    """Give a new job to queued messages whose retry is due or whose job was lost."""
    message_ids = outbox.due_for_dispatch(db.session)
    db.session.commit()
    dispatch(message_ids)
    return len(message_ids)


@job
def queue_reminders() -> int:
    """Write the appointment reminders now due; they are dispatched when this commits."""
    written = reminders.queue_due_reminders(db.session)
    db.session.commit()
    return written


def dispatch(message_ids: list[int]) -> None:
    for message_id in message_ids:
        try:
            enqueue(deliver_message, message_id, queue_name=MESSAGES)
        except Exception:  # Redis down: the row stays queued and the reconciler dispatches it
            current_app.logger.warning("could not enqueue outbound message %s; the reconciler will", message_id)
