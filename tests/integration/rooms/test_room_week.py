"""A room's week (Set-up → Rooms → Week): each day's reservations and the appointments held in the room,
each marked with whose reservation it falls in. Lima; the week of Monday 5 October 2026."""

from __future__ import annotations

import datetime as dt
import re

from admin_app.extensions import db
from admin_app.models import AppointmentStatus, Attendance
from tests.factories import book, make_client, make_reservation, make_site, make_therapist
from tests.pages import body, flashed, text_of
from tests.queries import counted_queries


def day_texts(response) -> dict[str, str]:
    sections = re.findall(r'<section class="[^"]*room-day" data-day="([^"]+)">(.*?)</section>', body(response), re.S)
    return {day: text_of(html) for day, html in sections}


def test_the_week_shows_reservations_and_whose_each_appointment_falls_in(admin_client):
    room = make_site("Sede Miraflores", rooms=("Consultorio 1",)).rooms[0]
    jorge, rosa = make_therapist(full_name="Jorge Salas"), make_therapist(full_name="Rosa Mendoza")
    ana = make_client(full_name="Ana Quispe")
    make_reservation(room, jorge, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    make_reservation(room, rosa, 3, ("15:00", "17:00"), dt.date(2026, 10, 1), dt.date(2026, 10, 6))  # over by Wed
    book(jorge, [ana], dt.datetime(2026, 10, 5, 10, 0), room=room)
    book(rosa, [ana], dt.datetime(2026, 10, 6, 10, 0), room=room)
    book(
        rosa,
        [ana],
        dt.datetime(2026, 10, 8, 10, 0),
        room=room,
        status=AppointmentStatus.CANCELLED,
        attendance=Attendance.CANCELLED,
    )
    db.session.commit()

    with counted_queries() as queries:
        response = admin_client.get(f"/admin/room/week/?id={room.id}&date=2026-10-07")

    days = day_texts(response)
    assert list(days) == [f"2026-10-{day:02d}" for day in range(5, 12)]
    assert days["2026-10-05"] == (
        "Mon 5 Oct 2026 09:00–12:00 · Reserved by Jorge Salas "
        "10:00–10:50 · Jorge Salas Held In the reservation of Jorge Salas"
    )
    assert days["2026-10-06"] == "Tue 6 Oct 2026 10:00–10:50 · Rosa Mendoza Held Outside any reservation"
    assert days["2026-10-07"] == "Wed 7 Oct 2026 Free all day"  # Rosa's Wednesdays ended on the 6th
    assert days["2026-10-08"] == "Thu 8 Oct 2026 Free all day"  # a cancelled appointment holds nothing
    assert len(queries) <= 8, queries


def test_a_week_of_no_room_is_not_found_and_a_bad_date_says_so(admin_client):
    room = make_site("Sede Miraflores", rooms=("Consultorio 1",)).rooms[0]
    db.session.commit()

    assert admin_client.get("/admin/room/week/?id=999999").status_code == 404
    assert admin_client.get("/admin/room/week/").headers["Location"].endswith("/admin/room/")
    response = admin_client.get(f"/admin/room/week/?id={room.id}&date=2026-13-40")
    assert response.status_code == 200
    assert flashed(response) == ["Date: expected a date as YYYY-MM-DD, got 2026-13-40"]
