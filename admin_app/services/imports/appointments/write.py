"""The bulk write of a checked plan: executemany statements, the new ids read back, and the audit
trail written in bulk too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from admin_app.models import Appointment, Participant
from admin_app.services.imports.appointments.changes import Edit, NewAppointment
from admin_app.services.imports.report import ImportPlan
from admin_app.services.platform import bulk, races
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
        bulk.update_by_id(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if not e.claims])
        new_appointment_ids = _insert_appointments(session, created)
        bulk.update_by_id(session, Appointment, [(e.appointment_id, e.appointment) for e in edited if e.claims])
        new_participant_ids = _insert_participants(
            session,
            [
                {**participant, "appointment_id": appointment_id}
                for change, appointment_id in zip(created, new_appointment_ids, strict=True)
                for participant in change.participants
            ]
            + [participant for e in edited for participant in e.new_participants],
        )
        bulk.update_by_id(session, Participant, [edit for e in edited for edit in e.participants])
    except DBAPIError as error:
        if not races.slot_taken(error):
            raise
        raise RuleViolation(races.TAKEN_MEANWHILE, field="starts_at") from None
    stamp = bulk.audit_stamp()
    bulk.record_creations(session, stamp, Appointment.__tablename__, new_appointment_ids)
    bulk.record_creations(session, stamp, Participant.__tablename__, new_participant_ids)
    bulk.record_updates(
        session,
        stamp,
        [
            (entity, id_, changed)
            for e in edited
            for entity, id_, changed in (
                (Appointment.__tablename__, e.appointment_id, e.appointment),
                *((Participant.__tablename__, id_, changed) for id_, changed in e.participants),
            )
        ],
    )


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
