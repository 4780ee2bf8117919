"""Reports → Room use: the figures of test_room_use.py's practice as the staff read them, the
reservations under the threshold with their Release buttons, the chart's figures, and what a
wrong range says. Vancouver, the clock at 5 December 2026."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent, RoomReservation
from tests.pages import body, flashed, text_of
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T20:00Z"], indirect=True)
PAGE = "/admin/reports/room-use/"


def table_rows(response, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', body(response), re.S)
    assert table, f"no table {table_id}"
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]]


def low_marked(response, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', body(response), re.S)
    return [text_of(row) for row in re.findall(r'<tr class="table-warning low-use">(.*?)</tr>', table.group(1), re.S)]


def test_last_month_by_default_with_every_figure(practice, admin_client):
    """November, the month before 5 December; hours and use as test_room_use.py works them out."""
    with counted_queries() as queries:
        response = admin_client.get(PAGE)

    assert response.status_code == 200
    assert "Room use: November 2026" in text_of(body(response))
    assert table_rows(response, "sites-table") == [
        "Broadway 39.00 10.50 8.50 1.00 1.00 2.50 21.8% Low use",
        "Kitsilano 0.00 0.00 0.00 0.00 0.00 1.00 —",
    ]
    assert table_rows(response, "rooms-table") == [
        "Broadway A 30.00 8.50 6.50 1.00 1.00 1.50 21.7% Low use",
        "Broadway B 9.00 2.00 2.00 0.00 0.00 1.00 22.2% Low use",
        "Kitsilano 1 0.00 0.00 0.00 0.00 0.00 1.00 —",
    ]
    assert table_rows(response, "therapists-table") == [
        "Ana Ruiz 24.00 5.50 3.50 1.00 1.00 1.50 14.6% Low use",
        "Ben Cho 15.00 5.00 5.00 0.00 0.00 2.00 33.3% Low use",
    ]
    assert table_rows(response, "room-therapists-table") == [
        "Broadway A Ana Ruiz 15.00 3.50 1.50 1.00 1.00 0.50 10.0% Low use",
        "Broadway A Ben Cho 15.00 5.00 5.00 0.00 0.00 1.00 33.3% Low use",
        "Broadway B Ana Ruiz 9.00 2.00 2.00 0.00 0.00 1.00 22.2% Low use",
        "Kitsilano 1 Ben Cho 0.00 0.00 0.00 0.00 0.00 1.00 —",
    ]
    assert len(queries) <= 6, queries


def test_the_threshold_decides_what_is_marked(practice, admin_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ROOM_USE_LOW_PERCENT", 15)

    response = admin_client.get(f"{PAGE}?from=2026-11&to=2026-11")

    assert low_marked(response, "therapists-table") == ["Ana Ruiz 24.00 5.50 3.50 1.00 1.00 1.50 14.6% Low use"]
    assert [row.split(" 09:00")[0] for row in table_rows(response, "low-table")] == ["Ana Ruiz Broadway A Sunday"]


def test_reservations_under_the_threshold_over_eight_weeks_each_with_release(practice, admin_client):
    """10 Oct to 4 Dec: Ana's Sundays in A 2.50 of 21 h, Ben's Mondays in A 5 of 24 h; Ana's
    Mondays in B ended on 16 November, so there is nothing left to release."""
    response = admin_client.get(PAGE)

    assert "over the last 8 weeks (Thu 8 Oct 2026 – Fri 4 Dec 2026)" not in text_of(body(response))
    assert "(Sat 10 Oct 2026 – Fri 4 Dec 2026)" in text_of(body(response))
    assert table_rows(response, "low-table") == [
        "Ana Ruiz Broadway A Sunday 09:00–12:00 21.00 2.50 11.9% Release",
        "Ben Cho Broadway A Monday 09:00–12:00 24.00 5.00 20.8% Release",
    ]
    ana_sundays = db.session.scalar(
        select(RoomReservation.id).where(RoomReservation.therapist_id == practice.ana.id, RoomReservation.weekday == 7)
    )
    links = re.findall(r'href="([^"]*/admin/room_reservation/release/[^"]*)"', body(response))
    assert links[0].startswith(f"/admin/room_reservation/release/?id={ana_sundays}&amp;next=")
    release_url = links[0].replace("&amp;", "&")
    form = admin_client.get(release_url)
    assert "Ana Ruiz · Broadway · A · Sunday 09:00–12:00 · Sun 18 Oct 2026" in text_of(body(form))

    done = admin_client.post(release_url, data={"ends_on": "", "starts_time": "09:00", "ends_time": "10:30"})

    assert done.status_code == 302 and done.headers["Location"] == PAGE
    shown = [
        (r.starts_time.strftime("%H:%M"), r.ends_time.strftime("%H:%M"), str(r.valid_from), str(r.valid_until))
        for r in db.session.scalars(
            select(RoomReservation)
            .where(RoomReservation.therapist_id == practice.ana.id, RoomReservation.weekday == 7)
            .order_by(RoomReservation.valid_from)
        )
    ]
    assert shown == [("09:00", "12:00", "2026-10-18", "2026-12-04"), ("09:00", "10:30", "2026-12-05", "None")]


def test_a_range_charts_each_sites_use_per_month(practice, admin_client):
    """October: Broadway reserved Ana's 18 and 25 Oct (6 h) and Ben's four Mondays (12 h), used
    1 h (25 Oct): 1/18 = 0.056; November 0.218. Kitsilano reserved nothing: gaps, not zeros."""
    response = admin_client.get(f"{PAGE}?from=2026-10&to=2026-11")

    assert "Room use: October 2026 – November 2026" in text_of(body(response))
    figure = json.loads(
        re.search(r'<script type="application/json" id="figure-use">(.*?)</script>', body(response), re.S)[1]
    )
    assert [(trace["name"], trace["x"], trace["y"]) for trace in figure["data"]] == [
        ("Broadway", ["October 2026", "November 2026"], [0.056, 0.218]),
        ("Kitsilano", ["October 2026", "November 2026"], [None, None]),
    ]
    assert figure["layout"]["shapes"][0]["y0"] == 0.4
    assert table_rows(response, "sites-table")[0] == "Broadway 57.00 11.50 9.50 1.00 1.00 2.50 16.7% Low use"


def test_in_spanish_the_figures_read_as_spanish(practice, app, client):
    from tests.conftest import login
    from tests.factories import make_admin

    make_admin(email="sede@example.com", locale="es")
    db.session.commit()
    login(client, "sede@example.com")

    response = client.get(PAGE)

    page = text_of(body(response))
    assert "noviembre de 2026" in page
    assert table_rows(response, "therapists-table")[0] == "Ana Ruiz 24,00 5,50 3,50 1,00 1,00 1,50 14,6 % Uso bajo"
    figure = json.loads(re.search(r'id="figure-use">(.*?)</script>', body(response), re.S)[1])
    assert figure["layout"]["separators"] in (",.", ",\xa0", ", ")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13", "From: expected a month as YYYY-MM, got 2026-13"),
        ("from=2026-11&to=2026-10", "last_month: the last month comes before the first one"),
        ("from=2016-01&to=2026-11", "last_month: choose at most 120 months"),
    ],
)
def test_a_wrong_range_says_why_and_shows_last_month(practice, admin_client, query, message):
    response = admin_client.get(f"{PAGE}?{query}")

    assert response.status_code == 200
    assert flashed(response) == [message]
    assert "Room use: November 2026" in text_of(body(response))


def test_the_downloads_carry_the_range_and_are_exports(practice, admin_client):
    csv_file = admin_client.get(f"{PAGE}room-use.csv?from=2026-10&to=2026-11")
    xlsx_file = admin_client.get(f"{PAGE}room-use.xlsx?from=2026-11")
    refused = admin_client.get(f"{PAGE}room-use.csv?from=2026-11&to=2026-10")

    assert csv_file.headers["Content-Disposition"] == 'attachment; filename="room-use-2026-10-2026-11.csv"'
    lines = csv_file.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[1] == "2026-10,site,Broadway,,,,18.00,1.00,1.00,0.00,0.00,0.00,0.056"
    assert "2026-11,site,Broadway,,,,39.00,10.50,8.50,1.00,1.00,2.50,0.218" in lines
    assert xlsx_file.headers["Content-Disposition"] == 'attachment; filename="room-use-2026-11.xlsx"'
    assert refused.status_code == 302 and refused.headers["Location"].endswith("?from=2026-11&to=2026-10")
    exported = db.session.scalars(select(AuditEvent.entity).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert exported == ["room_reservation:use", "room_reservation:use"]
