"""Room reservations: the overlap rule, the office's release, and the staff screen."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from admin_app.extensions import db
from admin_app.models import AuditEvent, Notification, Room, RoomReservation, Therapist
from admin_app.services.messaging import notifications
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.rooms import reservations
from admin_app.services.rooms.reservations import prepare_reservation, release, weekday_name
from tests.factories import make_reservation, make_site, make_therapist
from tests.factories.accounts import make_therapist_user
from tests.pages import body, csv_rows, field_errors, flashed, list_rows
from tests.queries import counted_queries

SEPT_1 = dt.date(2026, 9, 1)  # a Tuesday
MONDAY = 1


@pytest.fixture
def room_and_jorge(app):
    room = make_site("Downtown", rooms=("Room 1",)).rooms[0]
    jorge = make_therapist(full_name="Jorge Salas")
    make_reservation(room, jorge, MONDAY, ("09:00", "12:00"), SEPT_1)
    db.session.commit()
    return room, jorge


def new(room, weekday, hours, valid_from, valid_until=None, therapist=None) -> RoomReservation:
    return RoomReservation(
        room=room,
        therapist=therapist or make_therapist(full_name="Ana Pérez"),
        weekday=weekday,
        starts_time=dt.time.fromisoformat(hours[0]),
        ends_time=dt.time.fromisoformat(hours[1]),
        valid_from=valid_from,
        valid_until=valid_until,
    )


def refusal(reservation) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        prepare_reservation(db.session, reservation)
    return refused.value


def test_an_overlap_in_the_same_room_is_refused_naming_the_other_therapist(room_and_jorge):
    room, _jorge = room_and_jorge
    error = refusal(new(room, MONDAY, ("11:00", "13:00"), dt.date(2026, 10, 1), dt.date(2026, 12, 31)))
    assert str(error) == "Room Downtown · Room 1 is reserved by Jorge Salas every Monday 09:00–12:00 from 2026-09-01."
    assert error.field == "starts_time"


def test_back_to_back_and_another_weekday_are_allowed(room_and_jorge):
    room, _jorge = room_and_jorge
    prepare_reservation(db.session, new(room, MONDAY, ("12:00", "14:00"), SEPT_1))
    prepare_reservation(db.session, new(room, MONDAY, ("07:00", "09:00"), SEPT_1))
    prepare_reservation(db.session, new(room, 2, ("09:00", "12:00"), SEPT_1))


def test_an_open_ended_reservation_overlaps_a_later_dated_one(app):
    room = make_site("Downtown").rooms[0]
    jorge = make_therapist(full_name="Jorge Salas")
    make_reservation(room, jorge, 3, ("09:00", "10:00"), dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    error = refusal(new(room, 3, ("09:30", "10:30"), SEPT_1))
    assert "Jorge Salas" in str(error)
    assert "from 2027-01-01 to 2027-03-31" in str(error)
    # Before it: fine.
    prepare_reservation(db.session, new(room, 3, ("09:30", "10:30"), SEPT_1, dt.date(2026, 12, 31)))


def test_rules_name_the_field(room_and_jorge):
    room, _jorge = room_and_jorge
    assert refusal(new(room, 2, ("10:00", "10:00"), SEPT_1)).field == "ends_time"
    assert refusal(new(room, 2, ("10:00", "11:00"), SEPT_1, dt.date(2026, 8, 1))).field == "valid_until"
    assert refusal(new(room, 8, ("10:00", "11:00"), SEPT_1)).field == "weekday"
    # One date: its weekday must be that date's (2026-09-01 is a Tuesday).
    assert refusal(new(room, MONDAY, ("13:00", "14:00"), SEPT_1, SEPT_1)).field == "weekday"
    prepare_reservation(db.session, new(room, 2, ("13:00", "14:00"), SEPT_1, SEPT_1))
    room.active = False
    assert refusal(new(room, 2, ("10:00", "11:00"), SEPT_1)).field == "room"
    room.active = True
    assert refusal(new(room, 2, ("10:00", "11:00"), SEPT_1, therapist=make_therapist(active=False))).field == (
        "therapist"
    )


@pytest.mark.parametrize("clock", ["2026-11-20T15:00Z"], indirect=True)
def test_release_ends_and_shortens_and_tells_the_therapist(room_and_jorge, admin_user):
    """Jorge's Mondays 09:00-12:00 from 1 September, on Friday 20 November: shortened to 10:00-12:00
    from today, the Mondays until the 16th keep 09:00-12:00 (what was reported stays true) and a new
    reservation holds 10:00-12:00 from the 20th; then that one ends on 30 November."""
    _room, jorge = room_and_jorge
    login = make_therapist_user(jorge)
    reservation = db.session.scalars(select(RoomReservation)).one()

    kept = release(db.session, reservation.id, starts_time=dt.time(10), user=admin_user)
    ended = release(db.session, kept.id, ends_on=dt.date(2026, 11, 30), user=admin_user)
    db.session.commit()

    assert ended is kept and kept.id != reservation.id
    shown = [
        (r.weekday, r.starts_time, r.ends_time, r.valid_from, r.valid_until)
        for r in db.session.scalars(select(RoomReservation).order_by(RoomReservation.valid_from))
    ]
    assert shown == [
        (MONDAY, dt.time(9), dt.time(12), SEPT_1, dt.date(2026, 11, 19)),
        (MONDAY, dt.time(10), dt.time(12), dt.date(2026, 11, 20), dt.date(2026, 11, 30)),
    ]
    notes = db.session.scalars(select(Notification).where(Notification.user_id == login.id)).all()
    assert [n.kind for n in notes] == [notifications.RESERVATION_RELEASED] * 2
    assert [n.params for n in notes] == [{"reservation_id": kept.id}] * 2
    changes = db.session.execute(
        select(AuditEvent.action, AuditEvent.entity_id)
        .where(AuditEvent.entity == "room_reservation")
        .order_by(AuditEvent.id)
    ).all()
    # One flush writes the split (its rows' order is the flush's), the next the end.
    assert sorted((int(entity_id), action.value) for action, entity_id in changes[-3:]) == [
        (reservation.id, "update"),
        (kept.id, "create"),
        (kept.id, "update"),
    ]


@pytest.mark.parametrize("clock", ["2026-11-20T15:00Z"], indirect=True)
def test_new_hours_from_a_later_day_or_from_its_first_day(room_and_jorge, admin_user):
    """From a chosen day: the reservation is split there. From before its first day: nothing of it
    has happened yet with the old hours, so it changes in place."""
    reservation = db.session.scalars(select(RoomReservation)).one()

    later = release(db.session, reservation.id, ends_time=dt.time(11), hours_from=dt.date(2026, 12, 7), user=admin_user)
    db.session.commit()
    in_place = release(db.session, later.id, starts_time=dt.time(10), hours_from=dt.date(2026, 12, 1), user=admin_user)
    db.session.commit()

    assert in_place is later
    assert (reservation.valid_until, later.valid_from, later.starts_time, later.ends_time) == (
        dt.date(2026, 12, 6),
        dt.date(2026, 12, 7),
        dt.time(10),
        dt.time(11),
    )


def test_release_refusals(room_and_jorge, admin_user):
    reservation = db.session.scalars(select(RoomReservation)).one()
    with pytest.raises(RuleViolation) as before:
        release(db.session, reservation.id, ends_on=dt.date(2026, 8, 31), user=admin_user)
    assert before.value.field == "valid_until"
    with pytest.raises(RuleViolation) as wider:
        release(db.session, reservation.id, ends_time=dt.time(13), user=admin_user)
    assert wider.value.field == "starts_time"
    with pytest.raises(RuleViolation) as unchanged:
        release(db.session, reservation.id, starts_time=dt.time(9), user=admin_user)
    assert unchanged.value.field == "valid_until"
    release(db.session, reservation.id, ends_on=dt.date(2026, 11, 30), user=admin_user)
    with pytest.raises(RuleViolation) as too_late:
        release(db.session, reservation.id, starts_time=dt.time(10), hours_from=dt.date(2026, 12, 7), user=admin_user)
    assert str(too_late.value) == "New hours from: the new hours start after the reservation's last day (2026-11-30)."
    db.session.rollback()
    assert db.session.get(RoomReservation, reservation.id).valid_until is None


# --- the staff screen ---------------------------------------------------------------------------


def reservation_form(room, therapist, **fields) -> dict[str, str]:
    return {
        "room": str(room.id),
        "therapist": str(therapist.id),
        "weekday": "1",
        "starts_time": "11:00",
        "ends_time": "13:00",
        "valid_from": "2026-10-01",
        "valid_until": "",
        "notes": "",
        **fields,
    }


def test_the_screen_lists_reservations_with_day_names(room_and_jorge, admin_client):
    response = admin_client.get("/admin/room_reservation/")
    assert response.status_code == 200
    assert list_rows(response) == [
        {
            "room": "Downtown · Room 1",
            "therapist": "Jorge Salas",
            "weekday": "Monday",
            "hours": "09:00–12:00",
            "valid_from": "Sep 1, 2026",
            "valid_until": "",
        }
    ]
    exported = csv_rows(admin_client.get("/admin/room_reservation/export/csv/"))
    assert [(row["Day of the week"], row["Hours"]) for row in exported] == [("Monday", "09:00–12:00")]


def test_the_list_reads_in_the_same_number_of_statements_for_2_and_for_many(app, admin_client):
    room = make_site("Downtown", rooms=("Room 1",)).rooms[0]

    def reserve(count: int) -> None:
        for weekday in range(1, count + 1):
            make_reservation(
                room, make_therapist(), (weekday - 1) % 7 + 1, ("08:00", "09:00"), SEPT_1.replace(year=2026 + weekday)
            )
        db.session.commit()

    def statements() -> int:
        with counted_queries() as sent:
            assert admin_client.get("/admin/room_reservation/").status_code == 200
        return len(sent)

    reserve(2)
    few = statements()
    reserve(12)
    assert statements() == few


def test_the_screen_creates_one_and_shows_an_overlap_under_the_field(room_and_jorge, admin_client):
    room, jorge = room_and_jorge
    ana = make_therapist(full_name="Ana Pérez")
    db.session.commit()
    form_page = body(admin_client.get("/admin/room_reservation/new/"))
    assert '<option value="3">Wednesday</option>' in form_page
    refused = admin_client.post("/admin/room_reservation/new/", data=reservation_form(room, ana))
    assert refused.status_code == 200
    assert field_errors(refused)["starts_time"] == [
        "Room Downtown · Room 1 is reserved by Jorge Salas every Monday 09:00–12:00 from 2026-09-01."
    ]
    saved = admin_client.post(
        "/admin/room_reservation/new/", data=reservation_form(room, ana, starts_time="12:00"), follow_redirects=True
    )
    assert saved.status_code == 200
    assert db.session.scalars(select(func.count()).select_from(RoomReservation)).one() == 2


def test_the_release_form_ends_a_reservation_or_shows_the_refusal(room_and_jorge, admin_client):
    reservation = db.session.scalars(select(RoomReservation)).one()
    details = admin_client.get(f"/admin/room_reservation/details/?id={reservation.id}")
    assert "/admin/room_reservation/release/?id=" in body(details)
    url = f"/admin/room_reservation/release/?id={reservation.id}"
    refused = admin_client.post(url, data={"ends_on": "2026-08-01", "starts_time": "", "ends_time": ""})
    assert refused.status_code == 200
    assert "Valid until: not before the reservation's first day (2026-09-01)." in flashed(refused)
    done = admin_client.post(
        url, data={"ends_on": "2026-10-31", "starts_time": "", "ends_time": ""}, follow_redirects=True
    )
    assert "Reservation released; the therapist is notified." in flashed(done)
    db.session.expire_all()
    assert db.session.get(RoomReservation, reservation.id).valid_until == dt.date(2026, 10, 31)


def test_day_names_read_in_the_readers_language(app):
    with force_locale("es"):
        assert weekday_name(3) == "miércoles"
    with force_locale("fr"):
        assert weekday_name(3) == "mercredi"


def test_the_site_filter_keeps_that_sites_reservations(room_and_jorge, admin_client):
    other = make_site("Uptown", rooms=("Room 9",))
    make_reservation(other.rooms[0], make_therapist(full_name="Ana Pérez"), 1, ("09:00", "12:00"), SEPT_1)
    db.session.commit()
    listed = list_rows(admin_client.get(f"/admin/room_reservation/?flt0_0={other.id}"))
    assert [row["room"] for row in listed] == ["Uptown · Room 9"]


# --- two overlapping reservations saved at the same moment ------------------------------------


def _reserve_in_own_connection(app, engine, *, room_id: int, therapist_id: int, start: threading.Barrier) -> str:
    """One request: its own connection and transaction, through the rule, then commit."""
    with app.app_context(), Session(engine) as session:
        room, therapist = session.get(Room, room_id), session.get(Therapist, therapist_id)
        start.wait()
        reservation = new(room, MONDAY, ("09:00", "12:00"), SEPT_1, therapist=therapist)
        try:
            prepare_reservation(session, reservation)
            session.add(reservation)
            session.commit()
        except RuleViolation as refusal:
            session.rollback()
            return str(refusal)
        return "reserved"


def test_two_overlapping_reservations_saved_at_once_make_exactly_one(app, monkeypatch):
    """Each save, once it has looked, waits (up to half a second) for the other to look too:
    without the per-room lock both would find the room free and both be written."""
    room = make_site("Downtown").rooms[0]
    ana, jorge = make_therapist(full_name="Ana Pérez"), make_therapist(full_name="Jorge Salas")
    db.session.commit()
    real = reservations._overlapping
    both_looked = threading.Barrier(2)

    def look_then_wait(*args, **kwargs):
        found = real(*args, **kwargs)
        with suppress(threading.BrokenBarrierError):
            both_looked.wait(timeout=0.5)
        return found

    monkeypatch.setattr(reservations, "_overlapping", look_then_wait)
    engine = sa.create_engine(db.engine.url, poolclass=NullPool)
    try:
        start = threading.Barrier(2, timeout=30)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(_reserve_in_own_connection, app, engine, room_id=room.id, therapist_id=t.id, start=start)
                for t in (ana, jorge)
            ]
            outcomes = sorted(future.result(timeout=60) for future in futures)
    finally:
        engine.dispose()
    assert outcomes[1] == "reserved"
    assert outcomes[0].startswith("Room Downtown · Room 1 is reserved by ")
    assert db.session.scalar(select(func.count()).select_from(RoomReservation)) == 1
