"""The therapist portal: a therapist sees and changes only their own clients and appointments.

Rosa (signed in) cares for Ana directly and for Beto indirectly; Carlos is another therapist's
client. Whatever the door (list, search, details, edit, export, ajax
lookup, a hand-made POST), Carlos's records are the same as records that do not exist.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AssignmentKind,
    Attendance,
    AuditEvent,
    CareAssignment,
    Client,
    Modality,
    Participant,
)
from tests.conftest import sign_in_therapist
from tests.factories import book, make_appointment, make_client, make_site, make_therapist, make_therapist_user
from tests.pages import body, csv_rows, detail_fields, field_errors, flashed, list_rows, row_ids


@pytest.fixture
def practice(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    other = make_therapist(full_name="Jorge Salas")
    ana = make_client(rosa, full_name="Ana Quispe", national_id="11111111", phone="+51987654321")
    beto = make_client(full_name="Beto Quispe", national_id="22222222")
    db.session.add(CareAssignment(client=beto, therapist=rosa, kind=AssignmentKind.INDIRECT))
    carlos = make_client(other, full_name="Carlos Quispe", national_id="33333333")
    ana_session = make_appointment(rosa, ana, dt.datetime(2026, 5, 4, 15, 0, tzinfo=dt.UTC))
    beto_session = make_appointment(rosa, beto, dt.datetime(2026, 5, 6, 15, 0, tzinfo=dt.UTC))
    carlos_session = make_appointment(other, carlos, dt.datetime(2026, 5, 5, 15, 0, tzinfo=dt.UTC))
    make_therapist_user(other)
    sign_in_therapist(client, rosa)
    return SimpleNamespace(
        rosa=rosa,
        other=other,
        ana=ana,
        beto=beto,
        carlos=carlos,
        ana_session=ana_session,
        beto_session=beto_session,
        carlos_session=carlos_session,
    )


# --- clients -----------------------------------------------------------------------------------


def test_the_client_list_shows_only_the_therapists_own_clients(client, practice):
    response = client.get("/portal/clients/")

    assert response.status_code == 200
    assert [row["full_name"] for row in list_rows(response)] == ["Ana Quispe", "Beto Quispe"]
    assert row_ids(response) == {practice.ana.id, practice.beto.id}
    assert "Carlos" not in body(response)


def test_searching_for_another_therapists_client_finds_nothing(client, practice):
    response = client.get("/portal/clients/?search=Carlos")
    assert response.status_code == 200
    assert list_rows(response) == []
    assert "Carlos Quispe" not in body(response)  # the term itself is echoed in the search box and links

    by_id = client.get("/portal/clients/?search=33333333")
    assert list_rows(by_id) == []

    mine = client.get("/portal/clients/?search=Quispe")
    assert [row["full_name"] for row in list_rows(mine)] == ["Ana Quispe", "Beto Quispe"]


def test_another_therapists_client_answers_404_on_details_and_edit(client, practice):
    carlos = practice.carlos.id
    assert client.get(f"/portal/clients/details/?id={carlos}").status_code == 404
    assert client.get(f"/portal/clients/edit/?id={carlos}").status_code == 404
    assert client.get("/portal/clients/details/?id=999999").status_code == 404  # same as a missing record

    response = client.post(
        f"/portal/clients/edit/?id={carlos}",
        data={"email": "hijack@example.com", "phone": "", "preferred_language": "es", "reminder_preference": "email"},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Client, carlos).email != "hijack@example.com"


def test_the_therapist_sees_and_edits_their_own_clients_contact_details(client, practice):
    details = client.get(f"/portal/clients/details/?id={practice.beto.id}")
    assert details.status_code == 200
    assert detail_fields(details)["Name"] == "Beto Quispe"

    response = client.post(
        f"/portal/clients/edit/?id={practice.ana.id}",
        data={
            "email": "ANA@example.com",
            "phone": "912 345 678",
            "preferred_language": "en",
            "reminder_preference": "both",
            "notes": "",
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    db.session.expire_all()
    ana = db.session.get(Client, practice.ana.id)
    assert (ana.email, ana.phone, ana.preferred_language) == ("ana@example.com", "+51912345678", "en")
    assert ana.full_name == "Ana Quispe"  # not on the portal form, not changed


def test_the_csv_export_holds_only_the_therapists_own_clients(client, practice):
    response = client.get("/portal/clients/export/csv/")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert sorted(row["Name"] for row in rows) == ["Ana Quispe", "Beto Quispe"]
    assert "Carlos" not in body(response)
    assert "33333333" not in body(response)
    export = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert (export.entity, export.actor) == ("client", practice.rosa.email)


def test_the_portal_cannot_create_or_delete_clients(client, practice):
    assert client.get("/portal/clients/new/").status_code == 302
    response = client.post("/portal/clients/delete/", data={"id": str(practice.ana.id)})
    assert response.status_code == 302
    bulk = client.post("/portal/clients/action/", data={"action": "delete", "rowid": [str(practice.ana.id)]})
    assert bulk.status_code in (302, 400, 403)
    db.session.expire_all()
    assert db.session.get(Client, practice.ana.id) is not None


# --- appointments ------------------------------------------------------------------------------


def test_the_appointment_list_shows_only_the_therapists_own_appointments_in_clinic_time(client, practice):
    response = client.get("/portal/appointments/")

    assert response.status_code == 200
    rows = list_rows(response)
    assert [(row["starts_at"], row["participants"]) for row in rows] == [
        ("2026-05-06 10:00", "Beto Quispe · Attended"),
        ("2026-05-04 10:00", "Ana Quispe · Attended"),
    ]
    assert practice.carlos_session.id not in row_ids(response)
    assert "Carlos" not in body(response)


def test_another_therapists_appointment_answers_404(client, practice):
    other = practice.carlos_session.id
    assert client.get(f"/portal/appointments/details/?id={other}").status_code == 404
    assert client.get(f"/portal/appointments/edit/?id={other}").status_code == 404
    response = client.post(f"/portal/appointments/edit/?id={other}", data={"notes": "seen", "video_link": ""})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Appointment, other).notes is None

    export = client.get("/portal/appointments/export/csv/")
    assert export.status_code == 200
    assert "Carlos" not in body(export)
    assert sorted(row["Participants"] for row in csv_rows(export)) == ["Ana Quispe", "Beto Quispe"]


def lookup_url(client, appointment_id: int) -> str:
    """The ajax lookup the participant field of the edit form calls (read from the page)."""
    page = body(client.get(f"/portal/appointments/edit/?id={appointment_id}"))
    found = re.search(r'data-url="(/portal/appointments/ajax/lookup/\?name=[\w-]+)"', page)
    assert found, "no ajax lookup on the portal appointment form"
    return found.group(1)


def test_the_participant_lookup_offers_only_the_therapists_own_clients(client, practice):
    url = lookup_url(client, practice.ana_session.id)

    response = client.post(url, data={"query": "Quispe"})

    assert response.status_code == 200
    found = json.loads(response.get_data(as_text=True))
    assert sorted(label for _id, label in found) == ["Ana Quispe (11111111)", "Beto Quispe (22222222)"]
    assert practice.carlos.id not in {pk for pk, _label in found}
    assert json.loads(client.post(url, data={"query": "33333333"}).get_data(as_text=True)) == []


def edit_appointment(client, appointment, *participants: dict, follow_redirects=False, **fields):
    """POST the portal's appointment form: `participants` are rows of id/client/attendance/..."""
    data = {"video_link": "", "notes": "", **fields}
    for index, row in enumerate(participants):
        data.update({f"participants-{index}-{key}": value for key, value in row.items()})
    return client.post(f"/portal/appointments/edit/?id={appointment.id}", data=data, follow_redirects=follow_redirects)


def test_a_posted_form_cannot_attach_another_therapists_client(client, practice):
    appointment = practice.ana_session
    ana_participant = appointment.participants[0]

    response = edit_appointment(
        client,
        appointment,
        {"id": str(ana_participant.id), "client": str(practice.ana.id), "attendance": "attended"},
        {"client": str(practice.carlos.id), "attendance": "expected"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert "Failed to save record." in flashed(response)
    assert field_errors(response) == {"participants-1-client": ["Not a valid choice"]}
    clients = db.session.scalars(select(Participant.client_id).where(Participant.appointment_id == appointment.id))
    assert list(clients) == [practice.ana.id]
    assert db.session.scalar(select(Participant).where(Participant.client_id == practice.carlos.id)).appointment_id == (
        practice.carlos_session.id
    )


def test_a_posted_form_cannot_swap_a_participant_for_another_therapists_client(client, practice):
    appointment = practice.ana_session
    ana_participant = appointment.participants[0]

    response = edit_appointment(
        client,
        appointment,
        {"id": str(ana_participant.id), "client": str(practice.carlos.id), "attendance": "attended"},
    )

    assert response.status_code == 200
    assert field_errors(response) == {"participants-0-client": ["Not a valid choice"]}
    db.session.expire_all()
    assert db.session.get(Participant, ana_participant.id).client_id == practice.ana.id


def test_the_therapist_adds_their_own_client_to_their_appointment(client, practice):
    appointment = practice.ana_session
    ana_participant = appointment.participants[0]

    response = edit_appointment(
        client,
        appointment,
        {"id": str(ana_participant.id), "client": str(practice.ana.id), "attendance": "attended"},
        {"client": str(practice.beto.id), "attendance": "attended"},
        video_link="https://meet.example.com/rosa",
        follow_redirects=True,
    )

    assert response.status_code == 200
    db.session.expire_all()
    participants = db.session.scalars(
        select(Participant).where(Participant.appointment_id == appointment.id).order_by(Participant.id)
    ).all()
    assert [p.client_id for p in participants] == [practice.ana.id, practice.beto.id]
    beto = participants[1]
    assert (beto.fee, beto.currency) == (practice.rosa.default_fee, "PEN")  # from the therapist
    assert db.session.get(Appointment, appointment.id).video_link == "https://meet.example.com/rosa"


def test_a_participant_with_a_fee_cannot_be_removed_from_the_appointment(client, practice):
    appointment = practice.ana_session
    ana_participant = appointment.participants[0]

    response = edit_appointment(
        client,
        appointment,
        {"id": str(ana_participant.id), "client": str(practice.ana.id), "attendance": "attended"},
        follow_redirects=True,
        **{"del-participants-0": "y"},
    )

    assert (
        f"{practice.ana.full_name} cannot be removed from this appointment: their fee belongs to the books. "
        "Set their attendance to “Cancelled” instead."
    ) in flashed(response)
    db.session.expire_all()
    assert db.session.get(Participant, ana_participant.id) is not None


def test_a_clash_in_the_portal_names_neither_the_other_therapist_nor_their_client(client, practice):
    """Beto is also in Jorge's group with Carlos at the time of Rosa's session with Ana: adding Beto
    is refused, saying Beto is taken then, not with whom."""
    book(practice.other, [practice.beto, practice.carlos], practice.ana_session.starts_at, kind=AppointmentKind.GROUP)
    db.session.commit()
    ana_participant = practice.ana_session.participants[0]

    response = edit_appointment(
        client,
        practice.ana_session,
        {"id": str(ana_participant.id), "client": str(practice.ana.id), "attendance": "attended"},
        {"client": str(practice.beto.id), "attendance": "attended"},
    )

    page = body(response)
    assert "Beto Quispe already has another appointment on 2026-05-04 10:00–10:50." in page
    assert "Carlos" not in page and "Jorge" not in page
    assert len(practice.ana_session.participants) == 1


def test_a_room_clash_in_the_portal_says_the_room_is_taken_not_by_whom(client, practice):
    """Rosa's cancelled on-site session comes back when she marks Ana attended; Jorge has the room then."""
    room = make_site("Miraflores", rooms=("Sala 1",)).rooms[0]
    start = dt.datetime(2026, 5, 11, 15, 0, tzinfo=dt.UTC)
    mine = book(
        practice.rosa,
        [practice.ana],
        start,
        modality=Modality.ON_SITE,
        room=room,
        status=AppointmentStatus.CANCELLED,
        attendance=Attendance.CANCELLED,
    )
    book(practice.other, [practice.carlos], start, modality=Modality.ON_SITE, room=room)
    db.session.commit()

    response = edit_appointment(
        client, mine, {"id": str(mine.participants[0].id), "client": str(practice.ana.id), "attendance": "attended"}
    )

    page = body(response)
    assert "Room Miraflores · Sala 1 is taken on 2026-05-11 10:00–10:50 by another appointment." in page
    assert "Carlos" not in page and "Jorge" not in page
    db.session.expire_all()
    assert db.session.get(Appointment, mine.id).status == AppointmentStatus.CANCELLED


def test_a_future_appointment_cannot_be_marked_attended_from_its_form_but_can_be_cancelled(client, practice):
    """As on the portal home: what happened at a session is said once it has started."""
    future = make_appointment(
        practice.rosa, practice.ana, dt.datetime(2027, 1, 11, 15, 0, tzinfo=dt.UTC), attendance=Attendance.EXPECTED
    )
    db.session.commit()
    participant = future.participants[0]
    row = {"id": str(participant.id), "client": str(practice.ana.id)}

    refused = edit_appointment(client, future, {**row, "attendance": "attended"})
    assert "Attendance: this appointment has not started yet; record the attendance once it has." in body(refused)
    db.session.expire_all()
    assert db.session.get(Participant, participant.id).attendance == Attendance.EXPECTED

    edit_appointment(
        client,
        future,
        {**row, "attendance": "cancelled", "cancelled_by": "client", "cancellation_reason": "Travelling"},
        follow_redirects=True,
    )
    db.session.expire_all()
    assert db.session.get(Participant, participant.id).attendance == Attendance.CANCELLED
