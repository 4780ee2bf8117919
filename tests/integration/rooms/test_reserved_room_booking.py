"""Booking a room another therapist has reserved then: saved, with a warning naming the reservation.

Lima. Jorge holds Consultorio 1 on Mondays 09:00–12:00 from 1 September 2026; 5 October 2026 is a Monday.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Appointment
from tests.factories import make_client, make_reservation, make_site, make_therapist
from tests.forms import appointment_form
from tests.pages import flashed

WARNING = (
    "Room Sede Miraflores · Consultorio 1 is reserved by Jorge Salas on Monday from 09:00 to 12:00: "
    "the appointment of 2026-10-05 {time} is saved; agree on the room with them."
)


@pytest.fixture
def rooms(app):
    room = make_site("Sede Miraflores", rooms=("Consultorio 1",)).rooms[0]
    jorge = make_therapist(full_name="Jorge Salas")
    rosa = make_therapist(full_name="Rosa Mendoza")
    make_reservation(room, jorge, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.commit()
    return room, jorge, rosa, ana


def on_site(room, **times) -> dict[str, str]:
    return {"modality": "on_site", "room": str(room.id), **times}


@pytest.mark.parametrize(
    ("start", "end", "warned"),
    [
        ("2026-10-05 11:30", "2026-10-05 12:20", True),  # partly inside
        ("2026-10-05 12:00", "2026-10-05 12:50", False),  # back to back
        ("2026-10-06 10:00", "2026-10-06 10:50", False),  # a Tuesday
        ("2026-08-31 10:00", "2026-08-31 10:50", False),  # a Monday before the reservation begins
    ],
)
def test_a_room_reserved_by_someone_else_warns_and_saves(admin_client, rooms, start, end, warned):
    room, _jorge, rosa, ana = rooms

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, ana, **on_site(room, starts_at=start, ends_at=end)),
        follow_redirects=True,
    )

    expected = WARNING.format(time=start[-5:])
    assert (expected in flashed(response)) is warned, flashed(response)
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


def test_the_holder_booking_their_own_reserved_room_is_not_warned(admin_client, rooms):
    room, jorge, _rosa, ana = rooms

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(jorge, ana, **on_site(room, starts_at="2026-10-05 09:00", ends_at="2026-10-05 09:50")),
        follow_redirects=True,
    )

    assert not [text for text in flashed(response) if "is reserved by" in text]
    assert db.session.scalar(select(func.count(Appointment.id))) == 1
