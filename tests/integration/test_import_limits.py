"""An import reads a sheet within `IMPORT_MAX_ROWS` rows of `IMPORT_MAX_COLUMNS` columns, counted as
it reads: a workbook of a couple of KB that declares or holds a cell a million rows or 16,000
columns out is refused at once, naming the limits, instead of taking 20 s and 900 MB. The files are
crafted as an attacker would, by editing the sheet's XML inside the workbook's zip."""

from __future__ import annotations

import io
import re
import time
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Therapist
from tests.conftest import login
from tests.factories import make_admin
from tests.integration.test_import_people import THERAPISTS, csv_bytes
from tests.integration.test_import_screen import INDEX, PREVIEW, preview_counts, upload, waiting_files
from tests.integration.test_import_screen import uploads as uploads  # the fixture
from tests.pages import body, flashed

REFUSED = (
    "File: an import reads at most 50,000 rows of 100 columns, and this sheet holds more; "
    "split it into several files, or keep only the columns the import reads"
)
QUICK_SECONDS = 3  # the whole request; a sheet read up to row 1,048,576 took 20 s
SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def crafted(rows: list[list[str]], *, dimension: str | None = None, extra_rows: str = "") -> bytes:
    """`rows` as a workbook whose sheet declares `dimension` and holds `extra_rows` (sheet XML) too."""
    source = zipfile.ZipFile(io.BytesIO(workbook(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == SHEET:
                xml = data.decode()
                if dimension:
                    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', xml)
                xml = xml.replace("</sheetData>", f"{extra_rows}</sheetData>")
                data = xml.encode()
            target.writestr(item, data)
    return out.getvalue()


def far_cell(reference: str, row: int) -> str:
    return f'<row r="{row}"><c r="{reference}" t="inlineStr"><is><t>x</t></is></c></row>'


def timed_upload(client, data: bytes):
    started = time.monotonic()
    upload(client, "therapists", data, "therapists.xlsx")
    response = client.get(PREVIEW, follow_redirects=True)
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    "data",
    [
        crafted(THERAPISTS, dimension="A1:XFD1048576", extra_rows=far_cell("A1048576", 1048576)),
        crafted(THERAPISTS, dimension="A1:XFD1048576", extra_rows=far_cell("XFD1048576", 1048576)),
        crafted(THERAPISTS, extra_rows=far_cell("XFD10", 10)),
        crafted(THERAPISTS, extra_rows=far_cell("CX4", 4)),  # column 102
        crafted(THERAPISTS, extra_rows=far_cell("A50001", 50001)),
        # Empty but styled cells far out: nothing beyond the limits, yet more cells than they hold.
        crafted(THERAPISTS, extra_rows="".join(f'<row r="{n}"><c r="XFD{n}" s="0"/></row>' for n in range(4, 400))),
    ],
    ids=["row-1048576", "cell-XFD1048576", "column-XFD", "column-101", "row-50001", "styled-empty-cells"],
)
def test_a_small_workbook_holding_cells_beyond_the_limits_is_refused_at_once(admin_client, uploads, data):
    assert len(data) < 10_000

    response, seconds = timed_upload(admin_client, data)

    assert seconds < QUICK_SECONDS
    assert response.request.path == INDEX
    assert flashed(response) == [REFUSED]
    assert waiting_files(uploads) == []
    assert db.session.scalar(select(func.count(Therapist.id))) == 0


def test_a_workbook_that_only_declares_a_huge_sheet_is_read_as_what_it_holds(admin_client, uploads):
    data = crafted(THERAPISTS, dimension="A1:XFD1048576")
    assert len(data) < 10_000

    response, seconds = timed_upload(admin_client, data)

    assert seconds < QUICK_SECONDS
    assert response.request.path == PREVIEW
    assert preview_counts(body(response)) == {"created": 2, "updated": 0, "unchanged": 0}


def test_a_csv_beyond_the_limits_is_refused_too(admin_client, uploads, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 2)
    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "therapists.csv")

    response = admin_client.get(PREVIEW, follow_redirects=True)

    assert flashed(response) == [
        "File: an import reads at most 2 rows of 100 columns, and this sheet holds more; "
        "split it into several files, or keep only the columns the import reads"
    ]


def test_the_limits_are_the_practices_own(admin_client, uploads, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 6)  # the therapists import's six columns
    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "therapists.csv")

    response = admin_client.get(PREVIEW, follow_redirects=True)

    assert response.request.path == PREVIEW
    assert preview_counts(body(response)) == {"created": 2, "updated": 0, "unchanged": 0}


def test_the_refusal_is_in_the_users_language(client, uploads):
    make_admin(email="personal@example.com", locale="es")
    db.session.commit()
    login(client, "personal@example.com")

    response, _seconds = timed_upload(client, crafted(THERAPISTS, extra_rows=far_cell("XFD10", 10)))

    assert flashed(response) == [
        "Archivo: una importación lee como máximo 50.000 filas de 100 columnas, y esta hoja tiene más; "
        "divídala en varios archivos o deje solo las columnas que la importación lee"
    ]
