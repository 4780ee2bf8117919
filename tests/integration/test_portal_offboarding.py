"""Privacy holds: what ends a therapist's access, at once and on the next request.

An ended care assignment hides that client (whoever the therapist saw before); a deactivated
therapist record or login closes the portal and the calendar feed, with the session still open.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from admin_app.extensions import db
from admin_app.services.scheduling import calendar
from tests.conftest import sign_in_therapist
from tests.factories import make_appointment, make_client, make_therapist
from tests.pages import list_rows


@pytest.fixture
def rosa(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    dora = make_client(rosa, full_name="Dora Ríos")
    make_appointment(rosa, dora, dt.datetime(2026, 5, 6, 15, 0, tzinfo=dt.UTC))
    sign_in_therapist(client, rosa)
    feed = calendar.rotate_calendar_feed(db.session, rosa)
    db.session.commit()
    return SimpleNamespace(therapist=rosa, ana=ana, dora=dora, feed=feed.removeprefix(app.config["PUBLIC_BASE_URL"]))


def names(client) -> list[str]:
    return [row["full_name"] for row in list_rows(client.get("/portal/clients/"))]


def test_an_ended_care_assignment_hides_the_client_at_once(client, rosa):
    assert names(client) == ["Ana Quispe", "Dora Ríos"]
    assignment = rosa.dora.care_assignments[0]
    assignment.active = False
    db.session.commit()

    assert names(client) == ["Ana Quispe"]
    assert client.get(f"/portal/clients/details/?id={rosa.dora.id}").status_code == 404
    assert client.get(f"/portal/clients/edit/?id={rosa.dora.id}").status_code == 404
    export = client.get("/portal/clients/export/csv/").get_data(as_text=True)
    assert "Ana Quispe" in export and "Dora" not in export


def test_reassigning_a_client_moves_access_to_the_new_therapist(app, client, rosa):
    assignment = rosa.dora.care_assignments[0]
    assignment.therapist = make_therapist(full_name="Jorge Salas")
    db.session.commit()

    assert names(client) == ["Ana Quispe"]
    assert client.get(f"/portal/clients/details/?id={rosa.dora.id}").status_code == 404


@pytest.mark.parametrize("who", ["record", "login"])
def test_deactivating_the_therapist_closes_the_portal_and_the_feed_at_once(client, rosa, who):
    assert client.get("/portal/clients/").status_code == 200
    assert client.get(rosa.feed).status_code == 200

    target = rosa.therapist if who == "record" else rosa.therapist.user
    target.active = False
    db.session.commit()

    for path in ("/portal/clients/", f"/portal/clients/details/?id={rosa.ana.id}", "/portal/appointments/"):
        response = client.get(path)
        assert response.status_code in (302, 403), (path, response.status_code)
        assert "Ana Quispe" not in response.get_data(as_text=True)
    assert client.get(rosa.feed).status_code == 404


def test_her_own_appointment_with_a_client_whose_care_ended_shows_initials(client, rosa):
    rosa.dora.care_assignments[0].active = False
    db.session.commit()

    listed = [row["participants"] for row in list_rows(client.get("/portal/appointments/"))]
    exported = client.get("/portal/appointments/export/csv/").get_data(as_text=True)

    assert listed == ["D. R. · Attended"]
    assert "D. R." in exported and "Dora" not in exported
