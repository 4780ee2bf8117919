"""The booking screens and authorizations (issue 14, "At booking"), through the staff's screens.

The practice is Vancouver-like: Noah Singh is referred by ICBC, his payment source, and ICBC
approved 10 sessions (reference 123, 2026-09-01 to 2026-12-31). Six of them are taken: four
attended in September and two still expected in October. So booking one more on 2026-10-20 leaves
10 − 6 − 1 = 3 ("3 of 10 left"), and a weekly series of five from that date leaves 3, 2, 1, 0 and
then goes one beyond (11 booked or used of 10). WorkSafeBC, a payer that refuses bookings beyond
what it approved, approved 2 sessions for Maya Chen (W-9), one attended and one expected: a third
is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Appointment, Attendance, Authorization, Client, Payer, Therapist
from admin_app.services.billing import booking
from tests.factories import book, make_authorization, make_client, make_payer, make_therapist, pays_for
from tests.forms import appointment_form
from tests.pages import body, flashed, text_of
from tests.queries import counted_queries

NOON = "2026-10-01T19:00Z"  # noon in Vancouver: September is past, October 20 ahead
pytestmark = pytest.mark.parametrize("clock", [NOON], indirect=True)


@pytest.fixture
def vancouver(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/Vancouver")
    return app


@dataclass
class Referred:
    therapist: Therapist
    client: Client
    payer: Payer
    authorization: Authorization


def booked(therapist, client, days, attendance) -> None:
    for day in days:
        book(therapist, [client], dt.datetime.combine(day, dt.time(10)), attendance=attendance)


@pytest.fixture
def noah(vancouver) -> Referred:
    """ICBC 123: 10 approved, 4 used in September, 2 scheduled in October (6 taken)."""
    therapist = make_therapist(full_name="Claire Tremblay")
    client = make_client(therapist, full_name="Noah Singh")
    icbc = make_payer("ICBC")
    pays_for(client, icbc)
    authorization = make_authorization(client, icbc, 10, dt.date(2026, 9, 1), dt.date(2026, 12, 31), reference="123")
    booked(therapist, client, [dt.date(2026, 9, d) for d in (7, 14, 21, 28)], Attendance.ATTENDED)
    booked(therapist, client, [dt.date(2026, 10, 6), dt.date(2026, 10, 13)], Attendance.EXPECTED)
    db.session.commit()
    return Referred(therapist, client, icbc, authorization)


@pytest.fixture
def maya(vancouver) -> Referred:
    """WorkSafeBC W-9 (refuses beyond): 2 approved, 1 used, 1 scheduled (2 taken, 0 left)."""
    therapist = make_therapist(full_name="Omar Haddad")
    client = make_client(therapist, full_name="Maya Chen")
    worksafe = make_payer("WorkSafeBC", refuses_over_approved=True)
    pays_for(client, worksafe)
    authorization = make_authorization(client, worksafe, 2, dt.date(2026, 9, 1), dt.date(2026, 12, 31), reference="W-9")
    booked(therapist, client, [dt.date(2026, 9, 15)], Attendance.ATTENDED)
    booked(therapist, client, [dt.date(2026, 10, 6)], Attendance.EXPECTED)
    db.session.commit()
    return Referred(therapist, client, worksafe, authorization)


def defaults(admin_client, client, **query):
    response = admin_client.get("/admin/book/ajax/booking-defaults/", query_string={"client": client.id, **query})
    assert response.status_code == 200, body(response)
    return response.get_json()["participants"]


def appointments() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


def warnings(response) -> list[str]:
    """The texts of the flashed warnings (yellow), not errors."""
    found = re.findall(
        r'<div class="alert alert-warning alert-dismissable">\s*<button[^>]*>&times;</button>(.*?)</div>',
        body(response),
        re.S,
    )
    return [text_of(alert) for alert in found]


# --- the form, before saving: bill-to and what remains ------------------------------------------


def test_choosing_a_referred_client_bills_their_payer_and_shows_what_is_left(admin_client, noah):
    [participant] = defaults(admin_client, noah.client, starts_at="2026-10-20T10:00")

    assert participant == {
        "payer": {"id": noah.payer.id, "text": "ICBC"},
        "authorization": {
            "id": noah.authorization.id,
            "text": "Authorization ICBC 123: 3 of 10 left after this booking (valid until 2026-12-31).",
            "warning": False,
            "refused": False,
        },
    }


def test_no_authorization_covers_a_date_past_its_end_and_the_client_billed_has_none(admin_client, noah):
    [late] = defaults(admin_client, noah.client, starts_at="2027-01-05 10:00")
    [self_paid] = defaults(admin_client, noah.client, starts_at="2026-10-20T10:00", bill="client")
    [undated] = defaults(admin_client, noah.client)

    assert late["authorization"]["text"] == "No open authorization from ICBC covers 2027-01-05 for Noah Singh."
    assert late["authorization"]["warning"] is True and late["authorization"]["refused"] is False
    assert self_paid == {"payer": None, "authorization": None}
    assert undated == {"payer": {"id": noah.payer.id, "text": "ICBC"}, "authorization": None}


def test_the_form_says_a_refusing_payer_will_refuse_one_beyond(admin_client, maya):
    [participant] = defaults(admin_client, maya.client, starts_at="2026-10-20T10:00", bill=str(maya.payer.id))

    assert participant["authorization"] == {
        "id": maya.authorization.id,
        "text": "Authorization WorkSafeBC W-9 (Maya Chen): 2 sessions approved, 3 booked or used: 1 beyond what "
        "is approved. WorkSafeBC does not accept sessions beyond what it approved: this booking will be refused.",
        "warning": True,
        "refused": True,
    }


def test_odd_values_in_the_preview_query_give_no_preview_and_no_error(admin_client, noah):
    for starts_at in ("tomorrow", "2026-13-01T10:00", "9999-12-31T23:59", "2027-03-14T02:30"):  # last: DST gap
        [participant] = defaults(admin_client, noah.client, starts_at=starts_at, bill="x" * 30)
        assert participant == {"payer": {"id": noah.payer.id, "text": "ICBC"}, "authorization": None}


# --- after saving: warnings, or the refusal ---------------------------------------------------


def test_an_appointment_beyond_what_is_approved_is_saved_with_a_warning(admin_client, noah):
    for day in (20, 27):  # 7 and 8 taken
        booked(noah.therapist, noah.client, [dt.date(2026, 11, day)], Attendance.EXPECTED)
    booked(noah.therapist, noah.client, [dt.date(2026, 12, 4), dt.date(2026, 12, 11)], Attendance.EXPECTED)  # 10
    db.session.commit()
    form = appointment_form(
        noah.therapist,
        noah.client,
        starts_at="2026-12-18 10:00",
        ends_at="",
        **{"participants-0-billed_to": "payer", "participants-0-payer": str(noah.payer.id)},
    )

    response = admin_client.post("/admin/appointment/new/", data=form, follow_redirects=True)

    assert warnings(response) == [
        "Authorization ICBC 123 (Noah Singh): 10 sessions approved, 11 booked or used: 1 beyond what is approved."
    ]
    assert appointments() == 11


def test_a_refusing_payer_refuses_the_booking_naming_the_authorization_and_nothing_is_saved(admin_client, maya):
    form = appointment_form(
        maya.therapist,
        maya.client,
        starts_at="2026-10-20 10:00",
        ends_at="",
        **{"participants-0-billed_to": "payer", "participants-0-payer": str(maya.payer.id)},
    )

    response = admin_client.post("/admin/appointment/new/", data=form, follow_redirects=True)

    assert (
        "This payer does not accept sessions beyond what it approved (session of 2026-10-20). "
        "Authorization WorkSafeBC W-9 (Maya Chen): "
        "2 sessions approved, 3 booked or used: 1 beyond what is approved." in flashed(response)
    )
    assert warnings(response) == []
    assert appointments() == 2


# --- a series: per date on the preview, a warning once created, refused where the payer says ------


def series_form(referred: Referred, occurrences: int) -> dict[str, str]:
    return {
        "therapist_id": str(referred.therapist.id),
        "clients": str(referred.client.id),
        "first_start": "2026-10-20 10:00",
        "duration_minutes": "50",
        "interval_weeks": "1",
        "occurrences": str(occurrences),
        "until": "",
        "modality": "virtual",
        "room_id": "",
        "kind": "individual",
        "fee": "",
        "currency": "",
    }


def authorization_cells(response) -> dict[str, str]:
    rows = re.findall(r'<tr class="([^"]*)" data-date="([\d-]+)">(.*?)</tr>', body(response), re.S)
    return {
        date: (shade, text_of(re.search(r'<td class="series-authorization">(.*?)</td>', html, re.S).group(1)))
        for shade, date, html in rows
    }


def test_a_series_past_the_limit_shows_each_date_then_warns_once_created(admin_client, noah):
    preview = admin_client.post("/admin/series/", data=series_form(noah, 5))

    cells = authorization_cells(preview)
    assert [text for _shade, text in cells.values()][:4] == [
        f"Authorization ICBC 123: {left} of 10 left after this booking (valid until 2026-12-31)."
        for left in (3, 2, 1, 0)
    ]
    assert cells["2026-11-17"] == (
        "table-warning",
        "⚠ Authorization ICBC 123 (Noah Singh): 10 sessions approved, 11 booked or used: 1 beyond what is approved.",
    )
    assert "1 date goes beyond what is approved" in text_of(body(preview))

    created = admin_client.post(
        "/admin/series/create/", data={**series_form(noah, 5), "decision": "create"}, follow_redirects=True
    )

    assert "Series created: 5 appointments." in flashed(created)
    assert warnings(created) == [
        "Authorization ICBC 123 (Noah Singh): 10 sessions approved, 11 booked or used: 1 beyond what is approved."
    ]
    assert appointments() == 11


def test_a_series_with_a_refusing_payer_is_shown_refused_and_writes_nothing(admin_client, maya):
    preview = admin_client.post("/admin/series/", data=series_form(maya, 2))

    shade, text = authorization_cells(preview)["2026-10-20"]
    assert shade == "table-danger"
    assert text.endswith("WorkSafeBC does not accept sessions beyond what it approved: this booking will be refused.")
    assert 'id="series-refused"' in body(preview)

    refused = admin_client.post("/admin/series/create/", data={**series_form(maya, 2), "decision": "create"})

    assert any(
        message.startswith("This payer does not accept sessions beyond what it approved (session of 2026-10-20).")
        and "Authorization WorkSafeBC W-9" in message
        for message in flashed(refused)
    )
    assert appointments() == 2


def test_moving_an_occurrence_past_the_authorization_warns_that_none_covers_it(admin_client, noah):
    admin_client.post("/admin/series/create/", data={**series_form(noah, 2), "decision": "create"})
    last = db.session.scalars(
        select(Appointment).where(Appointment.series_id.is_not(None)).order_by(Appointment.starts_at)
    ).all()[-1]

    moved = admin_client.post(
        "/admin/series/occurrence/move/",
        data={"id": str(last.id), "new_start": "2027-01-05 10:00", "scope": "one"},
        follow_redirects=True,
    )

    assert "1 appointment moved." in flashed(moved)
    assert warnings(moved) == ["No open authorization from ICBC covers 2027-01-05 for Noah Singh."]
    db.session.expire_all()
    assert last.participants[0].authorization_id is None


def test_the_series_figures_cost_the_same_queries_for_few_or_many_dates(noah):
    def starts(count):
        return [dt.datetime(2026, 10, 20, 17, tzinfo=dt.UTC) + dt.timedelta(weeks=n) for n in range(count)]

    booking.series_outlooks(db.session, client_ids=[noah.client.id], starts=starts(1))  # the session's first reads
    with counted_queries() as few:
        booking.series_outlooks(db.session, client_ids=[noah.client.id], starts=starts(2))
    with counted_queries() as many:
        outlooks = booking.series_outlooks(db.session, client_ids=[noah.client.id], starts=starts(12))

    assert len(few) == len(many)
    assert [outlook.beyond for outlook in outlooks] == [False] * 4 + [True] * 8
    ids = db.session.scalars(select(Appointment.id)).all()
    with counted_queries() as two:
        booking.booking_warnings(db.session, ids[:2])
    with counted_queries() as all_six:
        booking.booking_warnings(db.session, ids)
    assert len(two) == len(all_six)


# --- the staff's choice on the participant -----------------------------------------------------


def authorization_select(response) -> str:
    return re.search(r'<select[^>]*id="authorization".*?</select>', body(response), re.S).group(0)


def chosen(response) -> str:
    return re.search(r'<option selected[^>]*value="([^"]*)"', authorization_select(response)).group(1)


def test_staff_choose_an_authorization_on_the_participant_and_give_the_choice_back(admin_client, noah):
    later = make_authorization(noah.client, noah.payer, 5, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="456")
    someone_else = make_authorization(
        make_client(noah.therapist, full_name="Ava Brown"), noah.payer, 5, dt.date(2026, 9, 1), dt.date(2026, 12, 31)
    )
    appointment = book(noah.therapist, [noah.client], dt.datetime(2026, 10, 20, 10), attendance=Attendance.EXPECTED)
    db.session.commit()
    participant = appointment.participants[0]
    assert participant.authorization_id == noah.authorization.id  # the rule: the earliest to end, with room
    url = f"/admin/participant/edit/?id={participant.id}"

    page = admin_client.get(url)
    assert chosen(page) == "__None"  # the rule's pick is not a staff choice
    options = dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', authorization_select(page)))
    assert options == {
        "__None": "Automatic",
        str(later.id): "ICBC 456 (2026-10-01 – 2027-03-31)",
        str(noah.authorization.id): "ICBC 123 (2026-09-01 – 2026-12-31)",
    }
    assert str(someone_else.id) not in options
    form = {
        "attendance": "expected",
        "cancelled_by": "__None",
        "cancellation_reason": "",
        "fee": "150.00",
        "currency": "PEN",
        "billed_to": "payer",
        "payer": str(noah.payer.id),
    }

    admin_client.post(url, data={**form, "authorization": str(later.id)}, follow_redirects=True)
    db.session.expire_all()
    assert (participant.authorization_id, participant.authorization_chosen) == (later.id, True)
    assert chosen(admin_client.get(url)) == str(later.id)  # the choice is shown as kept

    admin_client.post(url, data={**form, "authorization": "__None"}, follow_redirects=True)
    db.session.expire_all()
    assert (participant.authorization_id, participant.authorization_chosen) == (noah.authorization.id, False)

    refused = admin_client.post(url, data={**form, "authorization": str(someone_else.id)})
    db.session.expire_all()
    assert "Not a valid choice" in body(refused)
    assert participant.authorization_id == noah.authorization.id


def test_the_participants_list_shows_the_authorization_in_constant_queries(admin_client, noah):
    admin_client.get("/admin/participant/")
    with counted_queries() as six:
        page = admin_client.get("/admin/participant/")
    booked(noah.therapist, noah.client, [dt.date(2026, 11, d) for d in (3, 10, 17)], Attendance.EXPECTED)
    db.session.commit()
    with counted_queries() as nine:
        admin_client.get("/admin/participant/")

    assert "ICBC 123" in text_of(body(page))
    assert len(six) == len(nine)


def test_a_choice_that_goes_beyond_is_saved_with_a_warning_on_the_participant_screen(admin_client, noah):
    """ICBC S-1 approves 1 session: choosing it for two participants takes 2 of 1."""
    small = make_authorization(noah.client, noah.payer, 1, dt.date(2026, 10, 1), dt.date(2027, 3, 31), reference="S-1")
    first, second = (
        book(noah.therapist, [noah.client], dt.datetime(2026, 10, day, 10), attendance=Attendance.EXPECTED)
        .participants[0]
        .id
        for day in (20, 27)
    )
    db.session.commit()
    form = {
        "attendance": "expected",
        "cancelled_by": "__None",
        "cancellation_reason": "",
        "fee": "150.00",
        "currency": "PEN",
        "billed_to": "payer",
        "payer": str(noah.payer.id),
        "authorization": str(small.id),
    }

    once = admin_client.post(f"/admin/participant/edit/?id={first}", data=form, follow_redirects=True)
    twice = admin_client.post(f"/admin/participant/edit/?id={second}", data=form, follow_redirects=True)

    assert warnings(once) == []
    assert warnings(twice) == [
        "Authorization ICBC S-1 (Noah Singh): 1 session approved, 2 booked or used: 1 beyond what is approved."
    ]
