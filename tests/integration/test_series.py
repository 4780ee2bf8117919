"""Recurring series: the same local hour across daylight saving (Vancouver) and without it (Lima),
clashes listed by date and either skipped or the whole series abandoned, and cancelling or moving
one occurrence or it and the following ones. Through the service and through the staff screen."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    Attendance,
    CancelledBy,
    Modality,
)
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.rules import prepare_appointment
from admin_app.services.scheduling.series import cancel_occurrences, create_series, move_occurrences, plan_series
from tests.conftest import make_app
from tests.factories import PASSWORD, make_admin, make_appointment, make_client, make_site, make_therapist
from tests.pages import body, csrf_token, field_errors, flashed, list_rows, text_of

VANCOUVER = ZoneInfo("America/Vancouver")
LIMA = ZoneInfo("America/Lima")


@pytest.fixture
def vancouver(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/Vancouver")
    return app


@pytest.fixture
def people(app):
    therapist = make_therapist(full_name="Rosa Mendoza")
    client = make_client(therapist, full_name="Ana Quispe")
    db.session.commit()
    return therapist, client


def plan(therapist, client, first: dt.datetime, **options):
    values = {
        "therapist_id": therapist.id,
        "client_ids": [client.id],
        "first_start_local": first,
        "duration_minutes": 50,
        "interval_weeks": 1,
        "modality": Modality.VIRTUAL,
        "kind": AppointmentKind.INDIVIDUAL,
        **options,
    }
    if "until" not in options and "occurrences" not in options:
        values["occurrences"] = 10
    return plan_series(db.session, **values)


def stored(series_id: int) -> list[Appointment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Appointment).where(Appointment.series_id == series_id).order_by(Appointment.starts_at)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def wall(instant: dt.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# --- daylight saving -------------------------------------------------------------------------


def test_a_weekly_vancouver_series_stays_at_ten_when_the_clocks_fall_back(vancouver, people):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2026, 10, 22, 10, 0))

    assert [item.local_start.strftime("%H:%M") for item in planned.items] == ["10:00"] * 10
    assert [item.starts_at.hour for item in planned.items] == [17, 17] + [18] * 8  # DST ends 1 Nov 2026
    assert all(item.clear for item in planned.items)

    series = create_series(db.session, plan=planned, skip_conflicting=False)
    db.session.commit()

    rows = stored(series.id)
    assert [wall(row.starts_at, VANCOUVER) for row in rows] == [
        f"{day} 10:00"
        for day in (
            "2026-10-22",
            "2026-10-29",
            "2026-11-05",
            "2026-11-12",
            "2026-11-19",
            "2026-11-26",
            "2026-12-03",
            "2026-12-10",
            "2026-12-17",
            "2026-12-24",
        )
    ]
    assert {row.ends_at - row.starts_at for row in rows} == {dt.timedelta(minutes=50)}
    assert series.interval_weeks == 1 and series.occurrences == 10 and series.until is None


def test_a_weekly_vancouver_series_stays_at_ten_when_the_clocks_spring_forward(vancouver, people):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 3, 4, 10, 0), occurrences=4)

    series = create_series(db.session, plan=planned, skip_conflicting=False)
    db.session.commit()

    rows = stored(series.id)
    assert [wall(row.starts_at, VANCOUVER) for row in rows] == [
        "2027-03-04 10:00",
        "2027-03-11 10:00",
        "2027-03-18 10:00",
        "2027-03-25 10:00",
    ]
    assert [row.starts_at.hour for row in rows] == [18, 18, 17, 17]  # DST starts 14 Mar 2027
    assert all(row.status == AppointmentStatus.SCHEDULED for row in rows)


def test_a_lima_series_is_ten_local_and_fifteen_utc_all_year(app, people):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 3, 4, 10, 0), occurrences=12)  # over Vancouver's change

    series = create_series(db.session, plan=planned, skip_conflicting=False)
    db.session.commit()

    rows = stored(series.id)
    assert len(rows) == 12
    assert {wall(row.starts_at, LIMA)[-5:] for row in rows} == {"10:00"}
    assert {(row.starts_at.hour, row.starts_at.minute) for row in rows} == {(15, 0)}


def test_a_date_whose_hour_the_clocks_skip_is_listed_and_can_be_skipped(vancouver, people):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 3, 7, 2, 30), occurrences=3)

    gap = [item for item in planned.items if not item.clear]
    assert [item.local_date.isoformat() for item in gap] == ["2027-03-14"]
    assert "does not exist in America/Vancouver" in str(gap[0].messages[0])

    with pytest.raises(RuleViolation) as refused:
        create_series(db.session, plan=planned, skip_conflicting=False)
    assert "2027-03-14" in str(refused.value)
    assert count(Appointment) == 0 and count(AppointmentSeries) == 0

    series = create_series(db.session, plan=planned, skip_conflicting=True)
    db.session.commit()
    assert [wall(row.starts_at, VANCOUVER) for row in stored(series.id)] == ["2027-03-07 02:30", "2027-03-21 02:30"]


# --- shape of a series -------------------------------------------------------------------------


def test_every_two_weeks_until_a_date_includes_that_date(app, people):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 1, 5, 18, 0), interval_weeks=2, until=dt.date(2027, 2, 16))

    series = create_series(db.session, plan=planned, skip_conflicting=False)
    db.session.commit()

    assert [wall(row.starts_at, LIMA) for row in stored(series.id)] == [
        "2027-01-05 18:00",
        "2027-01-19 18:00",
        "2027-02-02 18:00",
        "2027-02-16 18:00",
    ]
    assert series.interval_weeks == 2 and series.until == dt.date(2027, 2, 16) and series.occurrences is None


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"occurrences": 3, "until": dt.date(2027, 2, 1)}, "occurrences", "one of the two"),
        ({"occurrences": None, "until": None}, "occurrences", "one of the two"),
        ({"occurrences": 0}, "occurrences", "between 1 and 104"),
        ({"occurrences": 105}, "occurrences", "between 1 and 104"),
        ({"until": dt.date(2029, 1, 5)}, "until", "within two years"),
        ({"until": dt.date(2026, 12, 31)}, "until", "before the first"),
        ({"occurrences": 3, "interval_weeks": 3}, "interval_weeks", "every two weeks"),
        ({"occurrences": 3, "modality": Modality.ON_SITE}, "room", "needs a room"),
    ],
)
def test_a_series_asked_for_wrongly_is_refused_by_field(app, people, options, field, message):
    therapist, client = people
    with pytest.raises(RuleViolation) as refused:
        plan(therapist, client, dt.datetime(2027, 1, 5, 18, 0), **options)
    assert refused.value.field == field
    assert message in str(refused.value)


def test_a_series_of_104_weeks_is_the_longest(app, people):
    therapist, client = people
    first = dt.datetime(2027, 1, 5, 18, 0)
    planned = plan(therapist, client, first, until=first.date() + dt.timedelta(weeks=104, days=-1))
    assert len(planned.items) == 104


def test_an_on_site_series_books_the_room_for_every_date(app, people):
    therapist, client = people
    room = make_site(rooms=("Sala 1",)).rooms[0]
    planned = plan(
        therapist, client, dt.datetime(2027, 1, 5, 18, 0), occurrences=3, modality=Modality.ON_SITE, room_id=room.id
    )

    series = create_series(db.session, plan=planned, skip_conflicting=False)
    db.session.commit()

    rows = stored(series.id)
    assert {row.room_id for row in rows} == {room.id}
    assert {(p.fee, p.currency, p.attendance) for row in rows for p in row.participants} == {
        (therapist.default_fee, "PEN", Attendance.EXPECTED)
    }


# --- conflicts ---------------------------------------------------------------------------------


@pytest.fixture
def busy_third_week(app, people):
    """Rosa already sees someone else at 10:00 on the third Thursday."""
    therapist, _client = people
    other = make_client(therapist, full_name="Luis Rojas")
    taken = make_appointment(
        therapist, other, dt.datetime(2027, 1, 21, 10, 30, tzinfo=LIMA), attendance=Attendance.EXPECTED
    )
    db.session.commit()
    return taken


def test_clashes_are_listed_by_date_with_the_reason(app, people, busy_third_week):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=5)

    blocked = planned.blocked
    assert [item.local_date.isoformat() for item in blocked] == ["2027-01-21"]
    assert [conflict.appointment_id for conflict in blocked[0].conflicts] == [busy_third_week.id]
    assert [str(message) for message in blocked[0].messages] == [
        "Clashes with Rosa Mendoza's appointment on 2027-01-21 10:30–11:20 (same therapist)."
    ]
    assert len(planned.clear_items) == 4


def test_the_client_booked_with_another_therapist_is_a_clash_too(app, people):
    therapist, client = people
    make_appointment(
        make_therapist(full_name="Marco Salas"),
        client,
        dt.datetime(2027, 1, 14, 10, 0, tzinfo=LIMA),
        attendance=Attendance.EXPECTED,
    )
    db.session.commit()

    planned = plan(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=3)

    assert {item.local_date.isoformat(): [str(m) for m in item.messages] for item in planned.blocked} == {
        "2027-01-14": ["Ana Quispe already has an appointment on 2027-01-14 10:00–10:50 with Marco Salas."]
    }


def test_without_skipping_a_clash_nothing_is_written(app, people, busy_third_week):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=5)
    appointments, series = count(Appointment), count(AppointmentSeries)

    with pytest.raises(RuleViolation) as refused:
        create_series(db.session, plan=planned, skip_conflicting=False)

    assert "2027-01-21" in str(refused.value)
    db.session.rollback()
    assert count(Appointment) == appointments == 1
    assert count(AppointmentSeries) == series == 0


def test_skipping_the_clashes_creates_the_other_dates_in_the_series(app, people, busy_third_week):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=5)

    series = create_series(db.session, plan=planned, skip_conflicting=True)
    db.session.commit()

    rows = stored(series.id)
    assert [wall(row.starts_at, LIMA) for row in rows] == [
        "2027-01-07 10:00",
        "2027-01-14 10:00",
        "2027-01-28 10:00",
        "2027-02-04 10:00",
    ]
    assert count(Appointment) == 5  # the four and the one that was there
    assert [p.client_id for row in rows for p in row.participants] == [client.id] * 4


def test_a_clash_that_appears_after_the_preview_is_caught_at_creation(app, people):
    therapist, client = people
    planned = plan(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=3)
    assert not planned.blocked
    make_appointment(
        therapist, make_client(), dt.datetime(2027, 1, 14, 10, 0, tzinfo=LIMA), attendance=Attendance.EXPECTED
    )
    db.session.commit()

    with pytest.raises(RuleViolation) as refused:
        create_series(db.session, plan=planned, skip_conflicting=False)
    assert "2027-01-14" in str(refused.value)
    db.session.rollback()
    assert count(AppointmentSeries) == 0


# --- cancel and move ---------------------------------------------------------------------------


def weekly(therapist, client, first: dt.datetime, occurrences: int = 6) -> list[Appointment]:
    series = create_series(
        db.session, plan=plan(therapist, client, first, occurrences=occurrences), skip_conflicting=False
    )
    db.session.commit()
    return stored(series.id)


def statuses(series_id: int) -> list[str]:
    return [row.status.value for row in stored(series_id)]


def test_cancel_one_occurrence_or_it_and_the_following(app, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 1, 7, 10, 0))
    series_id = rows[0].series_id

    assert cancel_occurrences(db.session, appointment=rows[1], and_following=False) == 1
    db.session.commit()
    assert statuses(series_id) == ["scheduled", "cancelled", "scheduled", "scheduled", "scheduled", "scheduled"]

    rows = stored(series_id)
    cancelled = cancel_occurrences(
        db.session, appointment=rows[3], and_following=True, cancelled_by=CancelledBy.PRACTICE, reason="Leave"
    )
    db.session.commit()

    assert cancelled == 3
    assert statuses(series_id) == ["scheduled", "cancelled", "scheduled", "cancelled", "cancelled", "cancelled"]
    participants = [row.participants[0] for row in stored(series_id)]
    assert [p.attendance for p in participants[3:]] == [Attendance.CANCELLED] * 3
    assert {(p.cancelled_by, p.cancellation_reason) for p in participants[3:]} == {(CancelledBy.PRACTICE, "Leave")}
    assert participants[0].attendance == Attendance.EXPECTED


def test_cancelling_the_following_leaves_held_and_past_sessions_alone(vancouver, people, clock):
    therapist, client = people
    today = clock.today()
    first = dt.datetime.combine(today - dt.timedelta(days=15), dt.time(10, 0))
    rows = weekly(therapist, client, first, occurrences=6)  # three past (attended, so held), three ahead
    held = rows[4]
    held.participants[0].attendance = Attendance.ATTENDED  # e.g. marked ahead of time
    prepare_appointment(db.session, held)
    db.session.commit()

    cancelled = cancel_occurrences(db.session, appointment=stored(rows[0].series_id)[0], and_following=True)
    db.session.commit()

    assert cancelled == 2
    assert statuses(rows[0].series_id) == ["held", "held", "held", "cancelled", "held", "cancelled"]


def test_move_this_and_following_to_eleven_across_the_clock_change(vancouver, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 10, 28, 10, 0), occurrences=4)  # DST ends 7 Nov 2027
    series_id = rows[0].series_id

    moved = move_occurrences(
        db.session, appointment=rows[1], new_start_local=dt.datetime(2027, 11, 4, 11, 0), and_following=True
    )
    db.session.commit()

    assert moved == 3
    assert [wall(row.starts_at, VANCOUVER) for row in stored(series_id)] == [
        "2027-10-28 10:00",
        "2027-11-04 11:00",
        "2027-11-11 11:00",
        "2027-11-18 11:00",
    ]
    assert {row.ends_at - row.starts_at for row in stored(series_id)} == {dt.timedelta(minutes=50)}


def test_move_one_occurrence_to_another_day(app, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=3)

    assert (
        move_occurrences(
            db.session, appointment=rows[1], new_start_local=dt.datetime(2027, 1, 15, 9, 0), and_following=False
        )
        == 1
    )
    db.session.commit()

    assert [wall(row.starts_at, LIMA) for row in stored(rows[0].series_id)] == [
        "2027-01-07 10:00",
        "2027-01-15 09:00",
        "2027-01-21 10:00",
    ]


def test_pushing_the_series_a_week_later_moves_each_onto_the_next_ones_old_slot(app, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=3)

    moved = move_occurrences(
        db.session, appointment=rows[0], new_start_local=dt.datetime(2027, 1, 14, 10, 0), and_following=True
    )
    db.session.commit()

    assert moved == 3
    assert [wall(row.starts_at, LIMA) for row in stored(rows[0].series_id)] == [
        "2027-01-14 10:00",
        "2027-01-21 10:00",
        "2027-01-28 10:00",
    ]


def test_a_move_that_clashes_moves_nothing_and_names_the_dates(app, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=4)
    make_appointment(
        therapist, make_client(), dt.datetime(2027, 1, 21, 11, 0, tzinfo=LIMA), attendance=Attendance.EXPECTED
    )
    db.session.commit()

    with pytest.raises(RuleViolation) as refused:
        move_occurrences(
            db.session, appointment=rows[1], new_start_local=dt.datetime(2027, 1, 14, 11, 0), and_following=True
        )
    db.session.rollback()

    assert "2027-01-21" in str(refused.value)
    assert [wall(row.starts_at, LIMA)[-5:] for row in stored(rows[0].series_id)] == ["10:00"] * 4


def test_a_move_into_the_hour_the_clocks_skip_moves_nothing(vancouver, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 3, 7, 10, 0), occurrences=3)

    with pytest.raises(RuleViolation) as refused:
        move_occurrences(
            db.session, appointment=rows[0], new_start_local=dt.datetime(2027, 3, 7, 2, 30), and_following=True
        )
    db.session.rollback()

    assert "2027-03-14" in str(refused.value)
    assert [wall(row.starts_at, VANCOUVER)[-5:] for row in stored(rows[0].series_id)] == ["10:00"] * 3


# --- the staff screen --------------------------------------------------------------------------


def series_form(therapist, client, **fields) -> dict:
    return {
        "therapist_id": str(therapist.id),
        "clients": str(client.id),
        "first_start": "2027-01-07 10:00",
        "duration_minutes": "50",
        "interval_weeks": "1",
        "occurrences": "5",
        "until": "",
        "modality": "virtual",
        "room_id": "",
        "kind": "individual",
        "fee": "",
        "currency": "",
        **fields,
    }


def preview_dates(response) -> dict[str, str]:
    """Date → what the preview says about it (its last cell)."""
    rows = re.findall(r'<tr class="[^"]*" data-date="([\d-]+)">(.*?)</tr>', body(response), re.S)
    return {date: text_of(re.findall(r"<td>(.*?)</td>", html, re.S)[-1]) for date, html in rows}


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    return make_app(database_url, WTF_CSRF_ENABLED=True)


@pytest.fixture
def staff(app, csrf_app):
    """A signed-in admin on an app that checks CSRF tokens, as in production."""
    make_admin()
    db.session.commit()
    visitor = csrf_app.test_client()
    token = csrf_token(visitor.get("/login"))
    response = visitor.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return visitor


def test_the_form_offers_the_default_duration_and_lists_no_clients(staff, people):
    response = staff.get("/admin/series/")

    assert response.status_code == 200
    assert re.search(r'<input[^>]*name="duration_minutes"[^>]*value="50"', body(response))
    assert "Ana Quispe" not in body(response)  # clients come from the lookup, never a full list
    assert 'data-role="select2-ajax"' in body(response)


def test_the_screen_previews_the_clash_then_skips_it(staff, people, busy_third_week):
    therapist, client = people
    form_page = staff.get("/admin/series/")
    data = {**series_form(therapist, client), "csrf_token": csrf_token(form_page)}

    preview = staff.post("/admin/series/", data=data)

    assert preview.status_code == 200, body(preview)
    dates = preview_dates(preview)
    assert list(dates) == ["2027-01-07", "2027-01-14", "2027-01-21", "2027-01-28", "2027-02-04"]
    assert dates["2027-01-07"] == "Free"
    assert dates["2027-01-21"] != "Free"
    assert dates["2027-01-21"] == "Clashes with Rosa Mendoza's appointment on 2027-01-21 10:30–11:20 (same therapist)."
    assert "Skip the clashing dates and create" in body(preview)
    assert count(AppointmentSeries) == 0

    created = staff.post(
        "/admin/series/create/",
        data={**data, "csrf_token": csrf_token(preview), "decision": "skip"},
        follow_redirects=True,
    )

    assert created.status_code == 200
    assert "Series created: 4 appointments." in flashed(created)
    series = db.session.scalars(select(AppointmentSeries)).one()
    assert [wall(row.starts_at, LIMA) for row in stored(series.id)] == [
        "2027-01-07 10:00",
        "2027-01-14 10:00",
        "2027-01-28 10:00",
        "2027-02-04 10:00",
    ]
    table = re.search(r'<table[^>]*id="series-appointments".*?</table>', body(created), re.S).group(0)
    assert len(re.findall(r"data-appointment=", table)) == 4


def test_cancel_on_the_preview_writes_nothing(staff, people, busy_third_week):
    therapist, client = people
    data = {**series_form(therapist, client), "csrf_token": csrf_token(staff.get("/admin/series/"))}
    preview = staff.post("/admin/series/", data=data)

    response = staff.post(
        "/admin/series/create/", data={**data, "csrf_token": csrf_token(preview), "decision": "cancel"}
    )

    assert response.status_code == 200
    assert "Nothing was created." in flashed(response)
    assert count(AppointmentSeries) == 0 and count(Appointment) == 1
    assert 'value="2027-01-07 10:00"' in body(response)  # the form comes back filled in, to change


def test_the_create_button_without_skipping_refuses_a_clash(staff, people, busy_third_week):
    therapist, client = people
    data = {**series_form(therapist, client), "csrf_token": csrf_token(staff.get("/admin/series/"))}

    response = staff.post("/admin/series/create/", data={**data, "decision": "create"})

    assert any("2027-01-21" in message for message in flashed(response))
    assert count(AppointmentSeries) == 0 and count(Appointment) == 1


def test_a_wrong_form_shows_the_error_beside_the_field(staff, people):
    therapist, client = people
    data = {**series_form(therapist, client, modality="on_site"), "csrf_token": csrf_token(staff.get("/admin/series/"))}

    response = staff.post("/admin/series/", data=data)

    assert response.status_code == 200
    assert field_errors(response) == {"room_id": ["Room: an on-site appointment needs a room"]}
    assert count(AppointmentSeries) == 0


def test_a_vancouver_series_on_the_screen_shows_ten_every_week(database_url, migrated_app, app, people):
    vancouver_app = make_app(database_url, CLINIC_TIMEZONE="America/Vancouver")
    therapist, client = people
    make_admin()
    db.session.commit()
    visitor = vancouver_app.test_client()
    assert visitor.post("/login", data={"email": "staff@example.com", "password": PASSWORD}).status_code == 302
    data = series_form(therapist, client, first_start="2027-10-21 10:00", occurrences="10")

    preview = visitor.post("/admin/series/", data=data)
    assert "America/Vancouver" in body(preview)
    assert re.findall(r"<td>(\d\d:\d\d)</td>", body(preview)) == ["10:00"] * 10

    page = visitor.post("/admin/series/create/", data={**data, "decision": "create"}, follow_redirects=True)
    with vancouver_app.app_context():
        series = db.session.scalars(select(AppointmentSeries)).one()
        utc_hours = [
            row.starts_at.hour
            for row in db.session.scalars(
                select(Appointment).where(Appointment.series_id == series.id).order_by(Appointment.starts_at)
            )
        ]
    assert utc_hours == [17, 17, 17] + [18] * 7  # DST ends 7 Nov 2027
    times = re.findall(r"<td>(\d\d:\d\d)–\d\d:\d\d</td>", body(page))
    assert times == ["10:00"] * 10


def test_cancel_this_and_following_from_the_appointment_list(staff, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=4)

    listing = staff.get("/admin/appointment/")
    assert f"/admin/series/occurrence/?id={rows[2].id}" in body(listing)
    assert len(list_rows(listing)) == 4
    page = staff.get(f"/admin/series/occurrence/?id={rows[2].id}")
    response = staff.post(
        "/admin/series/occurrence/cancel/",
        data={
            "id": str(rows[2].id),
            "scope": "following",
            "cancelled_by": "client",
            "reason": "Moving abroad",
            "csrf_token": csrf_token(page),
        },
        follow_redirects=True,
    )

    assert "2 appointments cancelled." in flashed(response)
    assert statuses(rows[0].series_id) == ["scheduled", "scheduled", "cancelled", "cancelled"]


def test_move_this_and_following_from_the_series_page(staff, people):
    therapist, client = people
    rows = weekly(therapist, client, dt.datetime(2027, 1, 7, 10, 0), occurrences=3)
    page = staff.get(f"/admin/series/occurrence/?id={rows[1].id}")
    assert 'value="2027-01-14 10:00"' in body(page)

    response = staff.post(
        "/admin/series/occurrence/move/",
        data={
            "id": str(rows[1].id),
            "scope": "following",
            "new_start": "2027-01-14 11:00",
            "csrf_token": csrf_token(page),
        },
        follow_redirects=True,
    )

    assert "2 appointments moved." in flashed(response)
    assert [wall(row.starts_at, LIMA)[-5:] for row in stored(rows[0].series_id)] == ["10:00", "11:00", "11:00"]


def test_a_post_without_the_token_creates_nothing(staff, people):
    therapist, client = people
    response = staff.post("/admin/series/create/", data={**series_form(therapist, client), "decision": "create"})
    assert response.status_code == 400
    assert count(AppointmentSeries) == 0


def test_an_appointment_outside_a_series_has_no_series_page(staff, people):
    therapist, client = people
    single = make_appointment(
        therapist, client, dt.datetime(2027, 1, 7, 10, 0, tzinfo=LIMA), attendance=Attendance.EXPECTED
    )
    db.session.commit()

    assert "/admin/series/occurrence/" not in body(staff.get("/admin/appointment/"))
    response = staff.get(f"/admin/series/occurrence/?id={single.id}", follow_redirects=True)
    assert "That appointment is not part of a series." in flashed(response)


LOOKUP = "/admin/series/ajax/lookup/?name=clients"


def test_the_client_lookup_finds_by_name_or_national_id(staff, people):
    _therapist, client = people

    # The form's picker posts with the page's token in a header (static/js/admin-csp.js).
    page = body(staff.get("/admin/series/"))
    token = {"X-CSRFToken": re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)}
    by_name = staff.post(LOOKUP, data={"query": "Quisp"}, headers=token).get_json()
    by_id = staff.post(LOOKUP, data={"query": client.national_id}, headers=token).get_json()

    assert [row[0] for row in by_name] == [row[0] for row in by_id] == [client.id]
    assert staff.post("/admin/series/ajax/lookup/?name=other", data={"query": "a"}, headers=token).status_code == 404
    assert staff.post(LOOKUP, data={"query": "Quisp"}).status_code == 400  # no token
    assert staff.get(f"{LOOKUP}&query=Quisp").status_code == 405  # a typed name never goes in a URL
