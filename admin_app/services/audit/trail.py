"""The audit trail beyond the change listener: exports recorded, and the history of one record as the
staff see it."""

from __future__ import annotations

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AuditAction, AuditEvent, Participant
from admin_app.models.audit import Actor, record_event


def record_export(*, bind: Engine, entity: str, actor: Actor) -> None:
    """Record that a list was exported, in a short transaction of its own, once the file is produced.

    Not in the session that read the rows: committing there would expire the records a download is
    still streaming, and a failed download must not take the record of what already left with it.
    """
    with Session(bind=bind) as session, session.begin():
        record_event(session, action=AuditAction.EXPORT, entity=entity, actor=actor)


def appointment_history(session: Session, *, appointment: Appointment) -> list[AuditEvent]:
    """Every recorded change to an appointment and to its participants, newest first, in one query."""
    participant_ids = select(Participant.id).where(Participant.appointment_id == appointment.id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    and_(AuditEvent.entity == "appointment", AuditEvent.entity_id == appointment.id),
                    and_(AuditEvent.entity == "participant", AuditEvent.entity_id.in_(participant_ids)),
                )
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        )
    )
