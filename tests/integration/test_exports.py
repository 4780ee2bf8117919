"""Every list's export (staff and portal, CSV and XLSX): every row the list counts, read with a number
of queries that does not grow with the rows, one audit row per export, and cells a spreadsheet opens
safely. Downloads through a real server are in tests/e2e/test_exports.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import func, literal, select, update

from admin_app import demo
from admin_app.extensions import db
from admin_app.models import Appointment, AuditEvent, Client, Payer, Therapist
from admin_app.views.platform.exports import StreamedExport
from tests.conftest import login
from tests.factories import make_answer, make_authorization, make_client, make_invitation, make_payer, pays_for
from tests.queries import counted_queries, grown_statements

BOM = "\ufeff"


def exporting_views(app, area: str) -> list[ModelView]:
    """The lists of one area (`admin` for the staff, `portal` for the therapists) that offer an export."""
    [admin] = [admin for admin in app.extensions["admin"] if admin.endpoint == area]
    return [view for view in admin._views if isinstance(view, ModelView) and view.can_export]


def listed_count(client, view) -> int:
    """The count the list's tab shows: "List (12)"."""
    page = client.get(f"{view.url}/").get_data(as_text=True)
    found = re.search(r'<a href="javascript:void\(0\)" class="nav-link active">[^<(]*(?:\((\d+)\))?</a>', page)
    assert found, f"no list tab on {view.url}/"
    return int(found.group(1) or 0)


def exported_rows(response, export_type: str) -> list[list[str]]:
    """The rows of a downloaded export, header first, every cell as text."""
    assert response.status_code == 200, response.status_code
    if export_type == "csv":
        text = response.get_data(as_text=True)
        assert text.startswith(BOM)
        return list(csv.reader(io.StringIO(text[len(BOM) :])))
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [["" if cell is None else str(cell) for cell in row] for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows


def export_events() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "export"))


@pytest.fixture
def small_practice(app):
    """The demo practice, small (three therapists, two months), and a few survey answers."""
    summary = demo.load_demo_practice(db.session, therapists=3, months=2)
    db.session.commit()
    assert summary.counts["appointments"] > 100, summary.counts
    clients = db.session.scalars(select(Client).order_by(Client.id).limit(3)).all()
    therapist = db.session.scalars(select(Therapist).order_by(Therapist.id)).first()
    for number, client in enumerate(clients):
        make_answer(make_invitation(client, "2026-10"), 6 + number, {therapist: 3 + number}, f"Comment {number}")
    db.session.commit()
    return summary


def check_every_export(client, views, monkeypatch) -> list[str]:
    """Each view's export, in full and limited to one row: as many rows as the list counts, no
    statement sent more often for every row than for one (no query per row), and one audit row each
    time."""
    checked = []
    for view in views:
        for export_type in view.export_types:
            count = listed_count(client, view)  # the audit trail grows with each export
            url = f"{view.url}/export/{export_type}/"
            before = export_events()
            db.session.remove()  # each request starts with an empty session, as in production
            with counted_queries() as every_row:
                rows = exported_rows(client.get(url, buffered=True), export_type)
            assert len(rows) - 1 == count, (url, len(rows) - 1, count)
            assert export_events() == before + 1, url

            monkeypatch.setattr(view, "export_max_rows", 1)
            db.session.remove()
            with counted_queries() as one_row:
                first = exported_rows(client.get(url, buffered=True), export_type)
            monkeypatch.undo()
            assert first[0] == rows[0] and len(first) == min(2, len(rows)), url
            if view.model is not AuditEvent:  # the trail's newest row is the export just made
                assert first[1:] == rows[1:2], url
            assert not grown_statements(every_row, one_row), (url, count, grown_statements(every_row, one_row))
            checked.append(f"{view.endpoint} {export_type} {count}")
    return checked


def test_every_staff_list_exports_every_row_in_a_fixed_number_of_queries(admin_client, small_practice, monkeypatch):
    views = exporting_views(admin_client.application, "admin")
    assert {view.endpoint for view in views} >= {"appointment", "client", "participant", "survey_response"}

    checked = check_every_export(admin_client, views, monkeypatch)

    assert any(line.startswith("appointment xlsx") and int(line.split()[-1]) > 100 for line in checked), checked
    assert any(line.startswith("survey_response csv 3") for line in checked), checked


def test_the_portal_exports_every_row_of_the_therapists_own_lists_in_a_fixed_number_of_queries(
    client, small_practice, monkeypatch
):
    assert login(client, demo.marker_email(demo.LIMA), demo.THERAPIST_PASSWORD).status_code == 302
    views = exporting_views(client.application, "portal")
    assert {view.endpoint for view in views} == {
        "my_clients",
        "my_appointments",
        "my_authorizations",
        "my_requests",
        "my_reservations",
    }

    checked = check_every_export(client, views, monkeypatch)

    total = db.session.scalar(select(func.count(Appointment.id)))
    mine = int(next(line for line in checked if line.startswith("my_appointments")).split()[-1])
    assert 0 < mine < total, checked


def test_batches_neither_lose_nor_repeat_a_row(admin_client, small_practice, monkeypatch):
    """The same file whether the rows are read 500 or 7 at a time."""
    [view] = [v for v in exporting_views(admin_client.application, "admin") if v.endpoint == "appointment"]
    whole = exported_rows(admin_client.get("/admin/appointment/export/csv/", buffered=True), "csv")

    monkeypatch.setattr(view, "export_rows_per_batch", 7)
    batched = exported_rows(admin_client.get("/admin/appointment/export/csv/", buffered=True), "csv")

    assert len(whole) > 100 and batched == whole
    assert len({tuple(row) for row in whole[1:]}) == len(whole) - 1


def test_the_xlsx_holds_text_not_formulas_and_no_character_excel_refuses(admin_client):
    make_client(full_name='=HYPERLINK("http://evil.example.com","x")')
    make_client(full_name="Ana\x0bQuispe", national_id="12345678")
    db.session.commit()

    response = admin_client.get("/admin/client/export/xlsx/")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    [name_column] = [cell.column_letter for cell in sheet[1] if cell.value == "Name"]
    names = sorted((cell.value, cell.data_type) for cell in sheet[name_column][1:])
    assert names == [('\'=HYPERLINK("http://evil.example.com","x")', "s"), ("Ana Quispe", "s")]


# --- cells a spreadsheet would run ----------------------------------------------------------------

HOSTILE = '=HYPERLINK("http://evil.example.com","x")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def runnable_cells(response, export_type: str) -> list[str]:
    """The cells of an export a spreadsheet would run as a formula: text that starts like one (a
    CSV cell that is a plain number, such as -12.5, is a number and stays one)."""
    assert response.status_code == 200, response.status_code
    if export_type == "csv":
        rows = exported_rows(response, "csv")
        cells = [cell for row in rows for cell in row]
        return [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not re.fullmatch(r"-\d+(\.\d+)?", cell)]
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    return [
        cell.value
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type in ("s", "inlineStr", "f") and str(cell.value).startswith(FORMULA_STARTS)
    ]


@pytest.fixture
def hostile_names(small_practice):
    """Every client, therapist and payer of the demo named as an attacker would name them."""
    for model, column in ((Client, Client.full_name), (Therapist, Therapist.full_name), (Payer, Payer.name)):
        named = literal('=HYPERLINK("http://evil.example.com","') + column + literal('")')
        db.session.execute(update(model).values({column: named}))
    db.session.commit()
    assert db.session.scalar(select(func.count(Client.id)).where(Client.full_name.startswith("=H"))) > 10


def test_no_cell_of_any_export_runs_as_a_formula_whatever_its_type(admin_client, hostile_names):
    """Related records (client, therapist, payer), lists of them and computed cells, in every list's
    CSV and XLSX, staff and portal: the writers neutralise every cell that is not a number or a date."""
    checked = []
    for view in exporting_views(admin_client.application, "admin"):
        for export_type in view.export_types:
            url = f"{view.url}/export/{export_type}/"
            db.session.remove()
            response = admin_client.get(url, buffered=True)
            assert runnable_cells(response, export_type) == [], url
            checked.append((url, "'=HYPERLINK" in (response.get_data(as_text=True) if export_type == "csv" else "")))
    # The names were there to neutralise: the appointments' therapists, the payment sources' clients.
    assert ("/admin/appointment/export/csv/", True) in checked
    assert ("/admin/paymentsource/export/csv/", True) in checked

    admin_client.post("/logout")
    assert login(admin_client, demo.marker_email(demo.LIMA), demo.THERAPIST_PASSWORD).status_code == 302
    for view in exporting_views(admin_client.application, "portal"):
        for export_type in view.export_types:
            db.session.remove()
            url = f"{view.url}/export/{export_type}/"
            assert runnable_cells(admin_client.get(url, buffered=True), export_type) == [], url


@pytest.mark.parametrize("export_type", ["csv", "xlsx"])
def test_the_payment_sources_export_shows_a_formula_name_as_text(admin_client, export_type):
    client = make_client(full_name=HOSTILE)
    pays_for(client, make_payer(name="+SUM(1,2)"))
    db.session.commit()

    response = admin_client.get(f"/admin/paymentsource/export/{export_type}/", buffered=True)

    [header, row] = exported_rows(response, export_type)
    cells = dict(zip(header, row, strict=True))
    assert cells["Client"] == f"'{client}"  # the name and the client's number
    assert cells["Payer"] == "'+SUM(1,2)"
    if export_type == "xlsx":  # text stays text, a yes/no stays typed
        sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
        typed = {header[cell.column - 1]: cell.data_type for cell in sheet[2] if cell.value is not None}
        assert typed == {"Client": "s", "Payer": "s", "Active": "b"}


def test_an_authorizations_export_keeps_numbers_and_dates_typed_beside_neutralised_names(admin_client):
    client = make_client(full_name=HOSTILE)
    make_authorization(client, make_payer(name="@payer"), 10, dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    db.session.commit()

    response = admin_client.get("/admin/authorizations/export/xlsx/", buffered=True)

    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header = [cell.value for cell in sheet[1]]
    cells = {header[cell.column - 1]: (cell.value, cell.data_type) for cell in sheet[2]}
    assert cells["Client"] == (f"'{client}", "s")
    assert cells["Payer"] == ("'@payer", "s")
    assert cells["Approved"] == (10, "n")
    assert cells["Remaining"] == (10, "n")
    assert cells["Valid until"] == (dt.datetime(2026, 12, 31), "d")


def test_every_list_export_goes_through_the_spreadsheet_writers(app):
    """No list falls back on Flask-Admin's own export, which writes cells as they come."""
    for area in ("admin", "portal"):
        for view in exporting_views(app, area):
            assert isinstance(view, StreamedExport), view.endpoint
