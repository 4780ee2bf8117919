"""Numbers of a series (client numbers; invoices, credit notes and receipts next), taken in the
caller's transaction: no gaps, no duplicates (models/numbering.py).

The counter row stays locked until the caller commits or rolls back (a row lock on PostgreSQL, the
write lock on SQLite): concurrent takers queue, and a rollback gives the number back. So take the
number late, just before the flush that uses it, and commit soon after.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from admin_app.models.numbering import raise_counter, take_numbers


def next_number(session: Session, series: str) -> int:
    """The next number of `series`, held until the caller's transaction ends."""
    return take_numbers(session.connection(), series)[0]


def next_numbers(session: Session, series: str, count: int = 1) -> range:
    """The next `count` numbers of `series`, held until the caller's transaction ends."""
    return take_numbers(session.connection(), series, count)


def reserve_given_number(session: Session, series: str, number: str) -> None:
    """A number typed or imported by hand is never handed out again by the counter."""
    if number.isdigit():
        raise_counter(session.connection(), series, int(number))
