"""Times worked out by the database, on both databases, so that a set statement (`INSERT ... SELECT`)
or an aggregate reads no row into Python: an instant's clinic-local date (`local_date`), and whole
numbers to compare and subtract (`epoch_seconds`, `day_seconds`, `day_number`).

PostgreSQL converts with its own zone database. SQLite has none: each SQLite connection gets the
function `clinic_local_date(instant, zone)` (`register_sqlite`), the same conversion in Python
(`clinic_time.to_local`), on the naive UTC text SQLite keeps an instant as (`models.base.UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from admin_app.services.platform import clinic_time

SQLITE_FUNCTION = "clinic_local_date"


class local_date(FunctionElement):
    """`local_date(instant)`: the date at the clinic (or in `zone`) of a stored instant, in SQL."""

    type = Date()
    inherit_cache = True
    name = "local_date"

    def __init__(self, instant, zone: ZoneInfo | None = None):
        super().__init__(instant, literal((zone or clinic_time.clinic_zone()).key))


@compiles(local_date, "postgresql")
def _local_date_postgresql(element, compiler, **kw):
    instant, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(timezone({zone}, {instant}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


def register_sqlite(connection: sqlite3.Connection) -> None:
    """Give a SQLite connection `clinic_local_date`."""
    connection.create_function(SQLITE_FUNCTION, 2, _sqlite_local_date, deterministic=True)


def _sqlite_local_date(instant: str | None, zone: str) -> str | None:
    if instant is None:
        return None
    utc = dt.datetime.fromisoformat(instant).replace(tzinfo=dt.UTC)
    return clinic_time.to_local(utc, ZoneInfo(zone)).date().isoformat()


class _Whole(FunctionElement):
    """A whole number SQL works out from a column, written for each dialect below: the seconds of an
    instant since 1970 (`epoch_seconds`), of a time of day since midnight (`day_seconds`), the days
    of a date since 1970 (`day_number`)."""

    type = BigInteger()
    inherit_cache = True


class epoch_seconds(_Whole):
    name = "epoch_seconds"
    inherit_cache = True


class day_seconds(_Whole):
    name = "day_seconds"
    inherit_cache = True


class day_number(_Whole):
    name = "day_number"
    inherit_cache = True


# Each whole number's SQL per dialect, around the column's. SQLite holds an instant as naive UTC text,
# 'YYYY-MM-DD HH:MM:SS.ffffff' (models.base.UTCDateTime), and a time as 'HH:MM:SS.ffffff': read on
# 1970-01-01, its epoch seconds are the day's seconds.
_WHOLE_SQL = {
    (day_number, "postgresql"): "(CAST({} AS DATE) - DATE '1970-01-01')",
    (day_number, "sqlite"): "CAST(julianday({}) - 2440587.5 AS INTEGER)",
    (epoch_seconds, "postgresql"): "CAST(EXTRACT(EPOCH FROM {}) AS BIGINT)",
    (epoch_seconds, "sqlite"): "CAST(strftime('%s', {}) AS INTEGER)",
    (day_seconds, "postgresql"): "CAST(EXTRACT(EPOCH FROM {}) AS BIGINT)",
    (day_seconds, "sqlite"): "CAST(strftime('%s', '1970-01-01 ' || {}) AS INTEGER)",
}


def _compile_whole(construct: type[_Whole], dialect: str, template: str) -> None:
    @compiles(construct, dialect)
    def _whole(element, compiler, **kw):
        return template.format(compiler.process(element.clauses, **kw))


for (_construct, _dialect), _template in _WHOLE_SQL.items():
    _compile_whole(_construct, _dialect, _template)
