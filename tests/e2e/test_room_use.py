"""Journey: room use in the Vancouver network, as issue 19's new user tries it: Reports → Room use
(last month by default) with its chart; the least-used reservation of the last 8 weeks released by
half (its hours, from today: the past keeps its hours); the same figures downloaded as CSV and
Excel; then the therapist signs in and reads the office's notification and her new reservation.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
from playwright.sync_api import expect

from admin_app.demo import THERAPIST_PASSWORD, marker_email
from admin_app.demo.practices import VANCOUVER
from tests.e2e.conftest import VANCOUVER_ADMIN
from tests.e2e.helpers import alerts, assert_accessible, follow, log_in, log_out, open_menu


def half_of(hours: str) -> tuple[str, str]:
    """ "13:00–18:00" -> ("13:00", "15:30"): the first half of a reservation's hours."""
    starts, ends = (dt.datetime.strptime(part, "%H:%M") for part in hours.split("–"))
    return starts.strftime("%H:%M"), (starts + (ends - starts) / 2).strftime("%H:%M")


def site_rows(page) -> dict[str, list[str]]:
    """The Sites table: each site's hours (thousands separators dropped) and use as shown."""
    rows = {}
    for row in page.locator("#sites-table tbody tr").all():
        cells = [cell.inner_text().strip() for cell in row.locator("td").all()]
        rows[cells[0]] = [cell.replace(",", "") for cell in cells[1:7]] + [cells[7].split()[0]]
    return rows


def test_release_half_of_the_least_used_reservation_and_the_therapist_is_told(vancouver_browser, tmp_path):
    page = vancouver_browser.page(locale="en-CA")
    log_in(page, *VANCOUVER_ADMIN)

    open_menu(page, "Reports", "Room use")
    expect(page.locator("h4")).to_contain_text("Room use: ")
    expect(page.locator("#chart-use .main-svg").first).to_be_visible()  # Plotly drew the chart
    shown = site_rows(page)
    assert shown, "the demo's sites have reservations"
    assert_accessible(page)

    # The same figures, downloaded: CSV (the month's site rows) and Excel (the Sites sheet).
    with page.expect_download() as downloading:
        page.locator("#download-csv").click()
    text = downloading.value.path().read_text(encoding="utf-8-sig")
    sites = [row for row in csv.DictReader(io.StringIO(text)) if row["kind"] == "site"]
    assert {
        row["site"]: [
            row["reserved_hours"],
            row["booked_hours"],
            row["used_hours"],
            row["no_show_hours"],
            row["cancelled_hours"],
            row["unreserved_hours"],
            "—" if not row["use"] else f"{float(row['use']) * 100:.1f}%",
        ]
        for row in sites
    } == shown
    with page.expect_download() as downloading:
        page.locator("#download-xlsx").click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    sheet = [list(row) for row in workbook["Sites"].iter_rows(values_only=True)]
    workbook.close()
    assert sheet[0][:4] == ["Site", "Reserved hours", "Booked hours", "Used hours"]
    assert {row[0]: f"{row[1]:.2f}" for row in sheet[1:]} == {site: figures[0] for site, figures in shown.items()}

    # The least-used reservation of the last 8 weeks: released by half, from today.
    least = page.locator("#low-table tbody tr").first
    therapist, site, room, weekday, hours = (least.locator("td").nth(n).inner_text().strip() for n in range(5))
    assert least.locator("td.col-use").inner_text().strip() == "0.0%"
    follow(page, least.locator("a.release"))
    expect(page.locator("#reservation-summary")).to_contain_text(f"{therapist} · {site} · {room} · {weekday} {hours}")
    starts, ends = half_of(hours)
    page.locator("#starts_time").fill(starts)
    page.locator("#ends_time").fill(ends)
    follow(page, page.locator("#save-release"))
    assert alerts(page, "success") == ["Reservation released; the therapist is notified."]
    expect(page.locator("h4")).to_contain_text("Room use: ")  # back where the release began
    remaining = page.locator("#low-table tbody tr", has_text=f"{therapist} {site} {room} {weekday} {hours}")
    expect(remaining).to_have_count(0)  # it ended yesterday; the shorter one has nothing to judge yet
    log_out(page)

    # The therapist (the demo's therapist login) reads the office's notification and her reservation.
    log_in(page, marker_email(VANCOUVER), THERAPIST_PASSWORD)
    page.goto("/portal/notifications/")
    expect(page.locator("body")).to_contain_text(
        re.compile(r"Your room reservation #\d+ was changed by the office: see My room reservations\.")
    )
    page.goto("/portal/reservations/")
    expect(page.locator("table.model-list")).to_contain_text(f"{starts}–{ends}")
