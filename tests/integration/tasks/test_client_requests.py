"""A therapist asks the office to activate or deactivate a client; the office answers (issue 17).

The request is about the client record (`Client.active`), never the care assignment. Lima; today is
Saturday 5 December 2026. Lucía Torres cares for Ana Quispe (active) and Ben Soto (whose record was
deactivated); her care of Dora Paz ended in October; Carla Ramos is another therapist's client.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    CareAssignment,
    Client,
    RequestAction,
    RequestStatus,
    TaskKind,
    TaskStatus,
)
from admin_app.services.messaging import notifications
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.tasks import client_requests
from admin_app.services.tasks.scan import scan
from tests.factories import make_admin, make_client, make_therapist, make_therapist_user

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


@pytest.fixture
def care(app):
    lucia = make_therapist(full_name="Lucía Torres")
    login = make_therapist_user(lucia)
    ana = make_client(lucia, full_name="Ana Quispe")
    ben = make_client(lucia, full_name="Ben Soto", active=False)
    dora = make_client(lucia, full_name="Dora Paz")
    assignment(lucia, dora).active, assignment(lucia, dora).deactivated_on = False, dt.date(2026, 10, 15)
    carla = make_client(make_therapist(full_name="Beto Ramos"), full_name="Carla Ramos")
    db.session.commit()
    return lucia, login, ana, ben, carla, dora


def assignment(therapist, client) -> CareAssignment:
    return db.session.scalar(
        select(CareAssignment).where(CareAssignment.therapist_id == therapist.id, CareAssignment.client_id == client.id)
    )


def ask(therapist, client, action: RequestAction, reason: str = "Moved to Cusco"):
    return client_requests.ask(db.session, therapist=therapist, client=client, action=action, reason=reason)


@pytest.mark.parametrize(
    ("who", "action", "reason", "message"),
    [
        ("ana", RequestAction.DEACTIVATE, "  ", "Say why you ask: the reason is required."),
        ("carla", RequestAction.DEACTIVATE, "Moved", "Carla Ramos is not in your care."),
        ("dora", RequestAction.DEACTIVATE, "Moved", "Dora Paz is not in your care."),
        ("ana", RequestAction.ACTIVATE, "Back from travel", "Ana Quispe is already active."),
        ("ben", RequestAction.DEACTIVATE, "Moved", "Ben Soto is already deactivated."),
    ],
)
def test_asking_is_refused_when_there_is_nothing_to_ask(care, who, action, reason, message):
    lucia, _login, ana, ben, carla, dora = care
    client = {"ana": ana, "ben": ben, "carla": carla, "dora": dora}[who]
    with pytest.raises(RuleViolation) as refused:
        ask(lucia, client, action, reason)
    assert str(refused.value) == message
    db.session.rollback()
    assert db.session.scalars(select(AdminTask)).all() == []


def test_the_same_request_twice_is_refused_while_the_first_waits(care):
    lucia, _login, ana, *_others = care
    ask(lucia, ana, RequestAction.DEACTIVATE)
    db.session.commit()
    with pytest.raises(
        RuleViolation, match="You already asked this about Ana Quispe; the office has not answered yet."
    ):
        ask(lucia, ana, RequestAction.DEACTIVATE, "Still moved")


def test_an_accepted_request_deactivates_the_client_and_tells_the_therapist(care):
    """Lucía asks to deactivate Ana: the scan opens the task; the office accepts: Ana's record is
    deactivated, Lucía still cares for her (the assignment is unchanged), Lucía's login has the notice,
    the task is closed and stays closed."""
    lucia, login, ana, *_others = care
    request = ask(lucia, ana, RequestAction.DEACTIVATE)
    db.session.commit()
    assert scan(db.session).opened == 1
    db.session.commit()
    [task] = db.session.scalars(select(AdminTask))
    assert (task.kind, task.subject, task.status) == (TaskKind.CLIENT_REQUEST, str(request.id), TaskStatus.OPEN)

    answered = client_requests.answer(
        db.session, request.id, accepted=True, note="Done, safe travels", user=make_admin()
    )
    db.session.commit()
    assert (answered.status, answered.answer_note) == (RequestStatus.DONE, "Done, safe travels")
    db.session.expire_all()
    assert db.session.get(Client, ana.id).active is False
    assert (assignment(lucia, ana).active, assignment(lucia, ana).deactivated_on) == (True, None)
    [notice] = notifications.recent(db.session, login.id)
    assert notice.text == (
        f"The office did what you asked in request #{request.id} (client #{ana.id}): see your requests for its note."
    )
    assert db.session.get(AdminTask, task.id).status == TaskStatus.CLOSED
    assert scan(db.session).opened == 0

    with pytest.raises(RuleViolation, match="This request was already answered."):
        client_requests.answer(db.session, request.id, accepted=False, note="", user=make_admin("other@example.com"))


def test_a_refused_request_leaves_the_client_as_it_was_and_tells_the_therapist(care):
    lucia, login, _ana, ben, *_others = care
    request = ask(lucia, ben, RequestAction.ACTIVATE, "He is coming back in January")
    db.session.commit()
    client_requests.answer(db.session, request.id, accepted=False, note="His file is closed", user=make_admin())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Client, ben.id).active is False
    assert db.session.get(type(request), request.id).status == RequestStatus.REFUSED
    [notice] = notifications.recent(db.session, login.id)
    assert (
        notice.text == f"The office refused your request #{request.id} (client #{ben.id}): see your requests for why."
    )


def test_an_accepted_activation_makes_the_client_active_again(care):
    lucia, _login, _ana, ben, *_others = care
    request = ask(lucia, ben, RequestAction.ACTIVATE, "He is coming back in January")
    client_requests.answer(db.session, request.id, accepted=True, note="", user=make_admin())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Client, ben.id).active is True
    assert (assignment(lucia, ben).active, assignment(lucia, ben).deactivated_on) == (True, None)
