"""The spreadsheet writers: CSV in chunks that add up to the whole file, XLSX cells typed and safe."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl

from admin_app.services.platform.documents.spreadsheets import csv_chunks, csv_text, write_xlsx

HEADER = ("Name", "Fee", "Day")
ROWS = [("Ana", Decimal("80.50"), dt.date(2026, 1, 31)), ("=1+1", -3, None), ("José\x0bPérez", 0.5, "x")]


def test_the_csv_chunks_add_up_to_the_whole_file():
    chunks = list(csv_chunks(HEADER, ROWS, rows_per_chunk=2))

    assert len(chunks) == 2
    assert "".join(chunks) == csv_text(HEADER, ROWS)
    assert csv_text(HEADER, ROWS).split("\r\n") == [
        "\ufeffName,Fee,Day",
        "Ana,80.50,2026-01-31",
        "'=1+1,-3,",
        "José\x0bPérez,0.5,x",
        "",
    ]


def test_the_xlsx_keeps_numbers_and_dates_typed_and_text_safe():
    file = io.BytesIO()
    write_xlsx(file, HEADER, ROWS)

    sheet = openpyxl.load_workbook(file).active
    rows = [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [("Name", "s"), ("Fee", "s"), ("Day", "s")]
    assert rows[1] == [("Ana", "s"), (80.5, "n"), (dt.datetime(2026, 1, 31), "d")]
    assert rows[2] == [("'=1+1", "s"), (-3, "n"), (None, "n")]
    assert rows[3] == [("José Pérez", "s"), (0.5, "n"), ("x", "s")]
