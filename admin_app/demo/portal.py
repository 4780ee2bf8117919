"""What the demo therapist's portal holds beyond the appointments and payouts: clinical notes about
a few clients in their care, written after their latest attended sessions, in the practice's language.

Notes are written as the portal writes them (a `ClinicalNote` per session, append-only), dated the
evening of the session they are about, so the client's page reads as a real record.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.demo.catalogue import marker_email
from admin_app.demo.practices import DemoPractice
from admin_app.models import (
    Appointment,
    Attendance,
    CareAssignment,
    Client,
    ClinicalNote,
    Participant,
    Therapist,
)

NOTED_CLIENTS = 3  # the demo therapist's clients with notes
NOTES_PER_CLIENT = 2  # about their latest attended sessions
WRITTEN_AFTER = dt.timedelta(hours=2)  # after the session's start
NOTES = {
    "en": (
        "Reviewed the week's thought records. Catastrophic predictions about work came up twice; "
        "practised looking for evidence against them.\nHomework: one behavioural experiment before next session.",
        "Client reports sleeping better. Set up a graded exposure ladder (steps 1–3 this week).\n"
        "No risk concerns raised.",
    ),
    "es": (
        "Revisamos los registros de pensamientos de la semana. Aparecieron dos veces predicciones catastróficas "
        "sobre el trabajo; practicamos buscar evidencia en contra.\nTarea: un experimento conductual antes de la "
        "próxima sesión.",
        "Refiere que duerme mejor. Armamos una jerarquía de exposición gradual (pasos 1–3 esta semana).\n"
        "Sin indicadores de riesgo.",
    ),
}


def load_clinical_notes(session: Session, practice: DemoPractice, *, today: dt.date) -> int:
    """Notes by the demo therapist about NOTED_CLIENTS of their active clients in care (by name),
    one per latest attended session; the caller commits. Returns how many were written."""
    therapist = session.scalar(select(Therapist).where(Therapist.email == marker_email(practice)))
    clients = session.scalars(
        select(Client.id)
        .join(CareAssignment, CareAssignment.client_id == Client.id)
        .where(CareAssignment.therapist_id == therapist.id, CareAssignment.active, Client.active)
        .order_by(Client.full_name, Client.id)
        .limit(NOTED_CLIENTS)
    ).all()
    texts = NOTES.get(practice.locale, NOTES["en"])
    written = 0
    for client_id in clients:
        starts = session.scalars(
            select(Appointment.starts_at)
            .join(Participant, Participant.appointment_id == Appointment.id)
            .where(
                Appointment.therapist_id == therapist.id,
                Participant.client_id == client_id,
                Participant.attendance == Attendance.ATTENDED,
                Appointment.starts_at < dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC),
            )
            .order_by(Appointment.starts_at.desc())
            .limit(NOTES_PER_CLIENT)
        ).all()
        for text, start in zip(texts, reversed(starts), strict=False):
            written_at = start + WRITTEN_AFTER
            session.add(ClinicalNote(client_id=client_id, therapist_id=therapist.id, text=text, written_at=written_at))
            written += 1
    session.flush()
    return written
