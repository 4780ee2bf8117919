"""The audit trail beyond the change listener: the history of one record as the staff see it (exports
are recorded by the documents service that makes them, services/platform/documents)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AuditEvent, Participant


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
