"""A room is looked up by typing part of its name or of its site's: "Broadway" finds Broadway's
rooms, on the reservation form's room lookup and in the rooms list's search."""

from __future__ import annotations

import pytest

from admin_app.extensions import db
from admin_app.models import Room
from tests.factories import make_site
from tests.pages import list_rows


@pytest.fixture
def rooms(app):
    make_site("Broadway", rooms=("Room 1", "Room 2"))
    make_site("Kitsilano", rooms=("Broad Room",))
    closed = make_site("Burnaby", rooms=("Room 1",))
    closed.active = False
    make_site("Downtown", rooms=("Room 2",)).rooms[0].active = False
    db.session.commit()
    return {f"{room.site.name} · {room.name}": room.id for room in db.session.query(Room)}


def lookup(client, query: str) -> list[str]:
    found = client.post("/admin/room_reservation/ajax/lookup/?name=room", data={"query": query})
    assert found.status_code == 200
    return [label for _id, label in found.get_json()]


def test_typing_a_sites_name_finds_its_rooms_in_use(admin_client, rooms):
    assert lookup(admin_client, "Broadway") == ["Broadway · Room 1", "Broadway · Room 2"]
    assert lookup(admin_client, "broad") == ["Broadway · Room 1", "Broadway · Room 2", "Kitsilano · Broad Room"]
    assert lookup(admin_client, "broadway 2") == ["Broadway · Room 2"]  # every word, in the site or the room
    assert lookup(admin_client, "Room 2") == ["Broadway · Room 2"]  # Downtown's is not in use
    assert lookup(admin_client, "Burnaby") == []  # a closed site
    assert lookup(admin_client, "%") == []


def test_the_rooms_list_searches_the_site_name_too(admin_client, rooms):
    found = admin_client.get("/admin/room/", query_string={"search": "Broadway"})

    assert sorted((row["site"], row["name"]) for row in list_rows(found)) == [
        ("Broadway", "Room 1"),
        ("Broadway", "Room 2"),
    ]
