"""An on-site booking offers first the rooms its therapist has reserved at that time, then every
other room in use, by site (services.rooms.choices.booking_rooms), on every screen that books one.

Lima. Rosa holds Miraflores · Consultorio 2 on Mondays 09:00–12:00 from 1 September 2026; Jorge
holds Barranco · Sala A then. 5 October 2026 is a Monday. Surco is closed.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from admin_app.extensions import db
from admin_app.models import Appointment, Room
from admin_app.services.rooms.choices import RoomOption, booking_rooms
from tests.factories import make_client, make_reservation, make_site, make_therapist
from tests.forms import appointment_form
from tests.integration.test_series import series_form
from tests.pages import body, select_options

ROSAS = "Miraflores · Consultorio 2 · reserved by Rosa Mendoza, 09:00–12:00"
OTHERS = ["Barranco · Sala A", "Miraflores · Consultorio 1"]


@pytest.fixture
def rooms(app):
    make_site("Barranco", rooms=("Sala A",))
    miraflores = make_site("Miraflores", rooms=("Consultorio 1", "Consultorio 2"))
    surco = make_site("Surco", rooms=("Sala 1",))
    surco.active = False
    miraflores.rooms.append(Room(name="Consultorio 9", active=False))
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    room = {f"{r.site.name} · {r.name}": r for r in db.session.query(Room)}
    make_reservation(room["Miraflores · Consultorio 2"], rosa, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    make_reservation(room["Barranco · Sala A"], jorge, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.commit()
    return room, rosa, jorge, ana


def texts(options) -> list[str]:
    return [text for value, text in options if value not in ("", "__None")]


def test_the_therapists_reserved_room_comes_first_then_the_rooms_in_use_by_site(rooms):
    room, rosa, jorge, _ana = rooms
    monday = dt.datetime(2026, 10, 5, 10, 0), dt.datetime(2026, 10, 5, 10, 50)

    for_rosa = booking_rooms(db.session, therapist_id=rosa.id, start=monday[0], end=monday[1])
    for_jorge = booking_rooms(db.session, therapist_id=jorge.id, start=monday[0], end=monday[1])
    tuesday = booking_rooms(
        db.session, therapist_id=rosa.id, start=monday[0] + dt.timedelta(days=1), end=monday[1] + dt.timedelta(days=1)
    )

    assert for_rosa == [
        RoomOption(room["Miraflores · Consultorio 2"].id, ROSAS, True),
        RoomOption(room["Barranco · Sala A"].id, "Barranco · Sala A"),
        RoomOption(room["Miraflores · Consultorio 1"].id, "Miraflores · Consultorio 1"),
    ]
    assert [option.label for option in for_jorge] == [
        "Barranco · Sala A · reserved by Jorge Salas, 09:00–12:00",
        "Miraflores · Consultorio 1",
        "Miraflores · Consultorio 2",
    ]
    assert [option.label for option in tuesday] == [*OTHERS, "Miraflores · Consultorio 2"]  # no reservation then


def test_a_room_no_longer_in_use_is_offered_only_to_the_record_that_holds_it(rooms):
    room, rosa, _jorge, _ana = rooms
    closed = room["Miraflores · Consultorio 9"]

    assert closed.id not in [option.id for option in booking_rooms(db.session)]
    assert room["Surco · Sala 1"].id not in [option.id for option in booking_rooms(db.session)]
    assert [o.label for o in booking_rooms(db.session, selected=closed.id) if o.id == closed.id] == [
        "Miraflores · Consultorio 9"
    ]


def test_editing_an_appointment_lists_the_therapists_reserved_room_first(admin_client, rooms):
    room, rosa, _jorge, ana = rooms
    admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, ana, modality="on_site", room=str(room["Barranco · Sala A"].id)),
    )
    appointment = db.session.query(Appointment).one()

    page = admin_client.get(f"/admin/appointment/edit/?id={appointment.id}")

    options = select_options(page, "room")
    assert texts(options) == [ROSAS, *OTHERS]
    assert re.search(rf'<option selected value="{room["Barranco · Sala A"].id}">', body(page))  # still chosen


def test_a_refused_new_appointment_comes_back_with_the_reserved_room_first(admin_client, rooms):
    _room, rosa, _jorge, ana = rooms

    page = admin_client.post(
        "/admin/appointment/new/", data=appointment_form(rosa, ana, modality="on_site", room="__None")
    )

    assert "an on-site appointment needs a room" in page.get_data(as_text=True)
    assert texts(select_options(page, "room")) == [ROSAS, *OTHERS]


def test_a_new_series_comes_back_with_the_reserved_room_of_its_first_date_first(admin_client, rooms):
    _room, rosa, _jorge, ana = rooms

    page = admin_client.post(
        "/admin/series/",
        data=series_form(rosa, ana, first_start="2026-10-05 09:30", modality="on_site", room_id=""),
    )

    assert texts(select_options(page, "room_id")) == [ROSAS, *OTHERS]


def test_the_form_asks_for_the_rooms_as_the_therapist_and_time_change(admin_client, rooms):
    room, rosa, _jorge, _ana = rooms
    url = "/admin/room/for-booking/"

    reserved = admin_client.get(url, query_string={"therapist": rosa.id, "starts_at": "2026-10-05 11:30"}).json
    later = admin_client.get(
        url, query_string={"therapist": rosa.id, "starts_at": "2026-10-05 12:00", "duration_minutes": "50"}
    ).json
    nonsense = admin_client.get(url, query_string={"therapist": "x", "starts_at": "soon", "ends_at": "9999"})

    assert reserved["rooms"][0] == {"id": room["Miraflores · Consultorio 2"].id, "text": ROSAS, "reserved": True}
    assert [r["text"] for r in later["rooms"]] == [*OTHERS, "Miraflores · Consultorio 2"]  # 12:00: ended
    assert nonsense.status_code == 200
    assert [r["text"] for r in nonsense.json["rooms"]] == [*OTHERS, "Miraflores · Consultorio 2"]


def test_only_the_staff_may_ask_for_the_rooms(therapist_client, rooms):
    response = therapist_client.get("/admin/room/for-booking/")

    assert response.status_code in (302, 403)


def test_times_no_appointment_has_list_the_rooms_and_never_fail(admin_client, rooms):
    _room, rosa, _jorge, ana = rooms
    plain = [*OTHERS, "Miraflores · Consultorio 2"]

    asked = admin_client.get(
        "/admin/room/for-booking/",
        query_string={"therapist": rosa.id, "starts_at": "9999-12-31 23:30", "duration_minutes": "99999999999"},
    )
    huge = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, ana, modality="on_site", ends_at="", duration_minutes="1000000000000"),
    )
    late = admin_client.post(
        "/admin/series/", data=series_form(rosa, ana, first_start="9999-12-31 23:30", modality="on_site")
    )

    assert asked.status_code == 200 and [r["text"] for r in asked.json["rooms"]] == plain
    assert huge.status_code == 200 and texts(select_options(huge, "room")) == plain
    assert late.status_code == 200 and texts(select_options(late, "room_id")) == plain
