"""Stored instants worked out by the database, on both databases, so that a set statement
(`INSERT ... SELECT`) can write dates of service and durations without reading its rows into Python:
an instant's clinic-local date (`local_date`) and its seconds since 1970 (`epoch_seconds`).

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


class epoch_seconds(FunctionElement):
    """`epoch_seconds(instant)`: the whole seconds of a stored instant since 1970-01-01 UTC, in SQL."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    # SQLite holds an instant as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (models.base.UTCDateTime).
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"
