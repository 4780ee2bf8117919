"""What decides that a file is checked in the background (its rows, told without reading them), and
how a check tells its progress: one call per row checked, ending at the total."""

from __future__ import annotations

import dataclasses
import io

import openpyxl
import pytest

from admin_app.services.imports import clients
from admin_app.services.imports.reading import SheetLimits, holds_more_rows_than, read_table


def xlsx_of(rows: int) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["name", "national_id"])
    for n in range(rows):
        book.active.append([f"Client {n}", f"4{n:07d}"])
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "rows"),
    [
        (b"name,national_id\nAna,1\nBeto,2\n", "c.csv", 2),
        (b"name,national_id\r\nAna,1\r\nBeto,2", "c.csv", 2),
        (b"name,national_id\n", "c.csv", 0),
        (b"", "c.csv", 0),
        (xlsx_of(700), "c.xlsx", 700),
        (xlsx_of(3), "c.xlsx", 3),
    ],
)
def test_the_rows_a_file_holds_are_told_without_reading_them(data, filename, rows):
    assert holds_more_rows_than(rows - 1, data, filename)
    assert not holds_more_rows_than(rows, data, filename)


def test_a_file_that_cannot_be_read_is_for_the_check_at_once():
    assert not holds_more_rows_than(0, b"PK\x03\x04 not a workbook", "c.xlsx")


def test_a_check_tells_each_row_it_reaches_and_ends_at_the_total():
    data = b"name,national_id\n" + b"".join(f"Client {n},4{n:07d}\n".encode() for n in range(3))
    told: list[tuple[int, int]] = []
    table = read_table(data, "c.csv", clients.COLUMNS, limits=SheetLimits(rows=10, columns=10))

    rows = list(dataclasses.replace(table, progress=lambda done, total: told.append((done, total))).checked_rows())

    assert [row.number for row in rows] == [2, 3, 4]
    assert told == [(0, 3), (1, 3), (2, 3), (3, 3)]
