"""The reports screens: the year at a glance (charts, table, a CSV per chart, plotly.js served
from the package) and the new clients of a period with their CSV.

The practice of these tests (Lima time, 2026), worked out by hand:

- Old first came on 20 December 2025; 10 January 2026 makes them recurrent (100.00 PEN, virtual).
- Fresh comes for the first time on 11 January (50.00 USD, virtual); the no-show of the 12th counts for nothing.
- Both: 2 March on-site and 3 March virtual (100.00 PEN each): one new client, virtual and on-site.
- October: Carla, Diego and Elena each come once (100.00 PEN, virtual) and answer the survey
  10, 9 and 3: NPS = 100 x 2/3 - 100 x 1/3 = 33.3.

January: 2 sessions, 1 new + 1 recurrent, 2 virtual, 100.00 PEN and 50.00 USD. February: nothing.
March: 2 sessions, 1 new, 1 virtual, 1 on-site, 200.00 PEN. October: 3 sessions, 3 new, 3 virtual,
3 responses, NPS 33.3, 300.00 PEN. Every other month: zeros and no NPS.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from admin_app import PROJECT_ROOT
from admin_app.extensions import db
from admin_app.models import Attendance, AuditAction, AuditEvent
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from admin_app.views.reports import statistics
from tests.conftest import free_port, login, make_app
from tests.factories import PASSWORD, book, make_admin, make_client, make_room, make_therapist
from tests.pages import body, flashed, text_of
from tests.queries import counted_queries

PAGE = "/admin/statistics/"
NEW_CLIENTS = "/admin/reports/new-clients/"
CHROMIUM = Path("/usr/bin/chromium")
BOM = "\ufeff"


@pytest.fixture
def year_2026(app):
    ana = make_therapist(default_fee=Decimal("100.00"), full_name="Ana")
    old, fresh, both = make_client(full_name="Old"), make_client(full_name="Fresh"), make_client(full_name="Both")
    book(ana, [old], dt.datetime(2025, 12, 20, 10, 0))
    book(ana, [old], dt.datetime(2026, 1, 10, 10, 0))
    book(ana, [fresh], dt.datetime(2026, 1, 11, 10, 0), fee="50.00", currency="USD")
    book(ana, [fresh], dt.datetime(2026, 1, 12, 10, 0), attendance=Attendance.NO_SHOW)
    book(ana, [both], dt.datetime(2026, 3, 2, 10, 0), room=make_room())
    book(ana, [both], dt.datetime(2026, 3, 3, 10, 0))
    october = [make_client(full_name=name) for name in ("Carla", "Diego", "Elena")]
    for day, client in enumerate(october, start=5):
        book(ana, [client], dt.datetime(2026, 10, day, 10, 0))
    db.session.commit()
    answer_survey("2026-10", (10, 9, 3), ana)
    return ana


def answer_survey(month: str, scores, therapist) -> None:
    """Send the month's survey and answer it with `scores` (and 5 stars for the therapist), in
    the order of the invitations."""
    surveys.send_for_month(db.session, Month.parse(month))
    invitations = db.session.scalars(
        select(surveys.SurveyInvitation).where(surveys.SurveyInvitation.month == month)
    ).all()
    for invitation, score in zip(sorted(invitations, key=lambda i: i.id), scores, strict=True):
        surveys.submit(db.session, invitation, stars={therapist.id: "5"}, nps=str(score), comment=None)
    db.session.commit()


def figures_table(response) -> dict[str, dict[str, str]]:
    """Month → column → text of the table under the charts."""
    table = re.search(r'<table[^>]*id="figures-table"[^>]*>(.*?)</table>', body(response), re.S)
    assert table, "no figures table"
    rows = {}
    for month, row in re.findall(r'<tr data-month="([\d-]+)">(.*?)</tr>', table.group(1), re.S):
        rows[month] = {
            name: text_of(cell) for name, cell in re.findall(r'<td class="col-([\w-]+)[^"]*">(.*?)</td>', row)
        }
    return rows


def csv_rows(response) -> list[list[str]]:
    text = body(response)
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def figure_of(response, key: str) -> dict:
    found = re.search(rf'<script type="application/json" id="figure-{key}">(.*?)</script>', body(response), re.S)
    assert found, f"no figure {key}"
    return json.loads(found.group(1))


# --- the year at a glance --------------------------------------------------------------------------


def test_the_page_shows_the_years_figures_month_by_month(admin_client, year_2026):
    response = admin_client.get(f"{PAGE}?year=2026")

    assert response.status_code == 200
    table = figures_table(response)
    assert list(table) == [f"2026-{n:02d}" for n in range(1, 13)]
    columns = ("sessions", "responses", "nps", "new", "recurrent", "virtual", "onsite", "gross-PEN", "gross-USD")
    row = lambda month: tuple(table[month][name] for name in columns)  # noqa: E731
    assert row("2026-01") == ("2", "0", "—", "1", "1", "2", "0", "PEN 100.00", "$50.00")
    assert row("2026-02") == ("0", "0", "—", "0", "0", "0", "0", "PEN 0.00", "$0.00")
    assert row("2026-03") == ("2", "0", "—", "1", "0", "1", "1", "PEN 200.00", "$0.00")
    assert row("2026-10") == ("3", "3", "33.3", "3", "0", "3", "0", "PEN 300.00", "$0.00")
    assert "Year at a glance" in body(response)


def test_the_four_charts_carry_the_same_figures(admin_client, year_2026):
    response = admin_client.get(f"{PAGE}?year=2026")

    nps = figure_of(response, "nps")["data"][0]
    assert nps["connectgaps"] is False
    assert nps["y"] == [None] * 9 + [33.3, None, None]  # gaps, not zeros
    clients = figure_of(response, "clients")["data"]
    assert [trace["y"][:3] for trace in clients] == [[1, 0, 1], [1, 0, 0]]
    modality = figure_of(response, "modality")["data"]
    assert [(trace["name"], trace["y"][2]) for trace in modality] == [("Virtual", 1), ("On-site", 1)]
    income = figure_of(response, "income")["data"]
    assert [(trace["name"], trace["y"][0], trace["y"][9]) for trace in income] == [("PEN", 100, 300), ("USD", 50, 0)]
    assert [trace["x"][0] for trace in income] == ["Jan", "Jan"]


def test_the_months_of_the_charts_read_in_the_users_language(client, year_2026):
    make_admin(email="admin-es@example.com", locale="es")
    db.session.commit()
    login(client, "admin-es@example.com")

    response = client.get(f"{PAGE}?year=2026")

    assert response.status_code == 200
    assert figure_of(response, "nps")["data"][0]["x"][:2] == ["ene", "feb"]
    assert figures_table(response)["2026-10"]["nps"] == "33,3"  # Spanish decimal comma


def test_each_chart_offers_its_numbers_as_csv(admin_client, year_2026):
    page = body(admin_client.get(f"{PAGE}?year=2026"))
    for chart in statistics.CHARTS:
        assert f'href="{PAGE}2026/{chart}.csv"' in page

    nps = admin_client.get(f"{PAGE}2026/nps.csv")
    assert nps.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert nps.headers["Content-Disposition"] == 'attachment; filename="statistics-2026-nps.csv"'
    rows = csv_rows(nps)
    assert rows[0] == ["month", "responses", "nps"]
    assert len(rows) == 13
    assert rows[9] == ["2026-09", "0", ""]  # no responses: an empty cell, never 0
    assert rows[10] == ["2026-10", "3", "33.3"]

    assert csv_rows(admin_client.get(f"{PAGE}2026/clients.csv"))[:4] == [
        ["month", "new_clients", "recurrent_clients"],
        ["2026-01", "1", "1"],
        ["2026-02", "0", "0"],
        ["2026-03", "1", "0"],
    ]
    assert csv_rows(admin_client.get(f"{PAGE}2026/modality.csv"))[3] == ["2026-03", "1", "1"]
    income = csv_rows(admin_client.get(f"{PAGE}2026/income.csv"))
    assert income[0] == ["month", "gross_PEN", "gross_USD"]
    assert income[1] == ["2026-01", "100.00", "50.00"]  # never added across currencies
    assert income[10] == ["2026-10", "300.00", "0.00"]


def test_a_negative_nps_stays_a_number_in_the_csv(admin_client, app):
    ana = make_therapist(default_fee=Decimal("100.00"))
    book(ana, [make_client()], dt.datetime(2026, 9, 5, 10, 0))
    db.session.commit()
    answer_survey("2026-09", (3,), ana)

    rows = csv_rows(admin_client.get(f"{PAGE}2026/nps.csv"))

    assert rows[9] == ["2026-09", "1", "-100.0"]


def test_a_bad_year_is_named_in_a_message_and_this_year_is_shown(admin_client, clock):
    this_year = clock.today().year
    for value in ("abc", "1899", "2100", "2026x", "²", "9" * 30):
        response = admin_client.get(PAGE, query_string={"year": value})

        assert response.status_code == 200, value
        assert flashed(response) == [f"Year: expected a year from 1900 to 2099, got {value}"]
        assert list(figures_table(response))[0] == f"{this_year}-01"


def test_the_first_and_last_years_of_the_window_still_answer(admin_client):
    for year in (1900, 2099):
        response = admin_client.get(PAGE, query_string={"year": year})
        assert (response.status_code, flashed(response)) == (200, []), year
        assert list(figures_table(response))[-1] == f"{year}-12"
        assert len(csv_rows(admin_client.get(f"{PAGE}{year}/income.csv"))) == 13


@pytest.mark.parametrize("clock", ["2027-01-01T03:00Z"], indirect=True)  # still 2026 in Lima
def test_without_a_year_the_page_shows_this_year_in_clinic_time(admin_client):
    response = admin_client.get(PAGE)

    assert flashed(response) == []
    assert list(figures_table(response))[0] == "2026-01"


def test_an_unknown_chart_or_year_is_not_found(admin_client):
    assert admin_client.get(f"{PAGE}2026/sessions.csv").status_code == 404
    assert admin_client.get(f"{PAGE}1899/nps.csv").status_code == 404
    assert admin_client.get(f"{PAGE}abcd/nps.csv").status_code == 404


def test_the_page_costs_the_same_queries_for_an_empty_year_and_a_full_one(admin_client, year_2026):
    admin_client.get(f"{PAGE}?year=2030")  # warm-up: what a first request loads once
    with counted_queries() as empty:
        assert admin_client.get(f"{PAGE}?year=2030").status_code == 200
    with counted_queries() as full:
        assert admin_client.get(f"{PAGE}?year=2026").status_code == 200

    assert len(full) == len(empty)
    assert len(full) < 12  # the year's figures take a few queries, never one per month


def test_therapists_may_not_see_the_reports(therapist_client):
    for url in (PAGE, f"{PAGE}2026/nps.csv", NEW_CLIENTS, f"{NEW_CLIENTS}csv?from=2026-10-01&to=2026-10-31"):
        assert therapist_client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_the_login(client):
    for url in (f"{PAGE}2026/income.csv", f"{NEW_CLIENTS}csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login"), url


def test_the_reports_menu_has_both_pages(admin_client):
    page = body(admin_client.get(PAGE))

    assert "Reports" in page
    assert f'href="{PAGE}"' in page and f'href="{NEW_CLIENTS}"' in page


# --- plotly.js -----------------------------------------------------------------------------------


def test_plotly_js_is_served_from_the_installed_package_and_no_cdn(admin_client, year_2026):
    page = body(admin_client.get(f"{PAGE}?year=2026"))
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    plotly_urls = [src for src in scripts if "plotly" in src]
    assert plotly_urls == [f"/assets/plotly-{statistics.PLOTLY_JS_VERSION}.min.js"]
    assert "/static/js/charts.js" in scripts
    assert "cdn.plot.ly" not in page and "cdn.jsdelivr" not in page

    response = admin_client.get(plotly_urls[0])

    assert response.status_code == 200
    assert response.data == statistics.PLOTLY_JS.read_bytes()
    assert f"plotly.js v{statistics.PLOTLY_JS_VERSION}" in response.data[:200].decode()
    assert response.headers["Content-Type"].startswith("text/javascript")
    cache = response.cache_control
    assert cache.max_age == 365 * 24 * 3600 and cache.public and cache.immutable


def test_the_charts_need_no_inline_script(admin_client, year_2026):
    """The page's own scripts are JSON data and files: drawing works under a strict CSP."""
    page = body(admin_client.get(f"{PAGE}?year=2026"))
    start = page.index('id="chart-nps"')
    ours = page[start : page.index('id="figures"')]

    assert re.findall(r"<script([^>]*)>", ours) == [
        f' type="application/json" id="figure-{key}"' for key in statistics.CHARTS
    ]
    assert "Plotly.newPlot" in (PROJECT_ROOT / "admin_app/static/js/charts.js").read_text()


def test_a_title_cannot_close_the_json_script():
    assert statistics.script_json('{"t": "</script><b>&"}') == '{"t": "\\u003c/script\\u003e\\u003cb\\u003e\\u0026"}'


# --- new clients ----------------------------------------------------------------------------------


@pytest.fixture
def october_newcomers(app):
    ana, beto = (
        make_therapist(default_fee=Decimal("100.00"), full_name="Ana"),
        make_therapist(default_fee=Decimal("100.00"), full_name="Beto"),
    )
    old = make_client(full_name="Old")
    cmd = make_client(full_name="=cmd", national_id="N-1", email="cmd@example.com", phone="+51 987 654 321")
    late = make_client(full_name="Late", email=None)
    book(ana, [old], dt.datetime(2026, 9, 30, 10, 0))
    book(ana, [old], dt.datetime(2026, 10, 2, 10, 0))
    book(beto, [cmd], dt.datetime(2026, 10, 4, 10, 0))
    book(ana, [cmd], dt.datetime(2026, 10, 5, 10, 0))
    book(ana, [late], dt.datetime(2026, 10, 31, 23, 30))  # 1 November in UTC, 31 October here
    db.session.commit()


def new_client_rows(response) -> list[dict[str, str]]:
    table = re.search(r'<table[^>]*id="new-clients-table"[^>]*>(.*?)</table>', body(response), re.S)
    if table is None:
        return []
    return [
        {name: text_of(cell) for name, cell in re.findall(r'<td class="col-(\w+)"[^>]*>(.*?)</td>', row, re.S)}
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
        if "<td" in row
    ]


def test_the_new_clients_of_a_period_with_their_first_therapist(admin_client, october_newcomers):
    response = admin_client.get(NEW_CLIENTS, query_string={"from": "2026-10-01", "to": "2026-10-31"})

    assert response.status_code == 200
    rows = new_client_rows(response)
    assert [(row["name"], row["national_id"], row["email"], row["first_therapist"]) for row in rows] == [
        ("=cmd", "N-1", "cmd@example.com", "Beto"),
        ("Late", rows[1]["national_id"], "—", "Ana"),
    ]
    assert re.search(r'data-date="2026-10-31"', body(response))
    assert f'href="{NEW_CLIENTS}csv?from=2026-10-01&amp;to=2026-10-31"' in body(response)


@pytest.mark.parametrize(
    ("clock", "first", "last"),
    [
        ("2026-12-01T03:00Z", "2026-10-01", "2026-10-31"),  # still 30 November in Lima
        ("2026-12-01T05:00Z", "2026-11-01", "2026-11-30"),
        ("2026-03-01T12:00Z", "2026-02-01", "2026-02-28"),
    ],
    indirect=["clock"],
)
def test_the_new_clients_page_defaults_to_the_previous_month(admin_client, first, last):
    page = body(admin_client.get(NEW_CLIENTS))

    assert f'name="from" value="{first}"' in page
    assert f'name="to" value="{last}"' in page
    assert "No new clients in this period." in page


def test_the_new_clients_csv_is_neutralised_and_audited(admin_client, admin_user, october_newcomers):
    response = admin_client.get(f"{NEW_CLIENTS}csv", query_string={"from": "2026-10-01", "to": "2026-10-31"})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="new-clients-2026-10-01-2026-10-31.csv"'
    rows = csv_rows(response)
    assert rows[0] == ["name", "client_number", "national_id", "email", "phone", "first_session", "first_therapist"]
    assert rows[1][0] == "'=cmd" and rows[1][1].isdigit() and rows[1][2] == "N-1"
    assert rows[1][5:] == ["2026-10-04", "Beto"]
    assert (rows[2][0], rows[2][3], rows[2][5]) == ("Late", "", "2026-10-31")
    assert len(rows) == 3
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert (event.entity, event.actor, event.actor_user_id) == ("client", admin_user.email, admin_user.id)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01", "to": "2026-10-31"}, "From: expected a date as YYYY-MM-DD, got 2026-13-01"),
        ({"from": "2026-10-01", "to": "31/10/2026"}, "To: expected a date as YYYY-MM-DD, got 31/10/2026"),
        ({"from": "2026-10-31", "to": "2026-10-01"}, "To: the end date is before the start date"),
    ],
)
def test_bad_dates_are_named_and_make_no_csv(admin_client, october_newcomers, clock, query, message):
    page = admin_client.get(NEW_CLIENTS, query_string=query)
    assert page.status_code == 200
    assert flashed(page) == [message]
    first, _last = statistics.previous_month(clock.today())
    assert f'name="from" value="{first.isoformat()}"' in body(page)

    download = admin_client.get(f"{NEW_CLIENTS}csv", query_string=query)

    assert download.status_code == 302
    assert download.headers["Location"].startswith(NEW_CLIENTS)
    assert flashed(admin_client.get(download.headers["Location"])) == [message]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all() == []


# --- in a real browser -----------------------------------------------------------------------------


@pytest.fixture
def served_app(app, database_url):
    """The app served over HTTP on a free port (same database as `app`), for a browser."""
    port = free_port()
    served = make_app(database_url, SERVER_NAME=f"127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)
    with served.app_context():
        db.engine.dispose()


def test_the_charts_draw_in_chromium_without_errors(served_app, year_2026):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    make_admin(email="browser@example.com")
    db.session.commit()
    errors: list[str] = []

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{served_app}/login")
            page.fill("input[name=email]", "browser@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form:has(input[name=password]) [type=submit]").click()
            page.wait_for_load_state()
            page.goto(f"{served_app}{PAGE}?year=2026")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)

            assert page.locator(".js-plotly-plot").count() == 4
            assert page.locator("#chart-income .js-plotly-plot .bars path").count() > 0
        finally:
            browser.close()

    assert errors == []
