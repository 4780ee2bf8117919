"""Deletes that history or money depends on are refused with a reason and a way out."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete as delete_statement
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    CareAssignment,
    Client,
    ClientLink,
    LinkKind,
    Participant,
    PaymentSource,
    Therapist,
)
from tests.factories import make_appointment, make_client, make_payer, make_therapist
from tests.pages import flashed, list_rows


def delete(admin_client, screen: str, record_id: int):
    return admin_client.post(
        f"/admin/{screen}/delete/", data={"id": str(record_id), "url": f"/admin/{screen}/"}, follow_redirects=True
    )


def exists(model, record_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(model, record_id) is not None


def test_a_client_with_appointments_cannot_be_deleted(admin_client):
    therapist = make_therapist()
    client = make_client(therapist, full_name="Ana Quispe")
    make_appointment(therapist, client)
    db.session.commit()

    response = delete(admin_client, "client", client.id)

    assert response.status_code == 200
    assert (
        "Ana Quispe cannot be deleted: they take part in 1 appointment. Untick “Active” to deactivate them instead."
    ) in flashed(response)
    assert "Record was successfully deleted." not in flashed(response)
    assert exists(Client, client.id)
    assert [row["full_name"] for row in list_rows(response)] == ["Ana Quispe"]


def test_a_therapist_with_appointments_cannot_be_deleted(admin_client):
    therapist = make_therapist(full_name="Rosa Mendoza")
    client = make_client(therapist)
    make_appointment(therapist, client)
    make_appointment(therapist, client)
    db.session.commit()

    response = delete(admin_client, "therapist", therapist.id)

    assert response.status_code == 200
    assert (
        "Rosa Mendoza cannot be deleted: they have 2 appointments and their client assignments. "
        "Untick “Active” to deactivate them instead."
    ) in flashed(response)
    assert exists(Therapist, therapist.id)


def test_an_appointment_with_a_fee_cannot_be_deleted(admin_client):
    therapist = make_therapist()
    appointment = make_appointment(therapist, make_client(), fee=Decimal("150.00"))
    db.session.commit()

    response = delete(admin_client, "appointment", appointment.id)

    assert response.status_code == 200
    assert (
        "This appointment has a fee and belongs to the books, so it cannot be deleted. "
        "Set its status to “Cancelled” instead."
    ) in flashed(response)
    assert exists(Appointment, appointment.id)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_a_free_appointment_can_be_deleted_with_its_participants(admin_client):
    appointment = make_appointment(make_therapist(), make_client(), fee=Decimal("0.00"))
    db.session.commit()

    response = delete(admin_client, "appointment", appointment.id)

    assert "Record was successfully deleted." in flashed(response)
    assert not exists(Appointment, appointment.id)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
    assert list_rows(response) == []


def test_a_client_with_no_history_is_deleted(admin_client):
    keep = make_client(full_name="Ana Quispe")
    client = make_client(full_name="Registered By Mistake")
    db.session.commit()

    response = delete(admin_client, "client", client.id)

    assert response.status_code == 200
    assert "Record was successfully deleted." in flashed(response)
    assert not exists(Client, client.id)
    assert exists(Client, keep.id)
    assert [row["full_name"] for row in list_rows(response)] == ["Ana Quispe"]


def test_a_client_assigned_to_a_therapist_but_never_seen_is_deleted_with_the_assignment(admin_client):
    therapist = make_therapist()
    client = make_client(therapist, full_name="Registered By Mistake")
    db.session.commit()

    response = delete(admin_client, "client", client.id)

    assert "Record was successfully deleted." in flashed(response), flashed(response)
    assert not exists(Client, client.id)
    assert db.session.scalar(select(func.count()).select_from(CareAssignment)) == 0
    assert exists(Therapist, therapist.id)


def test_a_client_with_only_a_payment_source_is_deleted_with_it(admin_client):
    client = make_client(full_name="Registered By Mistake")
    db.session.add(PaymentSource(client=client, payer=make_payer(), member_number="M-1"))
    db.session.commit()

    response = delete(admin_client, "client", client.id)

    assert "Record was successfully deleted." in flashed(response), flashed(response)
    assert not exists(Client, client.id)
    assert db.session.scalar(select(func.count()).select_from(PaymentSource)) == 0


def test_a_therapist_with_no_history_is_deleted(admin_client):
    therapist = make_therapist(full_name="Rosa Mendoza")
    db.session.commit()

    response = delete(admin_client, "therapist", therapist.id)

    assert "Record was successfully deleted." in flashed(response)
    assert not exists(Therapist, therapist.id)


def test_the_bulk_delete_action_refuses_the_clients_with_history_and_deletes_the_others(admin_client):
    therapist = make_therapist()
    seen = make_client(therapist, full_name="Ana Quispe")
    make_appointment(therapist, seen)
    unseen = make_client(full_name="Registered By Mistake")
    db.session.commit()

    response = admin_client.post(
        "/admin/client/action/",
        data={"action": "delete", "rowid": [str(seen.id), str(unseen.id)], "url": "/admin/client/"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert any(message.startswith("Ana Quispe cannot be deleted") for message in flashed(response))
    assert exists(Client, seen.id)
    assert not exists(Client, unseen.id)


def test_the_database_enforces_links_on_sqlite_too(app):
    """The embedded default turns SQLite's foreign keys on: deleting a client drops the links
    where they are the other party, instead of leaving rows pointing at nobody."""
    guardian = make_client(full_name="Madre")
    minor = make_client(full_name="Hijo")
    db.session.add(ClientLink(client=guardian, related_client=minor, kind=LinkKind.GUARDIAN_OF))
    db.session.commit()

    db.session.execute(delete_statement(Client).where(Client.id == minor.id))
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(ClientLink)) == 0
