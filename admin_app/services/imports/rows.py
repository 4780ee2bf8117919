"""What every import kind shares: reading a row's cells into a plan, missing columns, and
lookups of natural keys in chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from flask_babel import lazy_gettext as _l

from admin_app.services.imports.reading import Row, Table
from admin_app.services.imports.report import ImportPlan
from admin_app.services.imports.values import CellError

Key = TypeVar("Key", str, int)
CHUNK = 1000  # keys per IN (...) lookup: a few queries for any file, within every driver's limits


def chunks(items: Iterable[Key]) -> Iterator[list[Key]]:
    listed = list(items)
    for start in range(0, len(listed), CHUNK):
        yield listed[start : start + CHUNK]


def report_missing_columns(
    plan: ImportPlan, table: Table, required: Iterable[str], columns: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """One error per required column the file lacks (not one per row); returns those columns."""
    missing = [name for name in required if name not in table.headers]
    for name in missing:
        accepted = ", ".join((name, *columns[name]))
        plan.error(1, name, _l("the column is missing (accepted headers: %(names)s)", names=accepted))
    return missing


class Cells:
    """Reads one row's cells with the parsers of `values`, recording every bad cell on the plan.

    The cells of a missing column are not reported again (the column already is), but the row
    is still marked as failed.
    """

    def __init__(self, plan: ImportPlan, table: Table, row: Row) -> None:
        self.plan, self.table, self.row = plan, table, row
        self.ok = True

    def __call__(self, name: str, parse, **options):
        try:
            return parse(self.row.values.get(name, ""), **options)
        except CellError as error:
            self.fail(name, error.reason)
            return None

    def fail(self, name: str, reason) -> None:
        self.ok = False
        if name in self.table.headers:
            self.plan.error(self.row.number, self.table.headers[name], reason)
