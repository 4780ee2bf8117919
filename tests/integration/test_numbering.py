"""Gap-free numbering (invoices, credit notes and receipts will use it, client numbers already do): each
series counts 1, 2, 3 ... in the order transactions commit; a rolled-back transaction gives its number
back; and takers in many processes at once never share or skip a number (PostgreSQL's row lock, or
SQLite's write lock, held until the taker's transaction ends)."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from admin_app.extensions import db
from admin_app.models.numbering import NumberCounter
from admin_app.services.platform.documents.numbering import next_number, next_numbers, reserve_given_number

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's row lock (TEST_DATABASE_URL)")
SERIES = "invoice-test"
TAKERS = 20


def counter(series: str = SERIES) -> int | None:
    return db.session.scalar(select(NumberCounter.last_value).where(NumberCounter.series == series))


def test_a_series_counts_from_one_and_each_series_on_its_own(app):
    assert [next_number(db.session, SERIES) for _ in range(3)] == [1, 2, 3]
    assert next_number(db.session, "receipt-test") == 1
    assert list(next_numbers(db.session, SERIES, 4)) == [4, 5, 6, 7]
    db.session.commit()

    assert counter() == 7 and counter("receipt-test") == 1


def test_a_rolled_back_transaction_gives_its_numbers_back(app):
    assert next_number(db.session, SERIES) == 1
    db.session.commit()

    assert list(next_numbers(db.session, SERIES, 3)) == [2, 3, 4]
    db.session.rollback()
    assert next_number(db.session, SERIES) == 2
    db.session.rollback()  # even the counter's first use can be rolled back
    assert next_number(db.session, "receipt-test") == 1
    db.session.rollback()

    assert next_number(db.session, SERIES) == 2
    assert next_number(db.session, "receipt-test") == 1
    db.session.commit()
    assert counter() == 2


def test_a_number_given_by_hand_is_never_handed_out(app):
    next_number(db.session, SERIES)
    reserve_given_number(db.session, SERIES, "40")
    reserve_given_number(db.session, SERIES, "7")  # below the counter: nothing moves
    reserve_given_number(db.session, SERIES, "F-99")  # not a number of the series
    assert next_number(db.session, SERIES) == 41


def test_a_second_taker_waits_for_the_first_to_end_its_transaction(app):
    """While one transaction holds a number, another taker blocks; when the first rolls back, the
    second gets that very number."""
    engine = sa.create_engine(db.engine.url, poolclass=NullPool)
    try:
        with Session(engine) as first:
            assert next_number(first, SERIES) == 1
            context = takers_context()
            with context.Pool(1) as pool:
                waiting = pool.apply_async(_take, (_url(), SERIES, None, False))
                time.sleep(1.0)
                assert not waiting.ready(), "the second taker did not wait for the counter's lock"
                first.rollback()
                assert waiting.get(timeout=30) == 1
    finally:
        engine.dispose()
    assert counter() == 1


@postgres_only
def test_twenty_processes_at_once_get_one_to_twenty_and_rollbacks_leave_no_gap(app):
    """20 processes, each with its own engine and transaction, start together; every other one first
    takes a number and rolls back. The committed numbers are exactly 1..20."""
    context = takers_context()
    with context.Manager() as manager, context.Pool(TAKERS) as pool:
        start = manager.Barrier(TAKERS, timeout=60)
        takers = [(_url(), SERIES, start, number % 2 == 0) for number in range(TAKERS)]
        taken = pool.starmap(_take, takers, chunksize=1)

    assert sorted(taken) == list(range(1, TAKERS + 1))
    assert counter() == TAKERS


def takers_context():
    """Processes forked from a fresh interpreter that has imported this module once: no connection
    of the tests' is shared with a taker, and twenty takers start in a moment."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _url() -> str:
    """The test database's URL for another process (PostgreSQL's carries the tests' schema)."""
    return db.engine.url.render_as_string(hide_password=False)


def _take(url: str, series: str, start, roll_back_first: bool) -> int:
    """In a process of its own: wait for the others, optionally take a number and roll it back, then
    take one and commit it, holding the lock a moment so the takers overlap."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        if start is not None:
            start.wait()
        with Session(engine) as session:
            if roll_back_first:
                next_number(session, series)
                time.sleep(0.01)
                session.rollback()
            number = next_number(session, series)
            time.sleep(0.01)
            session.commit()
            return number
    finally:
        engine.dispose()
