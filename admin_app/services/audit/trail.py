"""The audit trail beyond the change listener: the history of one record as the staff see it, and who
looked at a client (exports are recorded by the documents service that makes them,
services/platform/documents)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Select, select, union, union_all
from sqlalchemy.orm import Session, aliased

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
# The newest changes an appointment's page shows; the older ones are in the audit trail.
APPOINTMENT_HISTORY_SIZE = 100

# (entity, its ids): one id, or a SELECT of the ids of that entity that belong to the record.
Records = list[tuple[str, int | Select]]


def newest_events(records: Records, *, limit: int, offset: int = 0) -> Select:
    """The events of `records`, newest first: one lookup per entry (an entity and its ids) on (entity, entity_id,
    occurred_at, id) (`ix_audit_event_record_history`), each ordered and limited to what the page can
    show, combined with UNION ALL. An OR across entities, or one IN over several kinds, leaves the
    planner a scan of the whole trail (seconds at millions of rows); each branch alone is an index
    range read newest first."""
    newest_first = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    branches = [
        select(
            select(AuditEvent)
            .where(
                AuditEvent.entity == entity,
                AuditEvent.entity_id == ids if isinstance(ids, int) else AuditEvent.entity_id.in_(ids),
            )
            .order_by(*newest_first)
            .limit(offset + limit)
            .subquery()
        )
        for entity, ids in records
    ]
    events = aliased(AuditEvent, union_all(*branches).subquery())
    return select(events).order_by(events.occurred_at.desc(), events.id.desc()).offset(offset).limit(limit)


@dataclasses.dataclass(frozen=True)
class AppointmentHistory:
    """An appointment's newest changes and its participants', newest first; `older` when more remain."""

    events: list[AuditEvent]
    older: bool


def appointment_history(
    session: Session, *, appointment: Appointment, size: int = APPOINTMENT_HISTORY_SIZE
) -> AppointmentHistory:
    """The recorded changes to an appointment and to its participants, newest first, in one query
    (one row more than shown, to know whether older ones remain). A branch per participant (the page
    has them loaded): each reads no more than the page shows, where one branch for all of them would
    read and sort every change of every participant."""
    records: Records = [(Appointment.__tablename__, appointment.id)]
    records += [(Participant.__tablename__, participant.id) for participant in appointment.participants]
    rows = list(session.scalars(newest_events(records, limit=size + 1)))
    return AppointmentHistory(rows[:size], len(rows) > size)


@dataclasses.dataclass(frozen=True)
class AccessPage:
    """One page of a client's access history, newest first; `has_next` when older events remain."""

    events: list[AuditEvent]
    page: int
    has_next: bool


def _client_records(client_id: int) -> Records:
    """(entity, ids of that entity belonging to the client) for everything the history covers."""
    return [
        ("client", client_id),
        (CLINICAL_NOTES_READ, client_id),
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
    query = newest_events(_client_records(client_id), limit=per_page + 1, offset=page * per_page)
    rows = list(session.scalars(query))
    return AccessPage(rows[:per_page], page, len(rows) > per_page)
