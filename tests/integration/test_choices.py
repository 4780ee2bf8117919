"""The therapists and rooms a dropdown offers: a form that writes a record offers the active ones
plus the one already chosen; a filter over history offers them all."""

from __future__ import annotations

import re

from admin_app.extensions import db
from admin_app.models import Room
from admin_app.services.people.choices import therapist_choices, therapist_filter_choices
from admin_app.services.rooms.choices import room_choices, site_filter_choices
from tests.factories import make_site, make_therapist, make_therapist_user
from tests.pages import body


def options(page: str, name: str) -> list[str]:
    """The labels of a select's options, in page order."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def therapists():
    rosa = make_therapist(full_name="Rosa Mendoza")
    left = make_therapist(full_name="Luis Salas", active=False)
    ana = make_therapist(full_name="Ana Torres")
    return rosa, left, ana


def test_a_new_record_offers_the_active_therapists_by_name(app):
    rosa, _left, ana = therapists()

    assert therapist_choices(db.session) == [(ana.id, "Ana Torres"), (rosa.id, "Rosa Mendoza")]


def test_the_therapist_already_chosen_stays_offered_after_leaving(app):
    rosa, left, ana = therapists()

    expected = [(ana.id, "Ana Torres"), (left.id, "Luis Salas"), (rosa.id, "Rosa Mendoza")]
    assert therapist_choices(db.session, selected=left.id) == expected
    assert therapist_choices(db.session, selected=str(left.id)) == expected  # as a form sends it


def test_a_chosen_value_that_is_no_id_changes_nothing(app):
    rosa, _left, ana = therapists()

    for typed in ("", "abc", "-3", "99999999999999999999", None):
        assert therapist_choices(db.session, selected=typed) == [(ana.id, "Ana Torres"), (rosa.id, "Rosa Mendoza")]


def test_a_new_login_offers_the_active_therapists_without_one(app):
    rosa, left, ana = therapists()
    make_therapist_user(rosa)

    assert therapist_choices(db.session, without_login=True) == [(ana.id, "Ana Torres")]
    assert therapist_choices(db.session, selected=left.id, without_login=True) == [
        (ana.id, "Ana Torres"),
        (left.id, "Luis Salas"),
    ]


def test_a_filter_over_history_offers_every_therapist(app):
    rosa, left, ana = therapists()

    assert therapist_filter_choices(db.session) == [
        (ana.id, "Ana Torres"),
        (left.id, "Luis Salas"),
        (rosa.id, "Rosa Mendoza"),
    ]


def test_rooms_offer_the_active_ones_with_their_site_plus_the_one_chosen(app):
    miraflores = make_site("Miraflores", rooms=("Sala 2", "Sala 1"))
    closed = Room(name="Sala 3", active=False)
    miraflores.rooms.append(closed)
    make_site("Barranco", rooms=("Azul",))
    db.session.flush()
    room = {r.name: r.id for r in db.session.query(Room)}

    assert room_choices(db.session) == [
        (room["Azul"], "Barranco · Azul"),
        (room["Sala 1"], "Miraflores · Sala 1"),
        (room["Sala 2"], "Miraflores · Sala 2"),
    ]
    assert (closed.id, "Miraflores · Sala 3") in room_choices(db.session, selected=str(closed.id))
    assert room_choices(db.session, selected="x") == room_choices(db.session)


def test_a_site_filter_offers_every_site_by_name(app):
    miraflores = make_site("Miraflores")
    barranco = make_site("Barranco")
    barranco.active = False

    assert site_filter_choices(db.session) == [(barranco.id, "Barranco"), (miraflores.id, "Miraflores")]


def test_the_screens_use_the_rule(admin_client):
    therapists()
    db.session.commit()

    book = body(admin_client.get("/admin/book/"))
    series = body(admin_client.get("/admin/series/"))
    new_login = body(admin_client.get("/admin/user/new/"))

    assert options(book, "therapist") == ["All", "Ana Torres", "Luis Salas", "Rosa Mendoza"]
    assert options(series, "therapist_id") == ["—", "Ana Torres", "Rosa Mendoza"]
    assert options(new_login, "therapist") == ["—", "Ana Torres", "Rosa Mendoza"]
