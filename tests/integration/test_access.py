"""Where each kind of visitor lands, and what the login redirect carries.

Every URL × role (anonymous, two therapists, staff) is walked by test_url_walk.py.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from admin_app.extensions import db
from tests.conftest import login
from tests.factories import make_appointment, make_client, make_therapist, make_therapist_user


@pytest.fixture
def records(app):
    """One of each kind of record, so that id-based URLs point at something real."""
    therapist = make_therapist()
    client = make_client(therapist, full_name="Ana Quispe")
    make_appointment(therapist, client)
    db.session.commit()
    return client


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302, f"{path}: {response.status_code}"
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login", f"{path} → {response.headers['Location']}"
    assert parse_qs(location.query)["next"] == [urlsplit(path).path]


def test_the_login_redirect_does_not_carry_the_search_terms(client, records):
    response = client.get("/admin/client/?search=Quispe")
    assert_sent_to_login(response, "/admin/client/")
    assert "Quispe" not in response.headers["Location"]


def test_the_front_door_sends_anonymous_visitors_to_the_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_a_therapist_lands_in_the_portal(therapist_client):
    response = therapist_client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/portal/"
    page = response.get_data(as_text=True)
    assert "Welcome, Rosa Mendoza" in page
    assert "My clients" in page


def test_an_admin_lands_in_the_staff_area_and_is_refused_the_portal(admin_client):
    response = admin_client.get("/", follow_redirects=True)
    assert response.request.path == "/admin/"  # the staff home: tasks, Bad Fit, the day's summary
    assert response.status_code == 200
    assert admin_client.get("/portal/").status_code == 403
    assert admin_client.get("/portal/clients/").status_code == 403


def test_a_therapist_login_without_a_therapist_record_sees_no_portal_lists(client, app):
    therapist = make_therapist()
    user = make_therapist_user(therapist)
    therapist.user = None  # the staff unlinked the record
    db.session.commit()
    login(client, user.email)

    home = client.get("/portal/")
    assert home.status_code == 200
    assert "Your login is not linked to a therapist record yet" in home.get_data(as_text=True)
    assert client.get("/portal/clients/").status_code == 403
    assert client.get("/portal/appointments/").status_code == 403
