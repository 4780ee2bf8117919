"""The practice the room use tests share: two sites, two therapists, their reservations and on-site
sessions around the autumn clock change in Vancouver; test_room_use.py's docstring works out its
figures by hand."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from admin_app.extensions import db
from admin_app.models import AppointmentStatus, Attendance, Modality
from tests.factories import book, make_client, make_reservation, make_site, make_therapist


@pytest.fixture
def vancouver(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/Vancouver")
    return app


@pytest.fixture
def practice(vancouver):
    broadway = make_site("Broadway", rooms=("A", "B"))
    kits = make_site("Kitsilano", rooms=("1",))
    room_a, room_b = broadway.rooms
    ana = make_therapist(full_name="Ana Ruiz", email="ana@example.com")
    ben = make_therapist(full_name="Ben Cho", email="ben@example.com")
    carla, dan = make_client(full_name="Carla Soto"), make_client(full_name="Dan Lee")
    make_reservation(room_a, ana, 7, ("09:00", "12:00"), dt.date(2026, 10, 18))
    make_reservation(room_b, ana, 1, ("14:00", "17:00"), dt.date(2026, 11, 1), dt.date(2026, 11, 16))
    make_reservation(room_a, ben, 1, ("09:00", "12:00"), dt.date(2026, 10, 1))

    def session(therapist, client, day, start, minutes, room, **fields):
        hour, minute = map(int, start.split(":"))
        return book(therapist, [client], dt.datetime(2026, *day, hour, minute), minutes=minutes, room=room, **fields)

    session(ana, carla, (10, 25), "11:00", 60, room_a)
    session(ana, carla, (11, 1), "11:00", 60, room_a)
    session(ana, carla, (11, 8), "11:30", 60, room_a)
    session(ana, carla, (11, 15), "09:00", 60, room_a, attendance=Attendance.NO_SHOW)
    session(
        ana, carla, (11, 22), "09:00", 60, room_a, attendance=Attendance.EXPECTED, status=AppointmentStatus.CANCELLED
    )
    session(ana, carla, (11, 29), "10:00", 60, room_a, attendance=Attendance.EXPECTED)
    session(ana, carla, (11, 9), "14:00", 120, room_b)
    session(ana, carla, (11, 23), "14:00", 60, room_b)
    session(ben, dan, (11, 2), "09:00", 120, room_a)
    session(ben, dan, (11, 30), "09:00", 180, room_a)
    session(ben, dan, (11, 29), "13:00", 60, room_a)
    session(ben, dan, (11, 4), "10:00", 60, kits.rooms[0])
    session(ben, dan, (11, 3), "10:00", 60, None, modality=Modality.VIRTUAL)
    db.session.commit()
    return SimpleNamespace(ana=ana, ben=ben, room_a=room_a, room_b=room_b, kits=kits)
