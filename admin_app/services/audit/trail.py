"""The audit trail beyond the change listener: the history of one record as the staff see it, and who
looked at a client (exports are recorded by the documents service that makes them,
services/platform/documents)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AuditEvent,
    Authorization,
    CareAssignment,
    ClinicalNote,
    Invoice,
    InvoiceLine,
    Participant,
    Payment,
    SurveyInvitation,
    SurveyResponse,
)
from admin_app.services.people.clinical_notes import READ_ENTITY as CLINICAL_NOTES_READ

ACCESS_PAGE_SIZE = 50


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


@dataclasses.dataclass(frozen=True)
class AccessPage:
    """One page of a client's access history, newest first; `has_next` when older events remain."""

    events: list[AuditEvent]
    page: int
    has_next: bool


def _client_records(client_id: int) -> list:
    """(entity, ids of that entity belonging to the client) for everything the history covers."""
    return [
        ("client", None),
        (CLINICAL_NOTES_READ, None),
        (ClinicalNote.__tablename__, select(ClinicalNote.id).where(ClinicalNote.client_id == client_id)),
        (
            Invoice.__tablename__,
            union(
                select(Invoice.id).where(Invoice.client_id == client_id),
                select(InvoiceLine.invoice_id).where(InvoiceLine.client_id == client_id),
            ),
        ),
        (Payment.__tablename__, select(Payment.id).where(Payment.client_id == client_id)),
        (
            Appointment.__tablename__,
            select(Participant.appointment_id).where(Participant.client_id == client_id),
        ),
        (Participant.__tablename__, select(Participant.id).where(Participant.client_id == client_id)),
        (Authorization.__tablename__, select(Authorization.id).where(Authorization.client_id == client_id)),
        (CareAssignment.__tablename__, select(CareAssignment.id).where(CareAssignment.client_id == client_id)),
        (
            SurveyResponse.__tablename__,
            select(SurveyResponse.id)
            .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(SurveyInvitation.client_id == client_id),
        ),
    ]


def client_access_history(
    session: Session, *, client_id: int, page: int = 0, per_page: int = ACCESS_PAGE_SIZE
) -> AccessPage:
    """Who viewed, exported or changed the client's record and what belongs to it (clinical notes,
    invoices, receipts and payments, appointments and attendance, authorizations, care, survey
    answers), newest first: one query per page, reading one row more than the page to know whether
    an older page exists (no count of a trail that only grows)."""
    matches = [
        and_(AuditEvent.entity == entity, AuditEvent.entity_id == client_id)
        if ids is None
        else and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
        for entity, ids in _client_records(client_id)
    ]
    rows = list(
        session.scalars(
            select(AuditEvent)
            .where(or_(*matches))
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .offset(page * per_page)
            .limit(per_page + 1)
        )
    )
    return AccessPage(rows[:per_page], page, len(rows) > per_page)
