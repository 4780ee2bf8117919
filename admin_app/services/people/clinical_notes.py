"""Clinical notes: written by a therapist about a client in their care, read by the client's
therapists, and by the staff only where the practice allows it (`STAFF_READ_CLINICAL_NOTES`).

A note is never changed or deleted (models.clinical_notes); a correction is a new note. Every
read of a client's notes is an audit event naming the client (`READ_ENTITY`), and the audit
trail never holds a note's text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import CareAssignment, ClinicalNote, Therapist
from admin_app.models.audit import AuditAction, record_event
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.platform import bounds
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label

# Several pages of text: a session's note fits many times over; a pasted document does not.
MAX_LENGTH = 20_000
# The audit trail's entity for "read the clinical notes of client <entity_id>".
READ_ENTITY = "client_clinical_notes"
SETTING = "STAFF_READ_CLINICAL_NOTES"
NOT_FOR_STAFF = _l("Clinical notes are kept by the client's therapists and are not shown to staff.")


@dataclass(frozen=True)
class NoteRow:
    id: int
    written_at: dt.datetime
    therapist_id: int
    author: str
    text: str


def _in_care_now(session: Session, therapist_id: int, client_id: int) -> bool:
    return session.scalar(clients_in_care_now(therapist_id).where(CareAssignment.client_id == client_id)) is not None


def write(session: Session, *, therapist: Therapist, client_id: int, text: str | None) -> ClinicalNote:
    """Add a note by `therapist` about a client in their care now (in the caller's transaction).

    The text is kept as typed, line breaks included (only surrounding blank space is dropped);
    NotFound for a client outside the therapist's care, the same as one that does not exist."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("clinical_note")), field="clinical_note"
        )
    bounds.refuse(bounds.length_problem(text, MAX_LENGTH), "clinical_note")
    if not therapist.active or not _in_care_now(session, therapist.id, client_id):
        raise NotFound(_l("This client is not in your care."))
    note = ClinicalNote(client_id=client_id, therapist_id=therapist.id, text=text)
    session.add(note)
    session.flush()
    return note


def _select_notes():
    return select(
        ClinicalNote.id,
        ClinicalNote.written_at,
        ClinicalNote.therapist_id,
        Therapist.full_name.label("author"),
        ClinicalNote.text,
    )


def _rows(result) -> list[NoteRow]:
    return [
        NoteRow(id=row.id, written_at=row.written_at, therapist_id=row.therapist_id, author=row.author, text=row.text)
        for row in result
        if row.id is not None
    ]


def _recorded_read(session: Session, client_id: int) -> None:
    record_event(session, action=AuditAction.VIEW, entity=READ_ENTITY, entity_id=client_id)


def notes_for_therapist(session: Session, therapist_id: int, client_id: int) -> list[NoteRow]:
    """Every note about the client, whoever of their therapists wrote it, newest first; the read is
    audited. NotFound when the client is not in this therapist's care now.

    One statement: the therapist's active assignment of the client, outer-joined to the notes, so
    "not in care" (no row) and "no notes yet" (one empty row) are told apart without a second query."""
    result = session.execute(
        _select_notes()
        .select_from(CareAssignment)
        .outerjoin(ClinicalNote, ClinicalNote.client_id == CareAssignment.client_id)
        .outerjoin(Therapist, Therapist.id == ClinicalNote.therapist_id)
        .where(
            # The visibility rule itself, then the one assignment row (client, therapist) to start from.
            CareAssignment.client_id.in_(clients_in_care_now(therapist_id)),
            CareAssignment.client_id == client_id,
            CareAssignment.therapist_id == therapist_id,
        )
        .order_by(ClinicalNote.written_at.desc(), ClinicalNote.id.desc())
    ).all()
    if not result:
        raise NotFound(_l("This client is not in your care."))
    _recorded_read(session, client_id)
    return _rows(result)


def staff_may_read(settings: Mapping) -> bool:
    return bool(settings.get(SETTING, False))


def notes_for_staff(session: Session, client_id: int, settings: Mapping) -> list[NoteRow]:
    """Every note about the client, newest first, for the staff of a practice whose setting allows
    it (refused otherwise); the read is audited like a therapist's."""
    if not staff_may_read(settings):
        raise RuleViolation(NOT_FOR_STAFF)
    result = session.execute(
        _select_notes()
        .join(Therapist, Therapist.id == ClinicalNote.therapist_id)
        .where(ClinicalNote.client_id == client_id)
        .order_by(ClinicalNote.written_at.desc(), ClinicalNote.id.desc())
    ).all()
    _recorded_read(session, client_id)
    return _rows(result)
