"""Files the practice opens in a spreadsheet: CSV that Excel reads with accents, XLSX written row by
row, and cells that cannot run as formulas (CSV injection)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS_PER_CHUNK = 500
SHEET_TITLE_MAX = 31
SHEET_TITLE_REFUSED = re.compile(r"[\[\]:*?/\\]")


def neutralise_formula(value):
    """A cell a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """UTF-8 CSV text with a BOM (so Excel reads accents right), every text cell neutralised;
    numbers stay numbers (a negative NPS is -12.5, not '-12.5)."""
    return "".join(csv_chunks(header, rows))


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, rows_per_chunk: int = ROWS_PER_CHUNK
) -> Iterator[str]:
    """The same CSV text as `csv_text`, a few hundred rows at a time: a download streams it while the
    rows are read, and neither the rows nor the text are ever all in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_cell(cell) for cell in header])
    for number, row in enumerate(rows, start=1):
        writer.writerow([_cell(cell) for cell in row])
        if number % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(file: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """An XLSX workbook of one sheet into `file`, in openpyxl's write-only mode: each row goes to
    disk as it comes, so a list of any length takes the same memory. Text is neutralised as in the
    CSV (a leading = would otherwise be stored as a formula); numbers and dates stay typed."""
    write_workbook(file, [Sheet(None, itertools.chain([header], rows))])


@dataclasses.dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its tab's title (None: the default) and its rows, written as they come."""

    title: str | None
    rows: Iterable[Sequence[object]]


def write_workbook(file: BinaryIO, sheets: Iterable[Sheet]) -> None:
    """An XLSX workbook of these sheets, in order, into `file`, each written as `write_xlsx` writes one."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        written = workbook.create_sheet(title=None if sheet.title is None else sheet_title(sheet.title))
        for row in sheet.rows:
            written.append([_xlsx_cell(cell) for cell in row])
    workbook.save(file)


def sheet_title(text: str) -> str:
    """A tab's title as Excel allows it: no []:*?/\\ and at most 31 characters."""
    return SHEET_TITLE_REFUSED.sub("-", text)[:SHEET_TITLE_MAX] or "-"


def _cell(value: object) -> str:
    """A cell's text: a number as it is, anything else (text, a related record, a label, a lazy
    string, markup) as its text, neutralised. The one place exports neutralise: a list's
    `get_export_value` hands over values of any type."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return neutralise_formula(str(value))


def _xlsx_cell(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    # XLSX cannot hold control characters; the ones pasted text carries (a vertical tab or form feed
    # from a word processor's line break) separate words, so each becomes a space.
    return ILLEGAL_CHARACTERS_RE.sub(" ", _cell(value))
