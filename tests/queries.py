"""Counting the SQL statements a request or a service call sends."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from admin_app.extensions import db


@contextmanager
def counted_queries():
    """Yield a list that fills with every statement sent to the app's engine meanwhile, but the
    session store's (one read a request, a write at most once a minute: the same for every page)."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "web_session" not in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
