"""Closing the day from the book's day view: a confirmation lists who is still expected in the
appointments that have started (never a future one); confirming marks them attended, audited as the
staff's "Mark attended" is, and brings the staff back to the day."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Appointment, AppointmentKind, AppointmentStatus, Attendance, AuditEvent
from admin_app.services.scheduling.closing import close_day
from admin_app.services.scheduling.rules import record_attendance
from tests.conftest import make_app, sign_in_therapist
from tests.factories import PASSWORD, book, make_admin, make_appointment, make_client, make_therapist
from tests.pages import body, csrf_token, flashed, table_rows

EXPECTED = Attendance.EXPECTED
CLOSE = "/admin/book/close/?date=2026-11-16"

# Monday 16 November 2026, 11:00 in Lima (UTC-5 all year).
pytestmark = pytest.mark.parametrize("clock", ["2026-11-16T16:00Z"], indirect=True)


def lima(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("America/Lima")).astimezone(dt.UTC)


def reload(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


def attendance(appointment: Appointment) -> list[Attendance]:
    return [p.attendance for p in reload(appointment).participants]


@pytest.fixture
def monday(app):
    """Rosa's and Jorge's Monday at 11:00: some sessions over or running, some still to come."""
    rosa, jorge = make_therapist(full_name="Rosa Mendoza"), make_therapist(full_name="Jorge Salas")
    ana, luis, beto, carla, dina, eva = (
        make_client(full_name=name)
        for name in ("Ana Quispe", "Luis Quispe", "Beto Ramos", "Carla Soto", "Dina Paz", "Eva Luna")
    )
    day = {
        "ana": make_appointment(rosa, ana, lima(16, 9), attendance=EXPECTED),
        "couple": book(
            rosa, [ana, luis], lima(16, 10, 30), attendance=EXPECTED, kind=AppointmentKind.COUPLE
        ),  # running now
        "no_show": make_appointment(jorge, beto, lima(16, 9), attendance=Attendance.NO_SHOW),
        "cancelled": make_appointment(jorge, carla, lima(16, 10), attendance=EXPECTED),
        "jorge": make_appointment(jorge, eva, lima(16, 8), attendance=EXPECTED),
        "later": make_appointment(rosa, dina, lima(16, 14), attendance=EXPECTED),  # not started
    }
    record_attendance(
        db.session,
        participant=day["cancelled"].participants[0],
        attendance="cancelled",
        cancelled_by="client",
        reason="Flu",
    )
    day["sunday"] = make_appointment(jorge, dina, lima(15, 9), attendance=EXPECTED)  # another day
    db.session.commit()
    return day


def listed(response) -> list[list[str]]:
    return table_rows(response, "still-expected")


def confirm(client, page, **data):
    """Post the confirmation as its form would: the appointments it lists."""
    ids = re.findall(r'name="appointment" value="(\d+)"', body(page))
    return client.post(CLOSE, data={"appointment": ids, **data}, follow_redirects=True)


def test_the_day_view_offers_to_close_a_day_that_has_begun(admin_client, monday):
    page = body(admin_client.get("/admin/book/?view=day&date=2026-11-16"))
    link = re.search(r'id="close-day" href="([^"]+)">Close the day</a>', page).group(1)
    assert link.replace("&amp;", "&") == CLOSE

    assert 'id="close-day"' not in body(admin_client.get("/admin/book/?view=day&date=2026-11-17"))  # tomorrow
    assert 'id="close-day"' not in body(admin_client.get("/admin/book/?view=week&date=2026-11-16"))


def test_the_confirmation_lists_only_who_is_expected_in_started_appointments(admin_client, monday):
    page = admin_client.get(CLOSE)

    assert listed(page) == [
        ["08:00–08:50", "Jorge Salas", "Eva Luna"],
        ["09:00–09:50", "Rosa Mendoza", "Ana Quispe"],
        ["10:30–11:20", "Rosa Mendoza", "Ana Quispe, Luis Quispe"],
    ]
    assert "Dina Paz" not in body(page)  # her session is at 14:00, and Sunday's is another day
    assert "Close the day: Mon 16 Nov 2026" in body(page)


def test_confirming_marks_them_attended_and_returns_to_the_day(admin_client, monday):
    response = confirm(admin_client, admin_client.get(CLOSE))

    assert response.request.path == "/admin/book/"
    assert response.request.args.to_dict() == {"view": "day", "date": "2026-11-16"}
    assert "4 participants marked attended." in flashed(response)
    for key in ("ana", "couple", "jorge"):
        assert set(attendance(monday[key])) == {Attendance.ATTENDED}, key
        assert reload(monday[key]).status == AppointmentStatus.HELD
    assert attendance(monday["later"]) == [EXPECTED]
    assert attendance(monday["sunday"]) == [EXPECTED]
    assert attendance(monday["no_show"]) == [Attendance.NO_SHOW]
    assert attendance(monday["cancelled"]) == [Attendance.CANCELLED]
    [ana] = re.findall(rf'data-appointment="{monday["ana"].id}">(.*?)</div>', body(response), re.S)
    assert 'Ana Quispe <span class="badge badge-light">Attended</span>' in " ".join(ana.split())


def test_a_closed_day_has_nobody_left_to_mark(admin_client, monday):
    confirm(admin_client, admin_client.get(CLOSE))

    page = admin_client.get(CLOSE)

    assert "Nobody is still expected in the appointments of this day that have started." in body(page)
    assert 'id="confirm-close-day"' not in body(page)
    assert "0 participants marked attended." in flashed(confirm(admin_client, page))


def test_a_future_appointment_is_never_marked_even_when_posted(admin_client, monday):
    posted = [str(monday[key].id) for key in ("later", "sunday", "ana")]

    response = admin_client.post(CLOSE, data={"appointment": posted + ["x", "999999"]}, follow_redirects=True)

    assert "1 participant marked attended." in flashed(response)
    assert attendance(monday["later"]) == [EXPECTED]
    assert attendance(monday["sunday"]) == [EXPECTED]  # posted against Monday: another day


def test_the_confirmation_keeps_the_day_views_filter(admin_client, monday):
    jorge = monday["jorge"].therapist
    day_view = body(admin_client.get(f"/admin/book/?view=day&date=2026-11-16&therapist={jorge.id}"))
    link = re.search(r'id="close-day" href="([^"]+)"', day_view).group(1).replace("&amp;", "&")

    page = admin_client.get(link)

    assert listed(page) == [["08:00–08:50", "Jorge Salas", "Eva Luna"]]
    response = admin_client.post(link, data={"appointment": [str(monday["jorge"].id)]}, follow_redirects=True)
    assert response.request.args.to_dict() == {"view": "day", "date": "2026-11-16", "therapist": str(jorge.id)}
    assert attendance(monday["ana"]) == [EXPECTED]


def test_closing_is_audited_with_the_staff_member(admin_client, admin_user, monday):
    participant_id = monday["ana"].participants[0].id

    confirm(admin_client, admin_client.get(CLOSE))

    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.entity == "participant", AuditEvent.entity_id == participant_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert (event.changed_fields, event.actor, event.actor_user_id) == (["attendance"], admin_user.email, admin_user.id)


def test_the_service_reads_now_from_the_clock_it_is_given(monday):
    ids = [monday[key].id for key in ("ana", "later")]

    assert close_day(db.session, day=dt.date(2026, 11, 16), appointment_ids=ids, now=lima(16, 13)) == 1
    assert close_day(db.session, day=dt.date(2026, 11, 16), appointment_ids=ids, now=lima(16, 14)) == 1
    db.session.commit()
    assert attendance(monday["later"]) == [Attendance.ATTENDED]  # at 14:00 it has started


def test_a_wrong_date_is_explained_not_a_crash(admin_client, monday):
    response = admin_client.get("/admin/book/close/?date=2026-02-31")

    assert response.status_code == 200
    assert "Date: expected a date as YYYY-MM-DD, got 2026-02-31" in flashed(response)


def test_a_therapist_cannot_close_the_day(client, monday):
    sign_in_therapist(client, monday["ana"].therapist)

    assert client.get(CLOSE).status_code == 403
    assert client.post(CLOSE, data={"appointment": [str(monday["ana"].id)]}).status_code == 403
    assert attendance(monday["ana"]) == [EXPECTED]


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def test_the_confirmation_needs_its_csrf_token(app, csrf_app, monday):
    make_admin()
    db.session.commit()
    visitor = csrf_app.test_client()
    token = csrf_token(visitor.get("/login"))
    visitor.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    ids = [str(monday["ana"].id)]

    assert visitor.post(CLOSE, data={"appointment": ids}).status_code == 400
    assert attendance(monday["ana"]) == [EXPECTED]
    page = visitor.get(CLOSE)
    response = visitor.post(CLOSE, data={"appointment": ids, "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert attendance(monday["ana"]) == [Attendance.ATTENDED]
