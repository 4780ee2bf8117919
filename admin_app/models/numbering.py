"""Counters behind the practice's numbers (client numbers now; invoices, credit notes and receipts next).

Taking a number updates the counter row, so its lock (a row lock on PostgreSQL, the write lock on
SQLite) is held until the taker's transaction ends: concurrent takers queue, and a rollback gives
the number back, so a series has neither gaps nor duplicates. The statements work on a Core
connection so that a column default can take a number inside any INSERT, bulk ones included.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import BigInteger, Connection, String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import Base


class NumberCounter(Base):
    """The last number handed out in a series."""

    __tablename__ = "number_counter"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)


_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _ensure_counter(connection: Connection, series: str) -> None:
    insert = _INSERT[connection.dialect.name]
    connection.execute(insert(NumberCounter).values(series=series, last_value=0).on_conflict_do_nothing())


def take_numbers(connection: Connection, series: str, count: int = 1) -> range:
    """The next `count` numbers of `series`.

    One statement creates the counter on first use or moves it, and so takes its lock: a second
    taker of a new series waits for the first one's INSERT to commit or roll back, then moves the
    counter it finds (or creates it), never a duplicate.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    insert = _INSERT[connection.dialect.name](NumberCounter).values(series=series, last_value=count)
    last = connection.execute(
        insert.on_conflict_do_update(
            index_elements=[NumberCounter.series], set_={"last_value": NumberCounter.last_value + count}
        ).returning(NumberCounter.last_value)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def raise_counter(connection: Connection, series: str, value: int) -> None:
    """The series will never hand out `value` or below (a number someone gave by hand)."""
    _ensure_counter(connection, series)
    connection.execute(
        update(NumberCounter)
        .where(NumberCounter.series == series, NumberCounter.last_value < value)
        .values(last_value=value)
    )


def number_default(series: str) -> Callable:
    """A column default that takes the next number of `series` for every row inserted without one."""

    def default(context) -> str | None:
        if context is None:  # a form asking what to pre-fill (Flask-Admin): the number comes at insert
            return None
        return str(take_numbers(context.connection, series)[0])

    return default
