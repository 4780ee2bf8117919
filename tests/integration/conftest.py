"""Fixtures for the screens and the messages: a signed-in admin or therapist, an appointment coming up."""

from __future__ import annotations

import datetime as dt

import pytest

from admin_app.extensions import db
from admin_app.models import Attendance
from tests.conftest import login, sign_in_therapist
from tests.factories import book, make_admin, make_therapist


@pytest.fixture
def admin_user(app):
    user = make_admin()
    db.session.commit()
    return user


@pytest.fixture
def admin_client(client, admin_user):
    """A test client signed in as the practice's admin."""
    response = login(client, admin_user.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def therapist_client(client):
    """A test client signed in as Rosa Mendoza, a therapist with no clients yet."""
    return sign_in_therapist(client, make_therapist(full_name="Rosa Mendoza"))


@pytest.fixture
def book_soon(clock):
    """Books a client `hours` from now (on the hour; 20 is inside the reminder window) with a video
    link, committed; the therapist is Lucía Paredes unless given. Returns the appointment."""

    def booked(client, hours: float = 20, therapist=None, **options):
        starts_at = (clock.now() + dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
        appointment = book(
            therapist or make_therapist(full_name="Lucía Paredes"),
            [client],
            starts_at,
            attendance=Attendance.EXPECTED,
            video_link="https://meet.example.com/abc-defg",
            **options,
        )
        db.session.commit()
        return appointment

    return booked
