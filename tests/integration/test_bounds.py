"""Issue #12, items 5 and 6: every typed value is bounded, with the reason beside the field, and the
URLs that used to fail with a 500 answer with a message or a 404."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    CareAssignment,
    Client,
    Modality,
    Participant,
    Therapist,
)
from admin_app.services.imports import values
from tests.factories import make_client, make_therapist
from tests.forms import appointment_form
from tests.integration.test_records_crud import client_form, therapist_form
from tests.pages import body, field_errors, flashed

HUGE = "9" * 20


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def typed_value(response, field_id: str) -> str:
    found = re.search(rf'<input [^>]*id="{field_id}"[^>]*value="([^"]*)"', body(response))
    return found.group(1) if found else ""


def test_a_fee_beyond_what_the_books_hold_is_refused_beside_the_field(admin_client):
    response = admin_client.post("/admin/therapist/new/", data=therapist_form(default_fee="99999999999999999"))

    assert response.status_code == 200
    assert field_errors(response)["default_fee"] == ["at most 9,999,999,999.99"]
    assert count(Therapist) == 0


def test_a_participant_fee_beyond_the_column_is_refused_and_nothing_is_written(admin_client):
    therapist, client = make_therapist(), make_client()
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(therapist, client, **{"participants-0-fee": "10000000000.00"}),
    )

    assert response.status_code == 200
    assert "at most 9,999,999,999.99" in body(response)
    assert count(Appointment) == 0


def test_a_commission_above_100_percent_is_refused(admin_client):
    response = admin_client.post("/admin/therapist/new/", data=therapist_form(commission_percent="100.01"))

    assert "a percentage from 0 to 100" in body(response)
    assert count(Therapist) == 0


def test_a_birth_date_in_the_future_is_refused_beside_the_field(admin_client):
    response = admin_client.post("/admin/client/new/", data=client_form(birth_date="2030-01-15"))

    assert response.status_code == 200
    assert field_errors(response)["birth_date"] == ["Birth date: a birth date cannot be in the future"]
    assert typed_value(response, "birth_date") == "2030-01-15"
    assert count(Client) == 0


def test_a_birth_date_before_1900_is_refused(admin_client):
    response = admin_client.post("/admin/client/new/", data=client_form(birth_date="1850-01-15"))

    assert field_errors(response)["birth_date"] == ["a date from 1900-01-01 to 2099-12-31"]
    assert count(Client) == 0


@pytest.mark.parametrize("starts_at", ["1999-05-10 10:00", "2031-05-10 10:00"])
def test_an_appointment_outside_the_window_staff_use_is_refused_beside_its_start(admin_client, starts_at):
    therapist, client = make_therapist(), make_client()
    db.session.commit()
    day = starts_at[:10]

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(therapist, client, starts_at=starts_at, ends_at=f"{day} 10:50"),
    )

    assert response.status_code == 200
    [error] = field_errors(response)["starts_at"]
    assert error.startswith("Start: an appointment starts between ")
    assert typed_value(response, "starts_at") == starts_at
    assert count(Appointment) == 0


def test_an_old_appointment_outside_the_window_can_still_be_changed_otherwise(admin_client):
    """The window bounds a time being entered, not the history already in the books."""
    therapist, client = make_therapist(), make_client()
    start = dt.datetime(2020, 3, 2, 15, 0, tzinfo=dt.UTC)  # written before the window existed
    old = Appointment(
        therapist=therapist,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=50),
        modality=Modality.VIRTUAL,
        status=AppointmentStatus.HELD,
        participants=[
            Participant(client=client, fee=Decimal("150.00"), currency="PEN", attendance=Attendance.ATTENDED)
        ],
    )
    db.session.add(old)
    db.session.commit()

    response = admin_client.post(
        f"/admin/appointment/edit/?id={old.id}",
        data=appointment_form(
            therapist,
            client,
            starts_at="2020-03-02 10:00",
            ends_at="2020-03-02 10:50",
            notes="Recorded from paper",
            **{"participants-0-id": str(old.participants[0].id), "participants-0-attendance": "attended"},
        ),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    assert db.session.get(Appointment, old.id).notes == "Recorded from paper"


def test_a_name_longer_than_its_column_is_refused_beside_the_field(admin_client):
    response = admin_client.post("/admin/client/new/", data=client_form(full_name="a" * 5000))

    assert response.status_code == 200
    assert field_errors(response)["full_name"]
    assert count(Client) == 0


def test_an_impossible_date_keeps_what_was_typed_and_says_why(admin_client):
    therapist, client = make_therapist(), make_client()
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(therapist, client, starts_at="31/02/2026 10:00"),
    )

    assert response.status_code == 200
    assert field_errors(response)["starts_at"] == ["Expected a date and time as YYYY-MM-DD HH:MM"]
    assert typed_value(response, "starts_at") == "31/02/2026 10:00"
    assert count(Appointment) == 0


def test_an_impossible_date_in_an_inline_row_keeps_what_was_typed(admin_client):
    therapist = make_therapist()
    db.session.commit()

    response = admin_client.post(
        "/admin/client/new/",
        data=client_form(
            **{
                "care_assignments-0-therapist": str(therapist.id),
                "care_assignments-0-kind": "direct",
                "care_assignments-0-active": "y",
                "care_assignments-0-started_on": "31/02/2026",
            }
        ),
    )

    assert response.status_code == 200
    assert field_errors(response)["care_assignments-0-started_on"] == ["Not a valid date value."]
    assert typed_value(response, "care_assignments-0-started_on") == "31/02/2026"
    assert count(CareAssignment) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/admin/book/?date=9999-12-31&view=month",
        "/admin/appointment/?flt0_0=9999-12",
        "/admin/outbox/?flt2_0=x",
    ],
)
def test_out_of_range_query_values_are_explained_not_a_500(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 200
    assert flashed(response), url


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/client/?page={HUGE}",
        f"/admin/book/ajax/booking-defaults/?client={HUGE}",
        f"/admin/client/details/?id={HUGE}",
    ],
)
def test_numbers_no_record_or_page_can_have_are_not_found(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code in (302, 404), url
    if response.status_code == 302:
        assert "Record does not exist." in flashed(admin_client.get(response.headers["Location"]))


def test_the_portal_month_filter_explains_a_month_beyond_the_calendar(therapist_client):
    response = therapist_client.get("/portal/appointments/?flt0_0=9999-12")

    assert response.status_code == 200
    assert flashed(response) == ["Invalid Filter Value: 9999-12"]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("10000000000", "at most 9,999,999,999.99, got 10000000000"),
        ("-5", "must not be negative, got -5"),
        ("1.005", "at most two decimals, got 1.005"),
    ],
)
def test_the_import_reads_amounts_with_the_same_bounds(app, cell, reason):
    with pytest.raises(values.CellError) as refused:
        values.amount(cell)
    assert str(refused.value.reason) == reason


def test_the_import_refuses_a_date_beyond_the_calendar(app):
    with pytest.raises(values.CellError) as refused:
        values.local_datetime("9999-12-31 23:59")
    assert str(refused.value.reason) == "a date from 1900-01-01 to 2099-12-31, got 9999-12-31 23:59"
