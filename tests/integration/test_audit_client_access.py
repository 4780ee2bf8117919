"""Who looked at this client: the staff screen listing views, exports and changes of a client's record
and of what belongs to the client, newest first, a page at a time; and nobody else's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent, Participant
from admin_app.models.audit import record_event
from admin_app.services.audit.trail import client_access_history
from admin_app.services.people import clinical_notes
from tests.conftest import login
from tests.factories import make_appointment, make_client, make_therapist, make_therapist_user
from tests.pages import body


def table_rows(response) -> list[tuple[str, str, str]]:
    """(who, action, what) of each row of the screen's table, top to bottom."""
    rows = re.findall(r'<tr data-event="\d+">(.*?)</tr>', body(response), flags=re.S)
    cells = [re.findall(r'<td class="col-(?:who|action|what)">(.*?)</td>', row, flags=re.S) for row in rows]
    return [tuple(cell.strip() for cell in row) for row in cells]


@pytest.fixture
def rosa(app):
    therapist = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    make_therapist_user(therapist)
    db.session.commit()
    return therapist


def test_the_history_lists_the_clients_record_and_what_belongs_to_it_newest_first(admin_client, client, rosa, app):
    ana = make_client(rosa, full_name="Ana Quispe")
    other = make_client(rosa, full_name="Luis Ruiz")
    appointment = make_appointment(rosa, ana)
    db.session.commit()
    participant_id = db.session.scalar(select(Participant.id).where(Participant.client_id == ana.id))

    other_client = app.test_client()
    assert login(other_client, "rosa@example.com").status_code == 302
    other_client.get(f"/portal/clients/details/?id={ana.id}")  # the portal page, and the notes read
    clinical_notes.write(db.session, therapist=rosa, client_id=ana.id, text="Session notes")
    db.session.commit()
    admin_client.get(f"/admin/client/details/?id={ana.id}")
    admin_client.get(f"/admin/client/details/?id={other.id}")  # someone else's: not listed

    response = admin_client.get(f"/admin/client/access/?id={ana.id}")

    assert response.status_code == 200
    assert "Who looked at this client" in body(response) and "Ana Quispe" in body(response)
    rows = table_rows(response)
    assert rows[0][:2] == ("staff@example.com", "Viewed") and rows[0][2].endswith(f"#{ana.id}")
    actors_actions = {(who, action) for who, action, _what in rows}
    assert ("rosa@example.com", "Viewed") in actors_actions
    assert ("The system", "Created") in actors_actions  # the appointment booked, the note written
    history = client_access_history(db.session, client_id=ana.id)
    recorded = {(e.entity, e.entity_id) for e in history.events}
    assert {("client", ana.id), ("appointment", appointment.id), ("participant", participant_id)} <= recorded
    assert ("client_clinical_notes", ana.id) in recorded and any(e == "clinical_note" for e, _ in recorded)
    assert ("client", other.id) not in recorded
    times = [(e.occurred_at, e.id) for e in history.events]
    assert times == sorted(times, reverse=True)


def test_the_history_is_read_a_page_at_a_time(admin_client):
    ana = make_client(full_name="Ana Quispe")
    db.session.commit()
    for _ in range(60):
        record_event(db.session, action=AuditAction.VIEW, entity="client", entity_id=ana.id)
    db.session.commit()
    total = len(list(db.session.scalars(select(AuditEvent.id).where(AuditEvent.entity == "client"))))

    first = admin_client.get(f"/admin/client/access/?id={ana.id}")
    second = admin_client.get(f"/admin/client/access/?id={ana.id}&page=1")

    assert len(table_rows(first)) == 50 and 'id="older"' in body(first)
    assert len(table_rows(second)) == total - 50 and 'id="older"' not in body(second) and 'id="newer"' in body(second)


def test_a_therapist_cannot_open_the_history_and_a_missing_client_is_not_found(admin_client, app, rosa):
    ana = make_client(rosa)
    db.session.commit()
    therapist = app.test_client()
    login(therapist, "rosa@example.com")

    assert therapist.get(f"/admin/client/access/?id={ana.id}").status_code == 403
    assert admin_client.get("/admin/client/access/?id=999999").status_code == 302  # to the list, as details do
    assert admin_client.get(f"/admin/client/access/?id={ana.id}&page=x").status_code == 404


def test_a_change_names_its_fields_by_their_labels(admin_client, rosa):
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.commit()
    ana.email, ana.phone = "ana.quispe@example.com", "+51987650033"
    db.session.commit()

    page = body(admin_client.get(f"/admin/client/access/?id={ana.id}"))

    fields = re.findall(r'<td class="col-fields">(.*?)</td>', page, flags=re.S)
    assert "Email, Phone" in [cell.strip() for cell in fields]
