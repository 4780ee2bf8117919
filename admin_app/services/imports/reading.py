"""A spreadsheet file to rows: CSV (UTF-8 with or without BOM, comma or semicolon) or XLSX
(first sheet, read with openpyxl). Headers are matched case- and accent-insensitively against
each kind's canonical names and their Spanish aliases; other columns are ignored."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping
from decimal import Decimal

import openpyxl
from flask_babel import lazy_gettext as _l

from admin_app.services.platform.errors import RuleViolation

XLSX_MAGIC = b"PK\x03\x04"


@dataclasses.dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, str]  # canonical column -> cell text, stripped ("" when empty)


@dataclasses.dataclass(frozen=True)
class Table:
    headers: dict[str, str]  # canonical column -> the header as written in the file
    rows: list[Row]
    ignored: list[str]  # headers of the file that no column of this kind matches


def header_key(text: str) -> str:
    """`Teléfono `, `TELEFONO` and `telefono` are the same column."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "_".join(plain.strip().lower().replace("-", " ").split())


def read_table(data: bytes, filename: str, columns: Mapping[str, tuple[str, ...]]) -> Table:
    """`columns` maps each canonical name to its accepted aliases. Raises RuleViolation (field
    "file") when the file cannot be read at all."""
    is_xlsx = data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")
    grid = _xlsx_grid(data) if is_xlsx else _csv_grid(data)
    if not grid or not any(cell.strip() for cell in grid[0]):
        raise RuleViolation(_l("%(field)s: the file has no header row", field=_l("File")), field="file")
    lookup = {header_key(alias): name for name, aliases in columns.items() for alias in (name, *aliases)}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(grid[0]):
        name = lookup.get(header_key(header))
        if name is None or name in positions:
            if header.strip():
                ignored.append(header.strip())
            continue
        positions[name], headers[name] = index, header.strip()
    rows = []
    for number, cells in enumerate(grid[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: (cells[index].strip() if index < len(cells) else "") for name, index in positions.items()}
        rows.append(Row(number=number, values=values))
    return Table(headers=headers, rows=rows, ignored=ignored)


def _csv_grid(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation(
            _l("%(field)s: the file is not UTF-8 text; save it as CSV UTF-8 or as XLSX", field=_l("File")),
            field="file",
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_grid(data: bytes) -> list[list[str]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise RuleViolation(
            _l("%(field)s: the file could not be read as an Excel workbook (XLSX)", field=_l("File")), field="file"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """An Excel cell as the text a CSV would hold: dates as ISO, whole numbers without `.0`."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(str(value)))
    return str(value)
