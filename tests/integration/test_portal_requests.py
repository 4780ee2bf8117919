"""Requests from the portal (issue 18): a therapist asks the office to deactivate or activate a client
record, the office answers from its task, and the answer comes back to the portal.

Lima; today is Saturday 5 December 2026. Rosa Mendoza (signed in in the portal) cares for Ana Quispe
(active) and Ben Soto (client record deactivated); Jorge Salas cares for Carla Ruiz and has asked about
her himself. The office's admin answers in another browser.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AdminTask, CareAssignment, Client, ClientRequest, RequestAction, TaskKind
from admin_app.services.tasks import client_requests
from admin_app.services.tasks.scan import scan
from tests.conftest import login, make_app, sign_in_therapist
from tests.factories import make_admin, make_client, make_therapist
from tests.pages import body, csrf_token, csv_rows, detail_fields, flashed, list_rows, text_of

CLIENTS = "/portal/clients/"
ASK = "/portal/clients/request/"
REQUESTS = "/portal/requests/"
NOTIFICATIONS = "/portal/notifications/"
TASKS = "/admin/tasks/"
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


@pytest.fixture
def practice(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    ana = make_client(rosa, full_name="Ana Quispe")
    ben = make_client(rosa, full_name="Ben Soto", active=False)
    carla = make_client(jorge, full_name="Carla Ruiz")
    jorges = client_requests.ask(
        db.session, therapist=jorge, client=carla, action=RequestAction.DEACTIVATE, reason="Moved to Arequipa"
    )
    admin = make_admin()
    db.session.commit()
    sign_in_therapist(client, rosa)
    office = app.test_client()
    assert login(office, admin.email).status_code == 302
    return SimpleNamespace(rosa=rosa, jorge=jorge, ana=ana, ben=ben, carla=carla, jorges=jorges, office=office)


def ask(client, who: Client, action: str, reason: str = "Therapy ended in November"):
    return client.post(ASK, data={"id": who.id, "action": action, "reason": reason}, follow_redirects=True)


def requests_written() -> int:
    return db.session.scalar(select(func.count(ClientRequest.id)))


def task_of(request_id: int) -> AdminTask:
    return db.session.scalar(
        select(AdminTask).where(AdminTask.kind == TaskKind.CLIENT_REQUEST, AdminTask.subject == str(request_id))
    )


def answer(office, request_id: int, accepted: bool, note: str):
    task = task_of(request_id)
    page = office.get(f"{TASKS}{task.id}")
    assert page.status_code == 200
    return office.post(
        f"{TASKS}{task.id}/answer",
        data={"accepted": "1" if accepted else "0", "note": note, "next": f"{TASKS}{task.id}"},
        follow_redirects=True,
    )


def notices(client) -> list[str]:
    page = body(client.get(NOTIFICATIONS))
    return [
        text_of(item)
        for item in re.findall(r'<li class="list-group-item notification[^"]*"[^>]*>(.*?)</li>', page, re.S)
    ]


def test_asking_to_deactivate_goes_to_the_office_and_comes_back_done(client, practice):
    details = client.get(f"{CLIENTS}details/?id={practice.ana.id}")
    assert 'name="csrf_token"' in body(details) and "Ask to deactivate" in text_of(body(details))

    page = ask(client, practice.ana, "deactivate")

    assert flashed(page) == ["Your request was sent to the office; its answer will come as a notification."]
    [mine] = list_rows(client.get(REQUESTS))
    assert (mine["client"], mine["action"], mine["reason"], mine["status"]) == (
        "Ana Quispe",
        "Ask to deactivate",
        "Therapy ended in November",
        "Waiting for the office",
    )
    asked = db.session.scalar(select(ClientRequest).where(ClientRequest.therapist_id == practice.rosa.id))

    scan(db.session)
    db.session.commit()
    tasks = text_of(body(practice.office.get(TASKS)))
    assert "Rosa Mendoza asks to deactivate Ana Quispe" in tasks
    done = answer(practice.office, asked.id, True, "Closed her file, thank you")
    assert flashed(done) == ["The request was done and the therapist told."]

    db.session.expire_all()
    assert db.session.get(Client, practice.ana.id).active is False
    care = db.session.scalar(select(CareAssignment).where(CareAssignment.client_id == practice.ana.id))
    assert care.active is True  # the care assignment is unchanged: Rosa still sees Ana
    [notice] = notices(client)
    assert f"The office did what you asked in request #{asked.id}" in notice
    assert "Client: Ana Quispe" in notice and "Office's note: Closed her file, thank you" in notice
    [mine] = list_rows(client.get(REQUESTS))
    assert (mine["status"], mine["answer_note"]) == ("Done", "Closed her file, thank you")
    assert mine["answered_at"] == "2026-12-05 10:00"
    again = client.get(f"{CLIENTS}details/?id={practice.ana.id}")
    assert "Ask to activate" in text_of(body(again))


def test_asking_to_activate_can_be_refused(client, practice):
    ask(client, practice.ben, "activate", "He is coming back in January")
    asked = db.session.scalar(select(ClientRequest).where(ClientRequest.therapist_id == practice.rosa.id))
    scan(db.session)
    db.session.commit()

    refused = answer(practice.office, asked.id, False, "His insurer closed the claim")

    assert flashed(refused) == ["The request was refused and the therapist told."]
    db.session.expire_all()
    assert db.session.get(Client, practice.ben.id).active is False
    [notice] = notices(client)
    assert f"The office refused your request #{asked.id}" in notice
    assert "Office's note: His insurer closed the claim" in notice
    [mine] = list_rows(client.get(REQUESTS))
    assert (mine["action"], mine["status"]) == ("Ask to activate", "Refused")


def test_asking_is_refused_without_a_reason_or_with_nothing_to_do(client, practice):
    assert flashed(ask(client, practice.ana, "deactivate", "  ")) == ["Say why you ask: the reason is required."]
    assert flashed(ask(client, practice.ana, "activate")) == ["Ana Quispe is already active."]
    ask(client, practice.ana, "deactivate")
    assert flashed(ask(client, practice.ana, "deactivate")) == [
        "You already asked this about Ana Quispe; the office has not answered yet."
    ]
    assert requests_written() == 2  # Jorge's and Rosa's one


def test_another_therapists_client_or_request_is_not_found(client, practice):
    page = ask(client, practice.carla, "deactivate")
    assert page.status_code == 404
    assert requests_written() == 1
    assert client.post(ASK, data={"id": "999999", "action": "deactivate", "reason": "x"}).status_code == 404

    assert client.get(f"{REQUESTS}details/?id={practice.jorges.id}").status_code == 404
    assert list_rows(client.get(REQUESTS)) == []
    ask(client, practice.ana, "deactivate")
    exported = csv_rows(client.get(f"{REQUESTS}export/csv/"))
    assert [row["Client"] for row in exported] == ["Ana Quispe"]
    assert "Carla" not in body(client.get(f"{REQUESTS}export/csv/"))
    edit = client.get(f"{REQUESTS}edit/?id={practice.jorges.id}", follow_redirects=True)  # read only: back to the list
    assert "Carla" not in body(edit) and "Arequipa" not in body(edit)


def test_my_requests_shows_the_newest_first_and_hides_a_client_whose_care_ended(client, practice, clock):
    ask(client, practice.ana, "deactivate")
    clock.set("2026-12-05T16:00Z")
    ask(client, practice.ben, "activate", "Back in January")
    assert [row["client"] for row in list_rows(client.get(REQUESTS))] == ["Ben Soto", "Ana Quispe"]

    care = db.session.scalar(select(CareAssignment).where(CareAssignment.client_id == practice.ben.id))
    care.active = False
    db.session.commit()

    rows = list_rows(client.get(REQUESTS))
    assert [row["client"] for row in rows] == [f"#{practice.ben.id}", "Ana Quispe"]
    asked = db.session.scalar(select(ClientRequest).where(ClientRequest.client_id == practice.ben.id))
    assert detail_fields(client.get(f"{REQUESTS}details/?id={asked.id}"))["Client"] == f"#{practice.ben.id}"
    assert "Ben Soto" not in body(client.get(REQUESTS))


def test_asking_needs_the_pages_csrf_token(database_url, practice):
    browser = make_app(database_url, WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token(browser.get("/login"))
    browser.post(
        "/login", data={"email": practice.rosa.email, "password": "quiet-harbour-lantern", "csrf_token": token}
    )
    form = {"id": practice.ana.id, "action": "deactivate", "reason": "Therapy ended"}

    assert browser.post(ASK, data=form).status_code == 400
    assert requests_written() == 1

    details = browser.get(f"{CLIENTS}details/?id={practice.ana.id}")
    assert browser.post(ASK, data={**form, "csrf_token": csrf_token(details)}).status_code == 302
    assert requests_written() == 2
