"""The monthly totals screen and the therapists' month report PDFs (real wkhtmltopdf, read back with pypdf).

The practice of these tests (Lima time, October 2026), figures worked out by hand:

- Ana Ruiz, 45 % commission: José Peña 150.00 PEN (67.50) and, at 23:30 on the 31st, 10.10 PEN
  (4.545, rounded half-up on the line: 4.55); Carla Díaz 80.00 USD on-site (36.00); a couple
  session with Luis and Marta Soto, 100.00 PEN each (45.00 + 45.00). Not counted: a cancelled,
  a late-cancelled and a no-show session, and 00:30 on 1 November (999.00).
  4 sessions; gross 360.10 PEN and 80.00 USD; commission 162.05 PEN and 36.00 USD.
- Beto Núñez, service fee 40.00: 120.00 and 60.00 PEN (80.00 + 20.00).
  2 sessions; gross 180.00 PEN; commission 100.00 PEN.
- Ceci Idle: only a no-show in October (no month report in the ZIP).
- Totals: 6 sessions; gross 540.10 PEN and 80.00 USD; commission 262.05 PEN and 36.00 USD.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AppointmentKind, Attendance, AuditEvent
from admin_app.services.platform.months import Month
from admin_app.services.reports import therapist_month as month_reports
from tests.conftest import login, sign_in_therapist
from tests.factories import book, make_admin, make_client, make_room, make_therapist
from tests.pages import body, flashed, text_of
from tests.queries import counted_queries

D = Decimal
PAGE = "/admin/reports/monthly/"
NOW = dt.datetime(2026, 11, 3, 14, 15, tzinfo=dt.UTC)  # 09:15 in Lima
HOSTILE = '<iframe src="file:///etc/passwd">'


def pdf_text(data: bytes) -> str:
    """The text of every page, whitespace collapsed (pypdf separates words by tabs or newlines)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def practice(app):
    ana = make_therapist(default_fee=D("100.00"), full_name="Ana Ruiz", commission_percent=D("45.00"))
    beto = make_therapist(
        default_fee=D("100.00"),
        full_name="Beto Núñez",
        service_fee=D("40.00"),
    )
    idle = make_therapist(default_fee=D("100.00"), full_name="Ceci Idle")
    jose, carla, luis, marta = (
        make_client(full_name=name) for name in ("José Peña", "Carla Díaz", "Luis Soto", "Marta Soto")
    )
    book(ana, [jose], dt.datetime(2026, 10, 31, 23, 30), fee="10.10")
    book(ana, [jose], dt.datetime(2026, 10, 5, 10, 0), fee="150.00")
    book(ana, [carla], dt.datetime(2026, 10, 6, 10, 0), fee="80.00", currency="USD", room=make_room())
    book(ana, [luis, marta], dt.datetime(2026, 10, 7, 10, 0), fee="100.00", kind=AppointmentKind.COUPLE)
    book(ana, [carla], dt.datetime(2026, 10, 8, 10, 0), attendance=Attendance.CANCELLED)
    book(ana, [carla], dt.datetime(2026, 10, 9, 10, 0), attendance=Attendance.LATE_CANCELLED)
    book(ana, [carla], dt.datetime(2026, 10, 10, 10, 0), attendance=Attendance.NO_SHOW)
    book(ana, [jose], dt.datetime(2026, 11, 1, 0, 30), fee="999.00")
    book(beto, [luis], dt.datetime(2026, 10, 12, 18, 0), fee="120.00")
    book(beto, [luis], dt.datetime(2026, 10, 19, 18, 0), fee="60.00")
    book(idle, [marta], dt.datetime(2026, 10, 20, 18, 0), attendance=Attendance.NO_SHOW)
    db.session.commit()
    return ana, beto, idle


# --- the month report PDF -------------------------------------------------------------------------


def test_the_month_report_lists_every_session_and_adds_up_to_the_totals(app, practice):
    ana, _, _ = practice

    text = pdf_text(month_reports.month_report_pdf(db.session, Month(2026, 10), ana.id, language="en", now=NOW).content)

    assert text.startswith(app.config["PRACTICE_NAME"])
    assert "Month report: October 2026" in text
    assert "Therapist: Ana Ruiz" in text
    assert "Commission: 45 % of each fee" in text
    # One line per attended client, in start order, in clinic time.
    assert "2026-10-05 10:00 José Peña Individual Virtual PEN 150.00 PEN 67.50" in text
    assert "2026-10-06 10:00 Carla Díaz Individual On-site $80.00 $36.00" in text
    assert "2026-10-07 10:00 Luis Soto Couple Virtual PEN 100.00 PEN 45.00" in text
    assert "2026-10-07 10:00 Marta Soto Couple Virtual PEN 100.00 PEN 45.00" in text
    assert "2026-10-31 23:30 José Peña Individual Virtual PEN 10.10 PEN 4.55" in text
    assert text.index("PEN 150.00 PEN 67.50") < text.index("PEN 10.10 PEN 4.55")
    assert "999.00" not in text
    # Totals per currency, never one figure across currencies.
    assert "Sessions: 4" in text
    assert "Currency Gross Commission PEN PEN 360.10 PEN 162.05 USD $80.00 $36.00" in text
    assert "440.10" not in text and "198.05" not in text
    assert "Generated on 2026-11-03 09:15, clinic time (America/Lima)." in text
    assert text.endswith("1 / 1")


def test_a_service_fee_month_report_explains_its_commission(practice):
    _, beto, _ = practice

    text = pdf_text(
        month_reports.month_report_pdf(db.session, Month(2026, 10), beto.id, language="en", now=NOW).content
    )

    assert "Commission: each fee less the practice's service fee of PEN 40.00" in text
    assert "2026-10-12 18:00 Luis Soto Individual Virtual PEN 120.00 PEN 80.00" in text
    assert "Sessions: 2" in text
    assert "PEN PEN 180.00 PEN 100.00" in text


def test_a_client_name_is_printed_as_text_and_opens_nothing(practice):
    ana, _, _ = practice
    hostile = make_client(full_name=HOSTILE)
    smuggler = make_client(full_name='<meta name="pdfkit-enable-local-file-access" content="">')
    book(ana, [hostile], dt.datetime(2026, 10, 14, 10, 0), fee="50.00")
    book(ana, [smuggler], dt.datetime(2026, 10, 15, 10, 0), fee="50.00")
    db.session.commit()

    text = pdf_text(month_reports.month_report_pdf(db.session, Month(2026, 10), ana.id, language="en", now=NOW).content)

    assert f"2026-10-14 10:00 {HOSTILE} Individual Virtual PEN 50.00 PEN 22.50" in text
    assert '<meta name="pdfkit-enable-local-file-access" content="">' in text
    assert "root:" not in text and "/bin/" not in text


def test_a_spanish_month_report(practice):
    ana, _, _ = practice

    text = pdf_text(month_reports.month_report_pdf(db.session, Month(2026, 10), ana.id, language="es", now=NOW).content)

    assert "octubre de 2026" in text
    assert "Terapeuta: Ana Ruiz" in text
    assert "Fecha Hora Cliente Tipo Modalidad Tarifa Comisión" in text
    assert "2026-10-06 10:00 Carla Díaz Individual Presencial USD 80.00 USD 36.00" in text
    assert "Luis Soto Pareja Virtual" in text
    assert "October" not in text and "Couple" not in text and "On-site" not in text


def test_a_month_without_sessions_still_has_a_month_report(practice):
    _, _, idle = practice

    text = pdf_text(
        month_reports.month_report_pdf(db.session, Month(2026, 10), idle.id, language="en", now=NOW).content
    )

    assert "Therapist: Ceci Idle" in text
    assert "No attended sessions in October 2026." in text
    assert "Sessions: 0" in text
    assert "Marta Soto" not in text  # her no-show is not a line
    assert text.endswith("1 / 1")


def test_a_long_month_numbers_its_pages(practice):
    ana, _, _ = practice
    client = make_client(full_name="Zoe Largo")
    for day in range(1, 31):
        for hour in (8, 9, 11, 12, 14, 15):
            book(ana, [client], dt.datetime(2026, 9, day, hour, 0), fee="100.00")
    db.session.commit()

    data = month_reports.month_report_pdf(db.session, Month(2026, 9), ana.id, language="en", now=NOW).content

    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 3
    assert [page.rsplit(" ", 3)[-3:] for page in pages] == [
        [str(n), "/", str(len(pages))] for n in range(1, len(pages) + 1)
    ]
    assert "Sessions: 180" in pages[-1] and "PEN PEN 18,000.00 PEN 8,100.00" in pages[-1]


def test_the_file_name_is_ascii():
    assert month_reports.month_report_filename(Month(2026, 10), "Ana Ruiz") == "2026-10-ana-ruiz.pdf"
    assert month_reports.month_report_filename(Month(2026, 10), "Beto Núñez-Ñahui") == "2026-10-beto-nunez-nahui.pdf"
    assert month_reports.month_report_filename(Month(2026, 1), "王小明") == "2026-01-therapist.pdf"
    assert month_reports.month_report_filename(Month(2026, 1), '../"x"\r\n') == "2026-01-x.pdf"


# --- the screen -----------------------------------------------------------------------------------


def table_rows(response) -> dict[str, dict[str, str]]:
    """The totals table: therapist id (or "total") → column → text."""
    page = body(response)
    table = re.search(r'<table[^>]*id="month-totals">(.*?)</table>', page, re.S)
    assert table, "no totals table"
    rows = {}
    for row_id, row in re.findall(r'<tr data-therapist="(\w+)"[^>]*>(.*?)</tr>', table.group(1), re.S):
        cells = re.findall(r'<t[hd][^>]*class="col-([\w-]+)[^"]*"[^>]*>(.*?)</t[hd]>', row, re.S)
        rows[row_id] = {name: text_of(value) for name, value in cells}
    return rows


def test_the_screen_shows_the_hand_computed_figures(admin_client, practice):
    ana, beto, _ = practice

    response = admin_client.get(f"{PAGE}?month=2026-10")

    assert response.status_code == 200
    assert "Monthly totals: October 2026" in text_of(body(response))
    rows = table_rows(response)
    assert rows[str(ana.id)] == {
        "therapist": "Ana Ruiz",
        "sessions": "4",
        "gross-PEN": "PEN 360.10",
        "gross-USD": "$80.00",
        "commission-PEN": "PEN 162.05",
        "commission-USD": "$36.00",
        "month-report": "PDF",
        "payout-statement": "",  # no payout run for the month
    }
    assert rows[str(beto.id)] == {
        "therapist": "Beto Núñez",
        "sessions": "2",
        "gross-PEN": "PEN 180.00",
        "gross-USD": "—",
        "commission-PEN": "PEN 100.00",
        "commission-USD": "—",
        "month-report": "PDF",
        "payout-statement": "",  # no payout run for the month
    }
    assert rows["total"] == {
        "therapist": "Total",
        "sessions": "6",
        "gross-PEN": "PEN 540.10",
        "gross-USD": "$80.00",
        "commission-PEN": "PEN 262.05",
        "commission-USD": "$36.00",
    }
    assert list(rows) == [str(ana.id), str(beto.id), "total"]  # Ceci had no session
    page = body(response)
    assert f"{PAGE}therapist.pdf?month=2026-10&amp;therapist={ana.id}" in page
    assert f"{PAGE}month-reports.zip?month=2026-10" in page


@pytest.mark.parametrize(
    "clock", ["2026-11-02T15:00Z", "2026-12-01T03:00Z"], indirect=True
)  # the 2nd is 30 Nov in Lima
def test_the_screen_defaults_to_last_month(admin_client, practice):
    response = admin_client.get(PAGE)

    assert "Monthly totals: October 2026" in text_of(body(response))
    assert table_rows(response)["total"]["sessions"] == "6"
    assert 'value="2026-10"' in body(response)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13", "Month: expected a month as YYYY-MM, got 2026-13"),
        ("octubre", "Month: expected a month as YYYY-MM, got octubre"),
        ("1899-12", "Month: choose a month from the years 1900 to 2099, got 1899-12"),
        ("2100-01", "Month: choose a month from the years 1900 to 2099, got 2100-01"),
    ],
)
@pytest.mark.parametrize("clock", ["2026-11-02T15:00Z"], indirect=True)
def test_a_wrong_month_is_named_and_last_month_shown(admin_client, practice, value, message):

    response = admin_client.get(PAGE, query_string={"month": value})

    assert response.status_code == 200
    assert flashed(response) == [message]
    assert table_rows(response)["total"]["sessions"] == "6"


def test_a_month_without_sessions_says_so(admin_client, practice):
    response = admin_client.get(f"{PAGE}?month=2026-08")

    assert response.status_code == 200
    assert "No attended sessions in August 2026." in text_of(body(response))
    assert "month-totals" not in body(response)


def test_the_screen_costs_the_same_queries_for_more_therapists(admin_client, practice):
    admin_client.get(f"{PAGE}?month=2026-10")  # warm-up: the login's own first-request queries
    with counted_queries() as few:
        admin_client.get(f"{PAGE}?month=2026-10")
    for n in range(8):
        therapist = make_therapist(default_fee=D("100.00"), full_name=f"Extra {n}")
        book(therapist, [make_client()], dt.datetime(2026, 10, 21, 9 + n, 0), currency="USD")
    db.session.commit()

    with counted_queries() as many:
        response = admin_client.get(f"{PAGE}?month=2026-10")

    assert len(table_rows(response)) == 11
    assert len(many) == len(few), (few, many)


def test_a_therapist_is_refused(client, practice):
    ana, _, _ = practice
    sign_in_therapist(client, ana)

    assert client.get(f"{PAGE}?month=2026-10").status_code == 403
    assert client.get(f"{PAGE}therapist.pdf?month=2026-10&therapist={ana.id}").status_code == 403
    assert client.get(f"{PAGE}month-reports.zip?month=2026-10").status_code == 403
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all() == []


# --- downloads ------------------------------------------------------------------------------------


def export_events() -> list[tuple]:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id))
    return [(event.actor, event.entity, event.entity_id) for event in events]


def test_an_admin_downloads_a_month_report_and_it_is_audited(admin_client, practice):
    ana, _, _ = practice

    response = admin_client.get(f"{PAGE}therapist.pdf?month=2026-10&therapist={ana.id}")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="2026-10-ana-ruiz.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    assert "Ana Ruiz" in text and "PEN 10.10 PEN 4.55" in text and "PEN PEN 360.10 PEN 162.05" in text
    assert export_events() == [("staff@example.com", "therapist", ana.id)]


def test_a_spanish_admin_gets_a_spanish_month_report(client, practice):
    ana, _, _ = practice
    make_admin(email="lima@example.com", locale="es")
    db.session.commit()
    login(client, "lima@example.com")

    response = client.get(f"{PAGE}therapist.pdf?month=2026-10&therapist={ana.id}")

    text = pdf_text(response.data)
    assert "octubre de 2026" in text and "Terapeuta: Ana Ruiz" in text and "Presencial" in text


def test_the_zip_holds_one_month_report_per_therapist_with_sessions(admin_client, practice):
    ana, beto, _ = practice

    response = admin_client.get(f"{PAGE}month-reports.zip?month=2026-10")

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="2026-10-month-reports.zip"'
    with zipfile.ZipFile(io.BytesIO(response.data)) as bundle:
        assert bundle.namelist() == ["2026-10-ana-ruiz.pdf", "2026-10-beto-nunez.pdf"]
        ana_text = pdf_text(bundle.read("2026-10-ana-ruiz.pdf"))
        beto_text = pdf_text(bundle.read("2026-10-beto-nunez.pdf"))
    assert "Therapist: Ana Ruiz" in ana_text and "PEN PEN 360.10 PEN 162.05 USD $80.00 $36.00" in ana_text
    assert "Therapist: Beto Núñez" in beto_text and "PEN PEN 180.00 PEN 100.00" in beto_text
    assert "José Peña" not in beto_text
    assert export_events() == [("staff@example.com", "therapist", None)]


def test_the_old_statements_address_moved_for_good_to_month_reports(admin_client, practice):
    response = admin_client.get(f"{PAGE}statements.zip?month=2026-10")

    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"{PAGE}month-reports.zip?month=2026-10")
    assert export_events() == []  # nothing left yet: the new address makes and records the ZIP


def test_two_therapists_of_the_same_name_get_two_files(admin_client, practice):
    twin = make_therapist(default_fee=D("100.00"), full_name="Ana Ruiz")
    book(twin, [make_client()], dt.datetime(2026, 10, 22, 9, 0))
    db.session.commit()

    response = admin_client.get(f"{PAGE}month-reports.zip?month=2026-10")

    with zipfile.ZipFile(io.BytesIO(response.data)) as bundle:
        names = sorted(bundle.namelist())
    assert names == sorted(["2026-10-ana-ruiz.pdf", f"2026-10-ana-ruiz-{twin.id}.pdf", "2026-10-beto-nunez.pdf"])


def test_an_empty_month_has_no_zip(admin_client, practice):
    response = admin_client.get(f"{PAGE}month-reports.zip?month=2026-08", follow_redirects=True)

    assert response.request.full_path == f"{PAGE}?month=2026-08"
    assert flashed(response) == ["No attended sessions in August 2026: there are no month reports to download."]
    assert export_events() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?therapist=1", "Month: expected a month as YYYY-MM, got"),
        ("?month=2026-10", "Choose a therapist for the month report."),
        ("?month=2026-10&therapist=abc", "Choose a therapist for the month report."),
        ("?month=2026-10&therapist=999999", "This therapist does not exist (any more)."),
    ],
)
def test_a_wrong_month_report_link_is_explained(admin_client, practice, query, message):
    response = admin_client.get(f"{PAGE}therapist.pdf{query}", follow_redirects=True)

    assert response.status_code == 200
    assert flashed(response) == [message]
    assert export_events() == []


def test_a_render_that_takes_too_long_is_a_message_not_an_error_page(admin_client, practice, monkeypatch):
    ana, _, _ = practice
    monkeypatch.setattr("admin_app.services.platform.documents.pdf.PDF_TIMEOUT_SECONDS", 0.001)

    response = admin_client.get(f"{PAGE}therapist.pdf?month=2026-10&therapist={ana.id}", follow_redirects=True)

    assert response.request.full_path == f"{PAGE}?month=2026-10"
    assert flashed(response) == [
        "The PDF could not be produced. Try again; if it keeps failing, see the application log."
    ]
    assert export_events() == []
