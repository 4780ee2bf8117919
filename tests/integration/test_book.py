"""The appointment book: the staff's home, in clinic time, with a query count that stays flat."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Appointment, Attendance, ClientLink, LinkKind, Modality
from tests.factories import make_appointment, make_client, make_site, make_therapist
from tests.pages import body, flashed
from tests.queries import counted_queries

LIMA = dt.timezone(dt.timedelta(hours=-5))


def lima(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LIMA)


def entries(response) -> list[str]:
    """The text of each appointment shown in the book, in page order."""
    blocks = re.findall(r'<div class="book-entry[^"]*"[^>]*>(.*?)</div>', body(response), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", block).split()) for block in blocks]


def tag(page: str, element_id: str) -> str:
    """The opening tag of the element with that id."""
    return re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', page).group(0)


def test_the_appointment_book_is_one_click_from_the_staff_home(admin_client):
    home = admin_client.get("/", follow_redirects=True)
    assert home.request.path == "/admin/"

    response = admin_client.get(re.search(r'id="open-book" href="([^"]+)"', body(home)).group(1))

    assert response.request.path == "/admin/book/"
    assert "Times in clinic time (America/Lima)." in body(response)


def test_the_week_shows_each_appointment_in_clinic_time_with_clients_and_attendance(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    make_appointment(rosa, ana, lima(2026, 10, 14, 9, 0), attendance=Attendance.NO_SHOW)
    db.session.commit()

    response = admin_client.get("/admin/book/?view=week&date=2026-10-14")

    assert entries(response) == ["09:00–09:50 Rosa Mendoza Ana Quispe No-show · Virtual"]
    assert "Mon 12 Oct 2026 – Sun 18 Oct 2026" in body(response)


def test_an_appointment_at_2330_on_the_last_day_belongs_to_that_day_and_month(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    make_appointment(rosa, ana, lima(2026, 10, 31, 23, 30))  # 04:30 UTC on 1 November
    db.session.commit()

    october = admin_client.get("/admin/book/?view=month&date=2026-10-01")
    november = admin_client.get("/admin/book/?view=month&date=2026-11-01")
    last_day = admin_client.get("/admin/book/?view=day&date=2026-10-31")

    assert entries(october) == ["23:30–00:20 Rosa Mendoza Ana Quispe Attended · Virtual"]
    assert entries(november) == []
    assert len(entries(last_day)) == 1


def test_filters_by_therapist_modality_site_and_client(admin_client):
    site = make_site("Miraflores", rooms=("Room 1",))
    rosa = make_therapist(full_name="Rosa Mendoza", site_id=site.id)
    luis = make_therapist(full_name="Luis Soto")
    ana = make_client(rosa, full_name="Ana Quispe")
    beto = make_client(luis, full_name="Beto Ruiz")
    make_appointment(rosa, ana, lima(2026, 10, 14, 9, 0))
    make_appointment(luis, beto, lima(2026, 10, 14, 10, 0), modality=Modality.ON_SITE, room=site.rooms[0])
    db.session.commit()
    week = "/admin/book/?view=week&date=2026-10-14"

    assert [e.split()[1] for e in entries(admin_client.get(f"{week}&therapist={rosa.id}"))] == ["Rosa"]
    assert [e.split()[1] for e in entries(admin_client.get(f"{week}&modality=on_site"))] == ["Luis"]
    assert [e.split()[1] for e in entries(admin_client.get(f"{week}&client={beto.id}"))] == ["Luis"]
    # The site: Luis's on-site session in its room, and Rosa's virtual one (her home site).
    assert len(entries(admin_client.get(f"{week}&site={site.id}"))) == 2


def test_a_wrong_date_is_explained_not_a_crash(admin_client):
    response = admin_client.get("/admin/book/?view=month&date=2026-13-45")

    assert response.status_code == 200
    assert "Date: expected a date as YYYY-MM-DD, got 2026-13-45" in flashed(response)


def test_today_previous_and_next_are_one_click_away(admin_client):
    page = body(admin_client.get("/admin/book/?view=week&date=2026-10-14"))

    assert 'href="/admin/book/?date=2026-10-05&amp;view=week"' in page
    assert 'href="/admin/book/?date=2026-10-19&amp;view=week"' in page
    assert ">Today</a>" in page


# Thursday 3 December in Lima: its week began on Monday 30 November, in the month before.
@pytest.mark.parametrize("clock", ["2026-12-03T15:00Z"], indirect=True)
def test_the_month_view_from_this_week_is_this_month_with_today_marked(admin_client):
    week = body(admin_client.get("/admin/book/"))
    month_link = re.search(r'href="([^"]*view=month[^"]*)"', week).group(1).replace("&amp;", "&")

    month = body(admin_client.get(month_link))

    heading = " ".join(re.search(r'<strong class="mb-2">(.*?)</strong>', month, re.S).group(1).split())
    assert heading == "Tue 1 Dec 2026 – Thu 31 Dec 2026"
    today = re.search(r'<td class="book-day today">\s*<a[^>]*>(\d+)</a>', month)
    assert today and today.group(1) == "3"


def test_the_query_count_does_not_grow_with_the_appointments_shown(admin_client):
    rosa = make_therapist()
    clients = [make_client(rosa) for _ in range(12)]
    make_appointment(rosa, clients[0], lima(2026, 10, 5, 8, 0))
    db.session.commit()
    with counted_queries() as few:
        assert len(entries(admin_client.get("/admin/book/?view=month&date=2026-10-01"))) == 1

    for day in range(6, 30):
        for hour, client in zip((8, 9, 10), clients[day % 4 * 3 :], strict=False):
            make_appointment(rosa, client, lima(2026, 10, day, hour, 0))
    db.session.commit()
    with counted_queries() as many:
        shown = admin_client.get("/admin/book/?view=week&date=2026-10-14")
    assert len(entries(shown)) == 21
    with counted_queries() as month_of_many:
        admin_client.get("/admin/book/?view=month&date=2026-10-01")

    assert len(many) == len(few) == len(month_of_many)


def test_a_therapist_cannot_open_the_staff_book(therapist_client):
    assert therapist_client.get("/admin/book/").status_code == 403


def test_booking_defaults_give_the_clients_therapist_fee_currency_linked_clients_and_rooms(admin_client):
    site = make_site("Miraflores", rooms=("Room 2", "Room 1"))
    rosa = make_therapist(
        full_name="Rosa Mendoza", default_fee=Decimal("80.00"), default_currency="USD", site_id=site.id
    )
    ana = make_client(rosa, full_name="Ana Quispe")
    luis = make_client(full_name="Luis Quispe")
    mama = make_client(full_name="Carmen Rojas")
    db.session.add_all(
        [
            ClientLink(client=ana, related_client=luis, kind=LinkKind.PARTNER_OF),
            ClientLink(client=mama, related_client=ana, kind=LinkKind.GUARDIAN_OF),
        ]
    )
    db.session.commit()

    defaults = admin_client.get(f"/admin/book/ajax/booking-defaults/?client={ana.id}").get_json()

    assert defaults == {
        "participants": [{"payer": None, "authorization": None}],  # she pays herself
        "therapist": {"id": rosa.id, "text": "Rosa Mendoza"},
        "fee": "80.00",
        "currency": "USD",
        "linked": [
            {"id": mama.id, "text": "Carmen Rojas", "relation": "guardian of"},
            {"id": luis.id, "text": "Luis Quispe", "relation": "partner of"},
        ],
        "rooms": [room.id for room in sorted(site.rooms, key=lambda room: room.name)],
        "kind": "individual",
        "fees": ["80.00"],
        "split": None,
    }
    assert admin_client.get("/admin/book/ajax/booking-defaults/?client=999999").status_code == 404


def test_a_new_appointment_from_the_clients_page_is_prefilled(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza", default_fee=Decimal("80.00"), default_currency="USD")
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.commit()

    details = body(admin_client.get(f"/admin/client/details/?id={ana.id}"))
    link = re.search(r'id="book-client"\s+href="([^"]+)"', details).group(1).replace("&amp;", "&")
    form = body(admin_client.get(link))

    assert "Rosa Mendoza" in tag(form, "therapist")
    assert "Ana Quispe" in tag(form, "participants-0-client")
    fee = tag(form, "participants-0-fee")
    assert 'value="80.00"' in fee
    assert 'data-auto="80.00"' in fee  # filled in, not typed: a partner joining may change it
    assert "required" not in fee  # empty is allowed: the participant's share of the fee
    assert '<option selected value="USD">USD</option>' in form
    assert 'value="50"' in tag(form, "duration_minutes")


def test_the_duration_sets_the_end_when_no_end_is_typed(admin_client):
    rosa = make_therapist()
    ana = make_client(rosa)
    db.session.commit()

    admin_client.post(
        "/admin/appointment/new/",
        data={
            "therapist": str(rosa.id),
            "starts_at": "2026-12-10 18:30",
            "duration_minutes": "90",
            "ends_at": "",
            "kind": "individual",
            "modality": "virtual",
            "status": "scheduled",
            "participants-0-client": str(ana.id),
            "participants-0-attendance": "expected",
            "participants-0-fee": "150.00",
            "participants-0-currency": "PEN",
            "participants-0-billed_to": "client",
        },
    )

    appointment = db.session.scalar(select(Appointment))
    assert (appointment.ends_at - appointment.starts_at) == dt.timedelta(minutes=90)


def test_an_opened_appointment_shows_fees_and_its_history(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    appointment = make_appointment(rosa, ana, lima(2026, 10, 14, 9, 0), attendance=Attendance.EXPECTED)
    db.session.commit()
    participant = appointment.participants[0]
    admin_client.post(
        f"/admin/participant/edit/?id={participant.id}",
        data={"attendance": "no_show", "fee": "150.00", "currency": "PEN", "billed_to": "client", "payer": "__None"},
    )

    page = body(admin_client.get(f"/admin/appointment/details/?id={appointment.id}"))

    assert "Ana Quispe · No-show · PEN\xa0150.00" in page
    history = re.search(r"<b>History</b>\s*</td>\s*<td>(.*?)</td>", page, re.S).group(1)
    assert "staff@example.com · Changed · Participant (Attendance)" in history


def test_a_bad_date_is_reported_escaped(admin_client):
    page = admin_client.get("/admin/book/?date=<script>alert(1)</script>").get_data(as_text=True)

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
