"""The bulk write of a checked plan: executemany statements, the new ids read back, and the audit
trail written in bulk too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AuditAction, AuditEvent, Participant
from admin_app.models.audit import current_actor
from admin_app.models.base import utcnow
from admin_app.services.imports.appointments.changes import Edit, NewAppointment
from admin_app.services.imports.report import ImportPlan
from admin_app.services.platform import races
from admin_app.services.platform.errors import RuleViolation


def apply(session: Session, plan: ImportPlan) -> None:
    """Write a checked plan in the caller's transaction (bulk statements, audited); no commit.

    The audit trail's listener sees only ORM flushes, so the CREATE and UPDATE events of these
    bulk statements are written here, in bulk too, with field names only as the listener does.
    A clash the database refuses (a booking that slipped in on PostgreSQL) is a RuleViolation;
    the transaction is then lost and the caller rolls back.
    """
    if plan.errors:
        raise ValueError("an import plan with errors cannot be applied")
    created = [change for change in plan.changes if isinstance(change, NewAppointment)]
    edited = [change for change in plan.changes if isinstance(change, Edit)]
    try:
        # Time given up first, then taken: PostgreSQL checks the overlap guards row by row, and
        # every state on the way is then within the book before or after the import.
        _update(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if not e.claims])
        new_appointment_ids = _insert_appointments(session, created)
        _update(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if e.claims])
        new_participant_ids = _insert_participants(
            session,
            [
                {**participant, "appointment_id": appointment_id}
                for change, appointment_id in zip(created, new_appointment_ids, strict=True)
                for participant in change.participants
            ]
            + [participant for e in edited for participant in e.new_participants],
        )
        _update(session, Participant, [edit for e in edited for edit in e.participants])
    except DBAPIError as error:
        if not races.slot_taken(error):
            raise
        raise RuleViolation(races.TAKEN_MEANWHILE, field="starts_at") from None
    actor_id, actor = current_actor()
    stamp = {"occurred_at": utcnow(), "actor_user_id": actor_id, "actor": actor}
    _record_creations(session, stamp, Appointment.__tablename__, new_appointment_ids)
    _record_creations(session, stamp, Participant.__tablename__, new_participant_ids)
    updates = [
        {**stamp, "action": AuditAction.UPDATE, "entity": entity, "entity_id": id_, "changed_fields": list(changed)}
        for e in edited
        for entity, id_, changed in (
            (Appointment.__tablename__, e.appointment_id, e.appointment),
            *((Participant.__tablename__, id_, changed) for id_, changed in e.participants),
        )
        if changed
    ]
    if updates:
        session.execute(insert(AuditEvent.__table__), updates)


def _record_creations(session: Session, stamp: dict, entity: str, ids: list[int]) -> None:
    """One CREATE event per new record, as the listener writes them (no fields).

    On PostgreSQL one INSERT ... SELECT over the array of ids, since the events differ only by
    id: a fraction of the time of a hundred thousand single-row INSERTs.
    """
    if not ids:
        return
    if session.get_bind().dialect.name != "postgresql":
        event = {**stamp, "action": AuditAction.CREATE, "entity": entity, "changed_fields": []}
        session.execute(insert(AuditEvent.__table__), [{**event, "entity_id": id_} for id_ in ids])
        return
    session.execute(
        text(
            "INSERT INTO audit_event (occurred_at, actor_user_id, actor, action, entity, entity_id, changed_fields) "
            "SELECT CAST(:occurred_at AS timestamptz), CAST(:actor_user_id AS integer), CAST(:actor AS varchar), "
            "CAST(:action AS varchar), CAST(:entity AS varchar), id, CAST('[]' AS json) "
            "FROM unnest(CAST(:ids AS integer[])) AS id"
        ),
        {**stamp, "action": AuditAction.CREATE.value, "entity": entity, "ids": ids},
    )


def _update(session: Session, model, changes: list[tuple[int, dict]]) -> None:
    """ORM bulk UPDATE by primary key; rows changing the same columns side by side, since each
    run of them is one executemany."""
    rows = sorted(({"id": id_, **changed} for id_, changed in changes if changed), key=lambda row: sorted(row))
    if rows:
        session.execute(update(model), rows)


def _insert_appointments(session: Session, created: list[NewAppointment]) -> list[int]:
    """The new appointments; their ids, in the order of `created`.

    Plain executemany INSERTs (SQLite's own; a pipeline of one short statement per row with
    psycopg), each followed by one query reading the new ids back: measured on PostgreSQL, that is
    faster than INSERT ... RETURNING batches, whose long statements the driver parses anew every
    time. New ids are above the highest id seen before inserting, and ascend in the order of the
    rows: the new appointments of one therapist and start (at most one live, the others
    cancelled) take theirs in the file's order. No other transaction adds any there meanwhile:
    the file's therapists are locked against concurrent bookings.
    """
    if not created:
        return []
    highest = session.scalar(select(func.max(Appointment.id))) or 0
    session.execute(insert(Appointment.__table__), [change.appointment for change in created])
    new_ids: dict[tuple[int, dt.datetime], list[int]] = defaultdict(list)
    for id_, therapist_id, starts_at in session.execute(
        select(Appointment.id, Appointment.therapist_id, Appointment.starts_at)
        .where(Appointment.id > highest)
        .order_by(Appointment.id.desc())  # popped from the end: lowest first
    ):
        new_ids[(therapist_id, starts_at)].append(id_)
    return [new_ids[(change.appointment["therapist_id"], change.appointment["starts_at"])].pop() for change in created]


def _insert_participants(session: Session, participants: list[dict]) -> list[int]:
    """The new participants (of new and of booked appointments); their ids.

    Read back as the appointments are: above the highest id before, one per appointment and
    client (a unique pair).
    """
    if not participants:
        return []
    highest = session.scalar(select(func.max(Participant.id))) or 0
    session.execute(insert(Participant.__table__), participants)
    new_ids = {
        (appointment_id, client_id): id_
        for id_, appointment_id, client_id in session.execute(
            select(Participant.id, Participant.appointment_id, Participant.client_id).where(Participant.id > highest)
        )
    }
    return [new_ids[(participant["appointment_id"], participant["client_id"])] for participant in participants]
