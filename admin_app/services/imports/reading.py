"""A spreadsheet file to rows: CSV (UTF-8 with or without BOM, comma or semicolon) or XLSX
(first sheet, read with openpyxl). Headers are matched case- and accent-insensitively against
each kind's canonical names and their Spanish aliases; other columns are ignored.

A sheet is read within `IMPORT_MAX_ROWS` rows of `IMPORT_MAX_COLUMNS` columns, counted while it is
read: a workbook of a few KB can declare (in its `<dimension>`, which openpyxl's read-only mode
trusts) or hold a cell a million rows or 16,000 columns out, and reading up to it took 20 s and
900 MB. The declared size is ignored; a value beyond the limits, or more cells read (empty ones
included) than the limits hold, refuses the file."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal

import openpyxl
from flask import current_app
from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.progress import Progress, ignore

XLSX_MAGIC = b"PK\x03\x04"


@dataclasses.dataclass(frozen=True)
class SheetLimits:
    rows: int  # the header row included
    columns: int

    @classmethod
    def configured(cls) -> SheetLimits:
        return cls(rows=current_app.config["IMPORT_MAX_ROWS"], columns=current_app.config["IMPORT_MAX_COLUMNS"])


@dataclasses.dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, str]  # canonical column -> cell text, stripped ("" when empty)


@dataclasses.dataclass(frozen=True)
class Table:
    headers: dict[str, str]  # canonical column -> the header as written in the file
    rows: list[Row]
    ignored: list[str]  # headers of the file that no column of this kind matches
    # Told how many rows were checked as a kind's check walks them (`checked_rows`): a check run in
    # the background shows it on its bar.
    progress: Progress = dataclasses.field(default=ignore, compare=False, repr=False)

    def checked_rows(self) -> Iterator[Row]:
        """The rows, for the one pass of a kind's check that reads each row's cells."""
        total = len(self.rows)
        for done, row in enumerate(self.rows):
            self.progress(done, total)
            yield row
        self.progress(total, total)


def header_key(text: str) -> str:
    """`Teléfono `, `TELEFONO` and `telefono` are the same column."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "_".join(plain.strip().lower().replace("-", " ").split())


def read_table(
    data: bytes, filename: str, columns: Mapping[str, tuple[str, ...]], *, limits: SheetLimits | None = None
) -> Table:
    """`columns` maps each canonical name to its accepted aliases. Raises RuleViolation (field
    "file") when the file cannot be read at all, or holds more than `limits` (the configured ones
    by default)."""
    limits = limits or SheetLimits.configured()
    is_xlsx = data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")
    grid = _xlsx_grid(data, limits) if is_xlsx else _csv_grid(data, limits)
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


def holds_more_rows_than(limit: int, data: bytes, filename: str) -> bool:
    """Whether the file holds more than `limit` data rows, told without reading its cells: a CSV's
    line breaks after the first line, a workbook's `<row ` elements in its first sheet (less the
    header's), counted in the sheet as it is unzipped and only until past `limit`, so a sheet
    declaring or holding a far cell costs nothing here. It only decides where a file is checked
    (at once, or in the background), never what the check finds: a file that cannot be read is
    the check's to refuse, at once (False here)."""
    if not (data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")):
        return data.rstrip(b"\r\n").count(b"\n") > limit
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # as `_xlsx_grid`
        return False
    try:
        # The sheet's XML as stored, unzipped as it is read (openpyxl's reader of a read-only sheet).
        with workbook.worksheets[0]._get_source() as source:
            rows, tail = 0, b""
            while rows <= limit + 1 and (chunk := source.read(64 * 1024)):
                rows += (tail + chunk).count(b"<row ")  # `tail` is too short to hold one alone
                tail = chunk[-4:]
    except Exception:
        return False
    finally:
        workbook.close()
    return rows > limit + 1


def _csv_grid(data: bytes, limits: SheetLimits) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation(
            _l("%(field)s: the file is not UTF-8 text; save it as CSV UTF-8 or as XLSX", field=_l("File")),
            field="file",
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return _bounded_grid(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), limits, str)


def _xlsx_grid(data: bytes, limits: SheetLimits) -> list[list[str]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise RuleViolation(
            _l("%(field)s: the file could not be read as an Excel workbook (XLSX)", field=_l("File")), field="file"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # Without the declared size each row is as long as its last cell and a missing row is empty,
        # instead of every row padded to the declared width and the declared last row.
        sheet.reset_dimensions()
        return _bounded_grid(sheet.iter_rows(values_only=True), limits, _cell_text)
    finally:
        workbook.close()


def _bounded_grid(rows: Iterable[Sequence], limits: SheetLimits, text: Callable[[object], str]) -> list[list[str]]:
    """The rows as text, each up to its last value, read while they are within `limits`; raises
    RuleViolation (field "file") at the first value beyond them, or once more cells were read
    (empty ones and empty rows included) than the limits hold."""
    grid: list[list[str]] = []
    cells_left = limits.rows * limits.columns
    for number, row in enumerate(rows, start=1):
        # An empty row beyond the last row read counts as a full one: a file cannot make the reader
        # walk a million empty rows to the one cell it holds at the end.
        cells_left -= max(len(row), 1 if number <= limits.rows else limits.columns)
        width = _width(row)
        if cells_left < 0 or width > limits.columns or (width and number > limits.rows):
            raise _too_large(limits)
        if number <= limits.rows:
            grid.append([text(value) for value in row[:width]])
    return grid


def _width(row: Sequence) -> int:
    """The number of cells up to the row's last one holding a value."""
    for index in range(len(row) - 1, -1, -1):
        if row[index] is not None and row[index] != "":
            return index + 1
    return 0


def _too_large(limits: SheetLimits) -> RuleViolation:
    return RuleViolation(
        _l(
            "%(field)s: an import reads at most %(rows)s rows of %(columns)s columns, and this sheet holds more; "
            "split it into several files, or keep only the columns the import reads",
            field=_l("File"),
            rows=format_number(limits.rows),
            columns=format_number(limits.columns),
        ),
        field="file",
    )


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
