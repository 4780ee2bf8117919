"""Locks the databases need around a look-then-write (PostgreSQL has its own in the services)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def hold_sqlite_write_lock(session: Session) -> None:
    """Take SQLite's write lock (RESERVED) for the rest of the transaction, before looking.

    pysqlite opens a transaction only at the first write (its default, which we keep), so two
    connections could each look, find the slot free, and insert one after the other. A write
    that changes nothing takes the lock: pysqlite issues its BEGIN just before it, and a second
    booking blocks on that same statement (up to the busy timeout) until the first commits or
    rolls back, then looks and sees the winner. Because nothing was read inside the transaction
    before it, SQLite waits there rather than failing at once with "database is locked". It also
    makes SAVEPOINTs work: pysqlite does not BEGIN before a SAVEPOINT, whose RELEASE would then
    commit on its own (and a later rollback would undo nothing). Readers
    are not blocked, and SQLite allows one writer at a time anyway: the lock is only taken a
    moment earlier.

    Why not `BEGIN IMMEDIATE` for the whole engine (SQLAlchemy's recipe of taking over pysqlite's
    BEGIN): every transaction, reads included, would queue for the one write lock, and a
    transaction cannot know at BEGIN that it will book (the screens read first).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE app_role SET id = id WHERE 0"))


def serialize(session: Session, key: int) -> None:
    """Make transactions that call this with the same `key` run one after the other (until
    commit): a PostgreSQL advisory lock, SQLite's write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        hold_sqlite_write_lock(session)
