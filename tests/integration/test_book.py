"""The appointment book: the staff's home, in clinic time, with a query count that stays flat."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    ClientLink,
    LinkKind,
    Modality,
    Therapist,
)
from tests.factories import book, make_appointment, make_client, make_room, make_site, make_therapist
from tests.pages import body, flashed, select_options, text_of
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


def test_a_couples_session_shows_both_clients_in_the_order_added_its_room_and_a_link_to_it(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    zoe, ana = make_client(rosa, full_name="Zoe Vargas"), make_client(rosa, full_name="Ana Quispe")
    couple = book(rosa, [zoe, ana], lima(2026, 10, 14, 17, 0), kind=AppointmentKind.COUPLE, room=make_room("Sala 2"))
    couple.participants[1].attendance = Attendance.NO_SHOW
    db.session.commit()
    shown = "17:00–17:50 Rosa Mendoza Zoe Vargas Attended , Ana Quispe No-show · On-site · Sala 2"

    for view in ("week", "month"):
        response = admin_client.get(f"/admin/book/?view={view}&date=2026-10-14")

        assert entries(response) == [shown]
        link = re.search(rf'data-appointment="{couple.id}">\s*<a href="([^"]+)"', body(response)).group(1)
        assert "Zoe Vargas" in body(admin_client.get(html.unescape(link)))


def test_the_query_count_does_not_grow_with_the_appointments_or_the_therapists(admin_client):
    rosa = make_therapist()
    make_appointment(rosa, make_client(rosa), lima(2026, 10, 14, 7, 0))
    db.session.commit()
    views = {view: f"/admin/book/?view={view}&date=2026-10-14" for view in ("day", "week", "month")}
    few = {}
    for view, url in views.items():
        with counted_queries() as few[view]:
            assert len(entries(admin_client.get(url))) == 1

    for therapist in [rosa, *(make_therapist() for _ in range(5))]:
        clients = [make_client(therapist) for _ in range(3)]
        for day in range(6, 30):
            for hour, client in zip((8, 9, 10), clients, strict=True):
                make_appointment(therapist, client, lima(2026, 10, day, hour, 0))
    db.session.commit()
    many, shown = {}, {}
    for view, url in views.items():
        with counted_queries() as many[view]:
            shown[view] = len(entries(admin_client.get(url)))

    assert shown == {"day": 19, "week": 127, "month": 5 * 24}
    assert {view: len(queries) for view, queries in many.items()} == {view: len(q) for view, q in few.items()}


def month_cells(response) -> dict[int, tuple[list[str], tuple[str, str] | None]]:
    """Each day of the month view: the appointments it shows and its "more" link (text, href), if any."""
    cells = {}
    for cell in re.findall(r'<td class="book-day(?! other-month)[^"]*">(.*?)</td>', body(response), re.S):
        number = int(re.search(r">(\d+)</a>", cell).group(1))
        blocks = re.findall(r'<div class="book-entry[^"]*"[^>]*>(.*?)</div>', cell, re.S)
        more = re.search(r'<a class="small" href="([^"]+)">(.*?)</a>', cell, re.S)
        shown = [" ".join(re.sub(r"<[^>]+>", " ", block).split()) for block in blocks]
        cells[number] = (shown, (text_of(more.group(2)), html.unescape(more.group(1))) if more else None)
    return cells


def test_a_month_day_shows_its_first_five_and_links_to_the_rest_across_daylight_saving(admin_client, monkeypatch):
    monkeypatch.setitem(admin_client.application.config, "CLINIC_TIMEZONE", "America/Vancouver")
    lena = make_therapist(full_name="Lena Park")
    ana = make_client(lena, full_name="Ana Lee")
    vancouver = ZoneInfo("America/Vancouver")
    # Sunday 8 March 2026 has 23 hours (02:00 → 03:00): seven sessions, the last at 22:30 (05:30 UTC on the 9th).
    for hour in (8, 9, 10, 11, 12, 13, 22):
        make_appointment(lena, ana, dt.datetime(2026, 3, 8, hour, 30, tzinfo=vancouver))
    # 00:15 on the 9th is 07:15 UTC: within 24 hours of the 8th's midnight, yet the 9th's.
    make_appointment(lena, ana, dt.datetime(2026, 3, 9, 0, 15, tzinfo=vancouver), status=AppointmentStatus.CANCELLED)
    db.session.commit()

    cells = month_cells(admin_client.get("/admin/book/?view=month&date=2026-03-01"))

    shown, more = cells[8]
    assert [entry.split()[0] for entry in shown] == [
        "08:30–09:20",
        "09:30–10:20",
        "10:30–11:20",
        "11:30–12:20",
        "12:30–13:20",
    ]
    assert more == ("2 more", "/admin/book/?date=2026-03-08&view=day")
    assert [entry.split()[0] for entry in cells[9][0]] == ["00:15–01:05"] and cells[9][1] is None
    assert all(cells[n] == ([], None) for n in cells if n not in (8, 9))
    day = admin_client.get(more[1])
    assert len(entries(day)) == 7


@pytest.fixture
def network():
    """A network of 31 active therapists over two sites, Rosa at Miraflores with one appointment."""
    miraflores, barranco = make_site("Miraflores"), make_site("Barranco")
    rosa = make_therapist(full_name="Rosa Mendoza", site_id=miraflores.id)
    for number in range(30):
        make_therapist(site_id=(miraflores, barranco)[number % 2].id)
    make_appointment(rosa, make_client(rosa, full_name="Ana Quispe"), lima(2026, 10, 14, 9, 0))
    db.session.commit()
    return {"miraflores": miraflores, "barranco": barranco, "rosa": rosa}


def test_a_large_practice_opens_its_book_on_its_first_site(admin_client, network):
    response = admin_client.get("/admin/book/?view=week&date=2026-10-14")

    assert response.status_code == 302
    assert response.location == f"/admin/book/?view=week&date=2026-10-14&site={network['barranco'].id}"
    page = admin_client.get(response.location)
    assert entries(page) == []  # Rosa works at Miraflores
    assert re.search(rf'<option selected value="{network["barranco"].id}">Barranco</option>', body(page))


def test_the_day_of_all_therapists_of_a_large_practice_asks_for_a_site(admin_client, network):
    day = admin_client.get("/admin/book/?view=day&date=2026-10-14&site=")

    page = body(day)
    assert "The practice has 31 active therapists, too many to read at once: choose a site or a therapist." in page
    assert 'id="day-grid"' not in page
    choice = re.search(r'id="choose-site">(.*?)</div>', page, re.S).group(1)
    links = {
        text_of(name): html.unescape(href) for href, name in re.findall(r'<a [^>]*href="([^"]+)">(.*?)</a>', choice)
    }
    assert links["Miraflores"] == f"/admin/book/?site={network['miraflores'].id}&view=day&date=2026-10-14"
    assert entries(admin_client.get(links["Miraflores"])) == ["09:00–09:50 Rosa Mendoza Ana Quispe Attended · Virtual"]
    assert entries(admin_client.get(f"/admin/book/?view=day&date=2026-10-14&therapist={network['rosa'].id}"))
    assert len(entries(admin_client.get("/admin/book/?view=month&date=2026-10-14"))) == 1


def week_rows(response) -> dict[str, dict[str, list[str]]]:
    """The week of a large practice: each therapist's row, by the day's heading, the appointments' text."""
    page = body(response)
    table = re.search(r'<table [^>]*id="week-by-therapist">(.*?)</table>', page, re.S).group(1)
    days = [text_of(cell) for cell in re.findall(r"<thead>.*?</thead>", table, re.S)[0].split("</th>")[1:-1]]
    rows = {}
    for name, cells in re.findall(r'<th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', table, re.S):
        texts = [
            [
                " ".join(re.sub(r"<[^>]+>", " ", block).split())
                for block in re.findall(r"<div[^>]*>(.*?)</div>", cell, re.S)
            ]
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        ]
        rows[text_of(name)] = {day: shown for day, shown in zip(days, texts, strict=True) if shown}
    return rows


def test_the_week_of_a_large_practice_is_a_row_per_therapist_a_page_at_a_time(admin_client, network):
    everyone = admin_client.get("/admin/book/?view=week&date=2026-10-14&site=")

    rows = week_rows(everyone)
    assert len(rows) == 20 and list(rows)[0] == "Rosa Mendoza"  # by name: Rosa before "Therapist n"
    assert rows["Rosa Mendoza"] == {"Wed 14 Oct 2026": ["09:00–09:50 Ana Quispe Attended · Virtual"]}
    assert "Therapists 1–20 of 31, by name." in text_of(body(everyone))
    assert "Page 1 of 2" in text_of(body(everyone))
    second = admin_client.get(html.unescape(re.search(r'id="next-page" href="([^"]+)"', body(everyone)).group(1)))
    assert len(week_rows(second)) == 11 and "Rosa Mendoza" not in week_rows(second)
    assert "Therapists 21–31 of 31, by name." in text_of(body(second))
    # The next week keeps the page of therapists; a therapist's name opens their own week.
    next_week = re.search(r'href="([^"]*date=2026-10-19[^"]*)"[^>]*>Next', body(second)).group(1)
    assert parse_qs(urlsplit(html.unescape(next_week)).query)["page"] == ["1"]
    rosa = re.search(r'<th scope="row"[^>]*><a [^>]*href="([^"]+)"', body(everyone)).group(1)
    assert parse_qs(urlsplit(html.unescape(rosa)).query)["therapist"] == [str(network["rosa"].id)]
    assert entries(admin_client.get(html.unescape(rosa))) == ["09:00–09:50 Rosa Mendoza Ana Quispe Attended · Virtual"]


def test_a_sites_week_has_its_therapists_and_whoever_is_booked_in_its_rooms(admin_client, network):
    miraflores, barranco = network["miraflores"], network["barranco"]
    luis = make_therapist(full_name="Luis Soto", site_id=barranco.id)
    make_appointment(luis, make_client(luis, full_name="Eva Ríos"), lima(2026, 10, 16, 18, 0), room=miraflores.rooms[0])
    db.session.commit()

    rows = week_rows(admin_client.get(f"/admin/book/?view=week&date=2026-10-14&site={miraflores.id}"))

    assert len(rows) == 17  # Rosa, the 15 others at home there, and Luis, from Barranco
    assert rows["Luis Soto"] == {"Fri 16 Oct 2026": ["18:00–18:50 Eva Ríos Attended · On-site · Room 1"]}
    assert rows["Rosa Mendoza"] == {"Wed 14 Oct 2026": ["09:00–09:50 Ana Quispe Attended · Virtual"]}
    assert not any(shown for name, shown in rows.items() if name not in ("Luis Soto", "Rosa Mendoza"))
    barranco_rows = week_rows(admin_client.get(f"/admin/book/?view=week&date=2026-10-14&site={barranco.id}"))
    assert len(barranco_rows) == 16 and barranco_rows["Luis Soto"] == {}


def test_the_week_of_a_large_practice_costs_the_same_queries_for_one_appointment_or_hundreds(admin_client, network):
    url = "/admin/book/?view=week&date=2026-10-14&site="
    with counted_queries() as few:
        assert sum(len(days) for days in week_rows(admin_client.get(url)).values()) == 1

    therapists = db.session.scalars(select(Therapist).order_by(Therapist.full_name).limit(20)).all()
    for therapist in therapists:
        client = make_client(therapist)
        for day in range(12, 19):
            for hour in (8, 10, 12):
                make_appointment(therapist, client, lima(2026, 10, day, hour, 0))
    db.session.commit()
    with counted_queries() as many:
        rows = week_rows(admin_client.get(url))

    assert sum(len(shown) for days in rows.values() for shown in days.values()) == 20 * 7 * 3 + 1
    assert len(many) == len(few)


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


# --- the day: a column per therapist -----------------------------------------------------------


def day_grid(response) -> dict:
    """The day's grid as a reader sees it: `columns` (therapists' names), `times` (each row's time),
    and `cells[(name, time)]` with the cell's text and its booking link (href, accessible name) or None."""
    page = body(response)
    table = re.search(r'<table[^>]*id="day-grid"[^>]*>(.*?)</table>', page, re.S).group(1)
    head, rows = table.split("</thead>")
    headers = re.findall(r"<th[^>]*data-therapist[^>]*>(.*?)</th>", head, re.S)
    columns = [text_of(re.sub(r"<a .*?</a>", "", header, flags=re.S)) for header in headers]  # not the ×
    times, cells = [], {}
    for row in re.findall(r"<tr>(.*?)</tr>", rows, re.S):
        time = text_of(re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S).group(1))
        times.append(time)
        for name, cell in zip(columns, re.findall(r"<td[^>]*>(.*?)</td>", row, re.S), strict=True):
            link = re.search(r'<a class="book-slot" href="([^"]+)">.*?<span class="sr-only">(.*?)</span>', cell, re.S)
            text = text_of(
                re.sub(r'<span class="sr-only">.*?</span>|<a class="book-slot".*?</a>', "", cell, flags=re.S)
            )
            cells[name, time] = (text, (html.unescape(link.group(1)), link.group(2)) if link else None)
    return {"columns": columns, "times": times, "cells": cells}


@pytest.fixture
def wednesday():
    """Wednesday 14 October 2026 in Lima: Rosa at 09:00 and Luis at 10:30; Carmen has no appointment."""
    site = make_site("Miraflores", rooms=("Room 1",))
    rosa = make_therapist(full_name="Rosa Mendoza", site_id=site.id)
    luis = make_therapist(full_name="Luis Soto")
    carmen = make_therapist(full_name="Carmen Cáceres", site_id=site.id)
    make_therapist(full_name="Pedro Gone", active=False)
    make_appointment(rosa, make_client(rosa, full_name="Ana Quispe"), lima(2026, 10, 14, 9, 0))
    make_appointment(luis, make_client(luis, full_name="Beto Ruiz"), lima(2026, 10, 14, 10, 30))
    db.session.commit()
    return {"site": site, "rosa": rosa, "luis": luis, "carmen": carmen}


def test_the_day_has_a_column_per_therapist_with_appointments_and_half_hour_rows(admin_client, wednesday):
    grid = day_grid(admin_client.get("/admin/book/?view=day&date=2026-10-14"))

    assert grid["columns"] == ["Luis Soto", "Rosa Mendoza"]  # Carmen has nothing that day
    assert grid["times"][0] == "08:00" and grid["times"][-1] == "19:30" and len(grid["times"]) == 24
    text, link = grid["cells"]["Rosa Mendoza", "09:00"]
    assert text == "09:00–09:50 Rosa Mendoza Ana Quispe Attended · Virtual" and link is None
    assert grid["cells"]["Rosa Mendoza", "09:30"] == ("", None)  # still her session: not bookable
    assert grid["cells"]["Luis Soto", "10:30"][0].startswith("10:30–11:20 Luis Soto Beto Ruiz")


def test_an_empty_slot_links_to_a_new_appointment_for_that_therapist_and_time_back_to_the_day(admin_client, wednesday):
    rosa = wednesday["rosa"]
    grid = day_grid(admin_client.get("/admin/book/?view=day&date=2026-10-14"))

    href, name = grid["cells"]["Rosa Mendoza", "10:00"][1]
    assert name == "Book Rosa Mendoza at 10:00"
    link = urlsplit(href)
    assert link.path == "/admin/appointment/new/"
    assert parse_qs(link.query) == {
        "therapist": [str(rosa.id)],
        "starts_at": ["2026-10-14T10:00"],
        "url": ["/admin/book/?view=day&date=2026-10-14"],
    }
    assert admin_client.get(href).status_code == 200
    back = admin_client.get(parse_qs(link.query)["url"][0])
    assert day_grid(back)["columns"] == ["Luis Soto", "Rosa Mendoza"]


def test_a_cancelled_appointment_leaves_its_slot_bookable(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    appointment = make_appointment(rosa, make_client(rosa, full_name="Ana Quispe"), lima(2026, 10, 14, 9, 0))
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()

    text, link = day_grid(admin_client.get("/admin/book/?view=day&date=2026-10-14"))["cells"]["Rosa Mendoza", "09:00"]

    assert text.startswith("09:00–09:50 Rosa Mendoza Ana Quispe")
    assert link[1] == "Book Rosa Mendoza at 09:00"


def test_the_staff_add_a_therapists_column_and_take_it_away(admin_client, wednesday):
    carmen = wednesday["carmen"]
    day = "/admin/book/?view=day&date=2026-10-14"
    offered = dict((name, value) for value, name in select_options(admin_client.get(day), "add-column-therapist"))
    assert set(offered) == {"Carmen Cáceres"}  # those shown are not offered again, nor who has left

    with_carmen = admin_client.get(f"{day}&col={offered['Carmen Cáceres']}")

    grid = day_grid(with_carmen)
    assert grid["columns"] == ["Carmen Cáceres", "Luis Soto", "Rosa Mendoza"]
    assert grid["cells"]["Carmen Cáceres", "08:00"][1][1] == "Book Carmen Cáceres at 08:00"
    assert 'id="add-column"' not in body(with_carmen)  # everybody is shown: nobody left to add
    # The column stays through the next day and the filters, and its × takes it away.
    next_day = re.search(r'href="([^"]*date=2026-10-15[^"]*)"', body(with_carmen)).group(1)
    assert f"col={carmen.id}" in next_day
    remove = re.search(
        r'<a class="small ml-1" href="([^"]+)"\s+aria-label="Remove the column of Carmen', body(with_carmen)
    )
    assert day_grid(admin_client.get(html.unescape(remove.group(1))))["columns"] == ["Luis Soto", "Rosa Mendoza"]


def test_the_site_filter_shows_its_therapists_and_the_therapist_filter_one_column(admin_client, wednesday):
    day = "/admin/book/?view=day&date=2026-10-14"
    site, rosa = wednesday["site"], wednesday["rosa"]

    # Rosa's virtual session counts at her home site; Carmen works there, with nothing booked yet.
    assert day_grid(admin_client.get(f"{day}&site={site.id}"))["columns"] == ["Carmen Cáceres", "Rosa Mendoza"]
    assert day_grid(admin_client.get(f"{day}&therapist={wednesday['carmen'].id}"))["columns"] == ["Carmen Cáceres"]
    only_rosa = admin_client.get(f"{day}&therapist={rosa.id}&col={wednesday['luis'].id}")
    assert day_grid(only_rosa)["columns"] == ["Rosa Mendoza"]  # the filter wins over an added column
    assert 'id="add-column"' not in body(only_rosa)


def test_a_large_sites_day_is_a_page_of_therapists_and_an_added_column_joins_it(admin_client, network):
    miraflores = network["miraflores"]
    for number in range(10):
        make_therapist(full_name=f"Zoe {number:02}", site_id=miraflores.id)
    db.session.commit()
    day = f"/admin/book/?view=day&date=2026-10-14&site={miraflores.id}"

    first = admin_client.get(day)

    grid = day_grid(first)
    assert len(grid["columns"]) == 10 and grid["columns"][0] == "Rosa Mendoza"
    assert grid["cells"]["Rosa Mendoza", "09:00"][0].startswith("09:00–09:50 Rosa Mendoza Ana Quispe")
    assert "Therapists 1–10 of 26, by name." in text_of(body(first))
    second = admin_client.get(html.unescape(re.search(r'id="next-page" href="([^"]+)"', body(first)).group(1)))
    assert day_grid(second)["columns"][-4:] == ["Zoe 00", "Zoe 01", "Zoe 02", "Zoe 03"]
    last = admin_client.get(f"{day}&page=2")
    assert day_grid(last)["columns"] == [f"Zoe {number:02}" for number in range(4, 10)]
    assert "Therapists 21–26 of 26, by name." in text_of(body(last))
    # Booking from a slot of the last page comes back to it, and so does the next day.
    back = parse_qs(urlsplit(day_grid(last)["cells"]["Zoe 04", "08:00"][1][0]).query)["url"][0]
    assert parse_qs(urlsplit(back).query)["page"] == ["2"]
    next_day = re.search(r'href="([^"]*date=2026-10-15[^"]*)"[^>]*>Next', body(last)).group(1)
    assert parse_qs(urlsplit(html.unescape(next_day)).query)["page"] == ["2"]
    # Rosa, added as a column on the last page, is shown there beside the page's own.
    with_rosa = f"{day}&page=2&col={network['rosa'].id}"
    assert day_grid(admin_client.get(with_rosa))["columns"] == ["Rosa Mendoza"] + [f"Zoe {n:02}" for n in range(4, 10)]


def test_a_large_sites_day_costs_the_same_queries_for_one_appointment_or_hundreds(admin_client, network):
    url = f"/admin/book/?view=day&date=2026-10-14&site={network['miraflores'].id}"
    with counted_queries() as few:
        assert day_grid(admin_client.get(url))["cells"]["Rosa Mendoza", "09:00"][0]

    therapists = db.session.scalars(select(Therapist).where(Therapist.site_id == network["miraflores"].id)).all()
    for therapist in therapists:
        client = make_client(therapist)
        for hour in (8, 10, 12, 14, 16):
            make_appointment(therapist, client, lima(2026, 10, 14, hour, 0))
    db.session.commit()
    with counted_queries() as many:
        grid = day_grid(admin_client.get(url))

    assert sum(1 for text, _link in grid["cells"].values() if text) == 10 * 5 + 1  # the first page's 10
    assert len(many) == len(few)


def test_a_day_with_nobody_booked_says_how_to_book(admin_client):
    make_therapist(full_name="Rosa Mendoza")
    db.session.commit()

    page = body(admin_client.get("/admin/book/?view=day&date=2026-10-14&col=abc&therapist=x"))

    assert "No appointments this day. Add a therapist's column to book one." in page
    assert 'id="day-grid"' not in page
    assert select_options(page, "add-column-therapist")[0][1] == "Rosa Mendoza"  # "x" names no therapist


def test_the_grid_widens_for_an_early_or_late_appointment(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa, full_name="Ana Quispe")
    make_appointment(rosa, ana, lima(2026, 10, 14, 7, 15))
    make_appointment(rosa, ana, lima(2026, 10, 14, 20, 30))  # until 21:20
    db.session.commit()

    times = day_grid(admin_client.get("/admin/book/?view=day&date=2026-10-14"))["times"]

    assert (times[0], times[-1]) == ("07:00", "21:00")


def test_a_day_the_clocks_skip_an_hour_has_no_row_for_it(admin_client, monkeypatch):
    monkeypatch.setitem(admin_client.application.config, "CLINIC_TIMEZONE", "America/Vancouver")
    lena = make_therapist(full_name="Lena Park")
    early = dt.datetime(2026, 3, 8, 1, 0, tzinfo=ZoneInfo("America/Vancouver"))  # the clocks go 02:00 → 03:00
    make_appointment(lena, make_client(lena), early)
    db.session.commit()

    times = day_grid(admin_client.get("/admin/book/?view=day&date=2026-03-08"))["times"]

    assert times[:4] == ["01:00", "01:30", "03:00", "03:30"]


def test_the_day_costs_the_same_queries_for_one_therapist_or_many(admin_client):
    rosa = make_therapist()
    make_appointment(rosa, make_client(rosa), lima(2026, 10, 14, 8, 0))
    db.session.commit()
    with counted_queries() as few:
        assert len(day_grid(admin_client.get("/admin/book/?view=day&date=2026-10-14"))["columns"]) == 1

    for hour in range(9, 19):
        therapist = make_therapist()
        make_appointment(therapist, make_client(therapist), lima(2026, 10, 14, hour, 0))
    db.session.commit()
    with counted_queries() as many:
        assert len(day_grid(admin_client.get("/admin/book/?view=day&date=2026-10-14"))["columns"]) == 11

    assert len(many) == len(few)


@pytest.mark.parametrize("view", ["day", "week", "month"])
@pytest.mark.parametrize("clock", ["2026-12-03T15:00Z"], indirect=True)
def test_today_goes_to_today_in_every_view(admin_client, view):
    page = body(admin_client.get(f"/admin/book/?view={view}&date=2026-02-11"))

    today = re.search(r'<a class="btn btn-outline-secondary btn-sm" href="([^"]+)">Today</a>', page).group(1)
    assert parse_qs(urlsplit(html.unescape(today)).query) == {"date": ["2026-12-03"], "view": [view]}


def test_a_booking_links_label_names_the_therapist_escaped_in_the_users_language(admin_client):
    """The label is translated once a page and filled cell by cell: a name is still escaped."""
    rosa = make_therapist(full_name="Rosa <b>Mendoza</b> & Co")
    make_appointment(rosa, make_client(rosa, full_name="Ana Quispe"), lima(2026, 10, 14, 9, 0))
    db.session.commit()
    day = "/admin/book/?view=day&date=2026-10-14"

    page = body(admin_client.get(day))
    assert '<span class="sr-only">Book Rosa &lt;b&gt;Mendoza&lt;/b&gt; &amp; Co at 10:00</span>' in page
    assert "<b>Mendoza</b>" not in page
    admin_client.post("/language", data={"locale": "es", "next": day})
    spanish = body(admin_client.get(day))
    assert "Reservar con Rosa &lt;b&gt;Mendoza&lt;/b&gt; &amp; Co a las 10:00" in spanish
