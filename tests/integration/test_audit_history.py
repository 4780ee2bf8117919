"""A record's audit history on its page: the appointment's changes and its participants', and who looked
at a client, read newest first by the same statements whatever the length of the history."""

from __future__ import annotations

import re

from admin_app.extensions import db
from admin_app.models import AuditAction
from admin_app.models.audit import record_event
from admin_app.services.audit.trail import APPOINTMENT_HISTORY_SIZE
from tests.factories import make_appointment, make_client, make_therapist
from tests.pages import body
from tests.queries import counted_queries


def changes(appointment, count: int) -> None:
    """`count` more changes, alternately of the appointment (its notes) and of its participant."""
    participant = appointment.participants[0]
    for n in range(count):
        entity, entity_id, field = (
            ("appointment", appointment.id, "notes") if n % 2 else ("participant", participant.id, "attendance")
        )
        record_event(db.session, action=AuditAction.UPDATE, entity=entity, entity_id=entity_id, changed_fields=[field])
    db.session.commit()


def history_lines(admin_client, appointment) -> list[str]:
    page = body(admin_client.get(f"/admin/appointment/details/?id={appointment.id}"))
    cell = re.search(r"<b>History</b>\s*</td>\s*<td>(.*?)</td>", page, re.S).group(1)
    return [line.strip() for line in cell.split("<br>")]


def statements_of(admin_client, url: str) -> int:
    admin_client.get(url)  # the session's first read of the login, out of the count
    with counted_queries() as statements:
        assert admin_client.get(url).status_code == 200
    return len(statements)


def test_an_appointment_shows_its_and_its_participants_changes_newest_first(admin_client):
    appointment = make_appointment(make_therapist(), make_client())
    db.session.commit()
    changes(appointment, 4)

    lines = history_lines(admin_client, appointment)

    assert [line.rsplit(" · ", 1)[1] for line in lines[:4]] == [
        "Appointment (Notes)",
        "Participant (Attendance)",
        "Appointment (Notes)",
        "Participant (Attendance)",
    ]
    assert [line.rsplit(" · ", 1)[1] for line in lines[4:]] == ["Participant", "Appointment"]  # created
    assert "Older changes" not in " ".join(lines)


def test_a_long_history_shows_the_newest_changes_and_says_where_the_others_are(admin_client):
    appointment = make_appointment(make_therapist(), make_client())
    db.session.commit()
    changes(appointment, APPOINTMENT_HISTORY_SIZE)  # with the two creations: two more than shown

    lines = history_lines(admin_client, appointment)

    assert len(lines) == APPOINTMENT_HISTORY_SIZE + 1
    assert lines[0].endswith("Appointment (Notes)") and lines[-2].endswith("Participant (Attendance)")
    assert lines[-1] == "<i>Older changes are in the audit trail.</i>"


def test_an_appointments_page_reads_its_history_in_the_same_statements_at_2_and_50_changes(admin_client):
    therapist = make_therapist()
    short, long = make_appointment(therapist, make_client()), make_appointment(therapist, make_client())
    db.session.commit()
    changes(long, 48)

    assert statements_of(admin_client, f"/admin/appointment/details/?id={short.id}") == statements_of(
        admin_client, f"/admin/appointment/details/?id={long.id}"
    )


def test_who_looked_at_a_client_reads_in_the_same_statements_at_2_and_50_events(admin_client):
    ana, luis = make_client(full_name="Ana Quispe"), make_client(full_name="Luis Ruiz")
    db.session.commit()
    for client, count in ((ana, 2), (luis, 50)):
        for _ in range(count):
            record_event(db.session, action=AuditAction.VIEW, entity="client", entity_id=client.id)
    db.session.commit()

    assert statements_of(admin_client, f"/admin/client/access/?id={ana.id}") == statements_of(
        admin_client, f"/admin/client/access/?id={luis.id}"
    )
