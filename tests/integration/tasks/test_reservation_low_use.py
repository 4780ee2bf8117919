"""The admin task "release part of this reservation?" (issue 19): the scan opens one for each
reservation in force used under ROOM_USE_LOW_PERCENT (40) over the last 8 weeks, brings its figures up
to date, and closes it once the reservation is released or ends; its link opens the Release form,
which comes back to the task list.

Vancouver; today is Saturday 5 December 2026 (12:00 local). The 8 weeks judged are 10 October to
4 December: 8 Mondays (12, 19, 26 October; 2, 9, 16, 23, 30 November). Ana Ruiz holds Broadway's
room A and Ben Cho room B, each Monday 09:00-12:00 (8 x 3 = 24 h); Ana saw a client there 1 Monday
of 8 (3 h: 12.5 %), Ben 6 of 8 (18 h: 75 %).
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AdminTask, RoomReservation, TaskKind, TaskStatus
from admin_app.services.rooms.reservations import release
from admin_app.services.tasks import work
from admin_app.services.tasks.scan import ScanResult, scan
from tests.factories import book, make_client, make_reservation, make_site, make_therapist
from tests.pages import body, flashed, table_rows
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T20:00Z"], indirect=True)
MONDAYS = [dt.date(2026, 10, day) for day in (12, 19, 26)] + [dt.date(2026, 11, day) for day in (2, 9, 16, 23, 30)]
TASKS = "/admin/tasks/"
ANA_TEXT = (
    "Release part of this reservation? Ana Ruiz used A at Broadway (every Monday 09:00–12:00) 12.5% of the "
    "reserved time over the last 8 weeks (3.00 of 24.00 h)"
)


@pytest.fixture
def practice(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/Vancouver")
    monkeypatch.setitem(app.config, "ROOM_USE_LOW_PERCENT", 40)
    broadway = make_site("Broadway", rooms=("A", "B"))
    room_a, room_b = broadway.rooms
    ana = make_therapist(full_name="Ana Ruiz", email="ana@example.com")
    ben = make_therapist(full_name="Ben Cho", email="ben@example.com")
    carla, dan = make_client(full_name="Carla Soto"), make_client(full_name="Dan Lee")
    anas = make_reservation(room_a, ana, 1, ("09:00", "12:00"), dt.date(2026, 10, 1))
    bens = make_reservation(room_b, ben, 1, ("09:00", "12:00"), dt.date(2026, 10, 1))
    # Just made, for today only: nothing of it is judged yet (and it has ended by the later scans).
    make_reservation(room_b, ana, 6, ("09:00", "12:00"), dt.date(2026, 12, 5), dt.date(2026, 12, 5))

    def monday(therapist, client, day, room) -> None:
        book(therapist, [client], dt.datetime.combine(day, dt.time(9)), minutes=180, room=room)

    monday(ana, carla, MONDAYS[3], room_a)
    for day in MONDAYS[:6]:
        monday(ben, dan, day, room_b)
    db.session.commit()
    return SimpleNamespace(ana=ana, ben=ben, anas=anas, bens=bens, room_a=room_a, carla=carla)


def run_scan() -> ScanResult:
    result = scan(db.session)
    db.session.commit()
    return result


def low_use_tasks(reservation: RoomReservation | None = None) -> list[AdminTask]:
    """The tasks of this kind (about one reservation, when given), oldest first."""
    db.session.expire_all()
    query = select(AdminTask).where(AdminTask.kind == TaskKind.RESERVATION_LOW_USE).order_by(AdminTask.id)
    if reservation is not None:
        query = query.where(AdminTask.subject == str(reservation.id))
    return list(db.session.scalars(query))


def snapshot(reservation: RoomReservation | None = None) -> list[tuple]:
    return [
        (task.id, task.subject, task.status, task.params, task.therapist_id, task.cause_gone_at)
        for task in low_use_tasks(reservation)
    ]


def test_the_scan_opens_a_task_for_the_reservation_used_1_monday_of_8_only(practice):
    assert run_scan().opened == 1

    [task] = low_use_tasks()
    assert (task.subject, task.status, task.therapist_id, task.client_id) == (
        str(practice.anas.id),
        TaskStatus.OPEN,
        practice.ana.id,
        None,
    )
    assert task.params == {
        "reservation": practice.anas.id,
        "use": "0.125",
        "reserved_hours": "24.00",
        "used_hours": "3.00",
        "first_day": "2026-10-10",
        "last_day": "2026-12-04",
    }
    before = snapshot()
    assert run_scan() == ScanResult(opened=0, closed=0)
    assert snapshot() == before


def test_its_figures_follow_the_weeks_and_it_closes_when_no_longer_low(practice, clock):
    run_scan()
    # Monday 7 December: Ana sees a client for 3 h; the weeks judged are now 20 October to 14 December.
    book(practice.ana, [practice.carla], dt.datetime(2026, 12, 7, 9), minutes=180, room=practice.room_a)
    db.session.commit()
    clock.set("2026-12-15T20:00Z")

    assert run_scan() == ScanResult(opened=0, closed=0)
    [task] = low_use_tasks()
    assert task.status == TaskStatus.OPEN
    assert (task.params["use"], task.params["used_hours"], task.params["reserved_hours"]) == ("0.250", "6.00", "24.00")
    assert (task.params["first_day"], task.params["last_day"]) == ("2026-10-20", "2026-12-14")

    # Two more Mondays used: 12 of 24 h, 50 %, not low any more.
    for day in (dt.date(2026, 11, 9), dt.date(2026, 11, 16)):
        book(practice.ana, [practice.carla], dt.datetime.combine(day, dt.time(9)), minutes=180, room=practice.room_a)
    db.session.commit()
    assert run_scan() == ScanResult(opened=0, closed=1)
    [task] = low_use_tasks()
    assert task.status == TaskStatus.CLOSED


def test_released_it_closes_and_the_next_scan_changes_nothing(practice, admin_user):
    run_scan()

    release(db.session, practice.anas.id, ends_on=dt.date(2026, 12, 4), user=admin_user)
    db.session.commit()
    [task] = low_use_tasks()
    assert task.status == TaskStatus.CLOSED

    before = snapshot()
    assert run_scan() == ScanResult(opened=0, closed=0)
    assert snapshot() == before


def test_released_but_still_in_force_it_is_not_asked_again_until_8_weeks_follow_the_release(
    practice, admin_user, clock
):
    """Half given back: its last day is in February. Still low on the weeks before the release, it
    gets no new task; 8 weeks after the release it is judged again, on those weeks alone. (Ben's,
    unused since 16 November, becomes low meanwhile: only Ana's is looked at.)"""
    anas = practice.anas
    run_scan()
    release(db.session, anas.id, ends_on=dt.date(2027, 2, 22), user=admin_user)
    db.session.commit()
    assert db.session.get(RoomReservation, anas.id).released_on == dt.date(2026, 12, 5)

    before = snapshot(anas)
    assert run_scan() == ScanResult(opened=0, closed=0)
    clock.set("2027-01-30T20:00Z")  # the weeks judged start on 5 December, the day of the release
    run_scan()
    assert snapshot(anas) == before

    clock.set("2027-01-31T20:00Z")  # 6 December to 30 January: 8 Mondays, none used
    run_scan()
    closed, reopened = low_use_tasks(anas)
    assert (closed.status, reopened.status, reopened.params["use"]) == (TaskStatus.CLOSED, TaskStatus.OPEN, "0.000")


def test_an_ended_reservation_closes_its_task(practice, clock):
    run_scan()
    practice.anas.valid_until = dt.date(2026, 12, 7)
    db.session.commit()
    clock.set("2026-12-08T20:00Z")

    assert run_scan() == ScanResult(opened=0, closed=1)


def test_the_text_in_the_readers_language_names_looked_up_in_one_query(practice, app):
    run_scan()
    make_reservation(practice.room_a, practice.ben, 3, ("13:00", "15:00"), dt.date(2026, 10, 1))  # never used
    db.session.commit()
    run_scan()

    with counted_queries() as sent:
        rows = work.task_rows(db.session)
    assert len(sent) == 1
    assert [row.description for row in rows] == [
        ANA_TEXT,
        "Release part of this reservation? Ben Cho used A at Broadway (every Wednesday 13:00–15:00) 0% of the "
        "reserved time over the last 8 weeks (0.00 of 16.00 h)",
    ]
    with force_locale("fr"):
        assert rows[0].description == (
            "Libérer une partie de cette réservation ? Ana Ruiz a utilisé A à Broadway (chaque lundi 09:00–12:00) "
            "12,5\xa0% du temps réservé ces 8 dernières semaines (3,00 sur 24,00 h)"
        )
    with force_locale("es"):
        assert rows[0].description == (
            "¿Liberar parte de esta reserva? Ana Ruiz usó A en Broadway (cada lunes 09:00–12:00) el 12,5\xa0% "
            "del tiempo reservado en las últimas 8 semanas (3,00 de 24,00 h)"
        )


def test_the_task_list_links_to_the_release_form_which_comes_back_to_the_list(practice, admin_client):
    run_scan()
    listed = admin_client.get(f"{TASKS}?status=open")
    assert [row[0] for row in table_rows(listed, "task-list")] == [ANA_TEXT]

    [href] = re.findall(r'<td class="col-description"><a href="([^"]+)"', body(listed))
    href = href.replace("&amp;", "&")
    path, query = urlsplit(href).path, parse_qs(urlsplit(href).query)
    assert (path, query) == (
        "/admin/room_reservation/release/",
        {"id": [str(practice.anas.id)], "next": ["/admin/tasks/?status=open"]},
    )

    # From the home, the form comes back to the home.
    [from_home] = re.findall(r'href="(/admin/room_reservation/release/[^"]+)"', body(admin_client.get("/admin/")))
    assert parse_qs(urlsplit(from_home.replace("&amp;", "&")).query)["next"] == ["/admin/"]

    form = admin_client.get(href)
    page = body(form)
    assert "Release Broadway · A · Ana Ruiz" in page
    assert re.search(r'name="starts_time"[^>]*value="09:00"|value="09:00"[^>]*name="starts_time"', page)
    assert re.search(r'name="ends_time"[^>]*value="12:00"|value="12:00"[^>]*name="ends_time"', page)

    # Unchanged, the form gives nothing back: refused, nothing written.
    same = admin_client.post(href, data={"ends_on": "", "starts_time": "09:00", "ends_time": "12:00"})
    assert "Valid until: give the last day, or the new hours." in flashed(same)
    assert db.session.get(RoomReservation, practice.anas.id).released_on is None

    # Half of it given back: 09:00-10:30 from now on. The task closes and the list says so.
    done = admin_client.post(
        href, data={"ends_on": "", "starts_time": "09:00", "ends_time": "10:30"}, follow_redirects=True
    )
    assert done.request.path == "/admin/tasks/"
    assert done.request.args.get("status") == "open"
    assert "Reservation released; the therapist is notified." in flashed(done)
    assert "no-tasks" in body(done)
    db.session.expire_all()
    # The Mondays until today keep 09:00-12:00; the shorter hours carry on from today.
    held = db.session.scalars(
        select(RoomReservation)
        .where(
            RoomReservation.therapist_id == practice.anas.therapist_id,
            RoomReservation.room_id == practice.anas.room_id,
            RoomReservation.weekday == 1,
        )
        .order_by(RoomReservation.valid_from)
    ).all()
    assert [(r.starts_time, r.ends_time, r.valid_until) for r in held] == [
        (dt.time(9), dt.time(12), dt.date(2026, 12, 4)),
        (dt.time(9), dt.time(10, 30), None),
    ]
    [task] = low_use_tasks()
    assert task.status == TaskStatus.CLOSED
