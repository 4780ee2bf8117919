"""Journey 2: the month end, as the staff do it in the Spanish UI.

Last month's totals; one therapist's month report downloaded as a PDF whose text carries their name and
the figures of the screen; the new clients of last month as CSV, with the rows the page lists; the
year at a glance, whose four Plotly charts have drawn (an SVG in each).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import last_month, log_in, open_menu, shown_around

THERAPIST = "Lucía Paredes Salazar"  # a demo therapist with sessions every month
CHARTS = ("nps", "clients", "modality", "income")
SOLES = r"S/\s\d{1,3}(,\d{3})*\.\d\d"
NEW_CLIENT_COLUMNS = ["name", "client_number", "national_id", "email", "phone", "first_session", "first_therapist"]


def test_month_end_totals_month_report_new_clients_and_charts(browser, screenshots, tmp_path: Path):
    page = browser.page()
    log_in(page, *ADMIN)

    # Reports → Monthly totals: last month by default, a row per therapist and a total per currency.
    open_menu(page, "Informes", "Totales mensuales")
    month = shown_around(page.locator("#report-month").input_value, last_month)
    expect(page.locator("h4")).to_contain_text("Totales mensuales")
    row = page.locator("#month-totals tbody tr", has=page.locator("th", has_text=THERAPIST))
    expect(row).to_have_count(1)
    sessions = int(row.locator(".col-sessions").inner_text())
    # Money as a reader in Peru writes it, "S/ 9,180.00" (the space is a non-breaking one).
    gross_pen = " ".join(row.locator(".col-gross-PEN").inner_text().split())
    commission_pen = " ".join(row.locator(".col-commission-PEN").inner_text().split())
    assert sessions > 0 and re.fullmatch(SOLES, gross_pen), (sessions, gross_pen)
    total = page.locator("#month-totals tfoot tr")
    assert int(total.locator(".col-sessions").inner_text()) >= sessions
    expect(total.locator(".col-gross-PEN")).to_have_text(re.compile(SOLES))
    screenshots.page(page, "monthly-totals")

    # Their month report: a PDF named after the month and the therapist, with the screen's figures.
    with page.expect_download() as downloading:
        row.locator(".col-month-report a").click()
    download = downloading.value
    assert download.suggested_filename == f"{month}-lucia-paredes-salazar.pdf"
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    reader = PdfReader(pdf)
    # wkhtmltopdf places words one by one: pypdf reads tabs and line breaks between them.
    text = " ".join(" ".join(page_.extract_text() for page_ in reader.pages).split())
    assert THERAPIST in text
    assert "Informe mensual" in text, text[:500]
    assert gross_pen in text and commission_pen in text, (gross_pen, commission_pen, text[-800:])
    assert re.search(rf"Sesiones:?\s*{sessions}\b", text), text[-800:]
    screenshots.pdf_first_page(pdf, "therapist-month-report")

    # Reports → New clients: last month by default; the CSV holds the rows of the page.
    open_menu(page, "Informes", "Clientes nuevos")
    listed = page.locator("#new-clients-table tbody tr")
    shown = listed.count()
    names = listed.locator(".col-name").all_inner_texts()
    with page.expect_download() as downloading:
        page.locator("#download-csv").click()
    download = downloading.value
    assert re.fullmatch(r"new-clients-\d{4}-\d\d-01-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff"), "the CSV starts with a BOM, so Excel reads the accents"
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == NEW_CLIENT_COLUMNS
    assert len(rows) - 1 == shown
    assert [r[0] for r in rows[1:]] == names
    first_session = NEW_CLIENT_COLUMNS.index("first_session")
    assert all(r[first_session].startswith(month) for r in rows[1:]), rows[1:]

    # Reports → Year at a glance: four charts drawn by Plotly, each an SVG, each with its CSV.
    open_menu(page, "Informes", "El año de un vistazo")
    for chart in CHARTS:
        expect(page.locator(f"#chart-{chart} .js-plotly-plot svg.main-svg").first).to_be_attached()
        expect(page.locator(f"#chart-{chart} a.chart-csv")).to_be_visible()
    expect(page.locator("#figures-table tbody tr")).to_have_count(12)
    screenshots.page(page, "year-at-a-glance")
